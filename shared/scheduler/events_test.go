package scheduler

import (
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/placement"
)

func TestMessages(t *testing.T) {
	cases := []struct{ got, want string }{
		{SteadyStateMessage("web"), "service web has reached a steady state."},
		{StartImpairedMessage("web"), "service web is unable to consistently start tasks successfully."},
		{DeploymentConfigurationMessage("web"), "service web was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again."},
		{StoppedTasksMessage("web", []string{"a1"}), "service web has stopped 1 running tasks: task a1."},
		{StoppedTasksMessage("web", []string{"a1", "b2"}), "service web has stopped 2 running tasks: task a1 task b2."},
		{StartedTasksMessage("web", []string{"c3", "d4"}), "service web has started 2 tasks: task c3 task d4."},
		{InProgressReason("ecs-svc/1234567890123456789"), "ECS deployment ecs-svc/1234567890123456789 in progress."},
		{CompletedReason("ecs-svc/1234567890123456789"), "ECS deployment ecs-svc/1234567890123456789 completed."},
		{RollbackReason(false, "ecs-svc/1234567890123456789"), "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1234567890123456789."},
		{RollbackReason(true, "ecs-svc/1234567890123456789"), "ECS deployment alarms: rolling back to deploymentId ecs-svc/1234567890123456789."},
		{AlarmFailureReason([]string{"p99", "errors"}), "ECS deployment alarms: p99, errors in ALARM state."},
		{CircuitBreakerStartFailure, "ECS deployment circuit breaker: task failed to start."},
		{
			placement.UnableToPlaceMessage("web", placement.Result{Unplaced: 1, Closest: &placement.Rejection{ID: "0123abcd", Reason: placement.ReasonMemory}}),
			"service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance 0123abcd has insufficient memory available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
		},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
}

func TestIDs(t *testing.T) {
	g := newIDs(42, t0)
	seen := map[string]bool{}
	for range 1000 {
		d := g.deploymentID()
		if !strings.HasPrefix(d, "ecs-svc/") || len(d) != len("ecs-svc/")+19 || d[8] == '0' {
			t.Fatalf("deployment ID %q is not ecs-svc/ and 19 digits", d)
		}
		e, id := g.eventID(), g.taskID()
		if len(e) != 36 || e[14] != '4' || len(id) != 32 {
			t.Fatalf("event ID %q / task ID %q malformed", e, id)
		}
		for _, s := range []string{d, e, id} {
			if seen[s] {
				t.Fatalf("ID %s drawn twice", s)
			}
			seen[s] = true
		}
	}
	if a, b := newIDs(42, t0), newIDs(42, t0); a.taskID() != b.taskID() {
		t.Error("the same seed and time gave different IDs")
	}
	if newIDs(42, t0).taskID() == newIDs(42, t0.Add(1)).taskID() {
		t.Error("a reused seed at another time gave the same ID")
	}
	if got := DeploymentIDFrom(0); got != "ecs-svc/1000000000000000000" {
		t.Errorf("DeploymentIDFrom(0) = %s", got)
	}
}
