package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/bus"
)

// TestTasksAcrossThreeZones is the tasks issue's end-to-end scenario with
// the process driver, through the official SDK: three agents in three
// zones, spread placement, memberOf, StopTask, a SIGKILLed process, a lost
// agent, and the events all of it emits.
func TestTasksAcrossThreeZones(t *testing.T) {
	c := newCluster(t, "tasks")
	ctx := context.Background()
	taskEvents := record(t, c.plane, `{"source":["berth"],"detail-type":["ECS Task State Change"]}`)
	instanceEvents := record(t, c.plane, `{"source":["berth"],"detail-type":["ECS Container Instance State Change"]}`)
	agents := []*hostAgent{
		c.startAgent("tasks", t.TempDir(), "us-east-1a", "t3.small"),
		c.startAgent("tasks", t.TempDir(), "us-east-1b", "t3.small"),
		c.startAgent("tasks", t.TempDir(), "us-east-1c", "m5.large"),
	}
	td, err := c.ecs.RegisterTaskDefinition(ctx, &sdkecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{c.testappContainer("app")}})
	check(t, err)
	tdArn := aws.ToString(td.TaskDefinition.TaskDefinitionArn)

	run, err := c.ecs.RunTask(ctx, &sdkecs.RunTaskInput{Cluster: aws.String("tasks"), TaskDefinition: aws.String(tdArn), Count: aws.Int32(9),
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}})
	check(t, err)
	if len(run.Tasks) != 9 {
		t.Fatalf("RunTask started %d tasks, failures %+v", len(run.Tasks), run.Failures)
	}
	arns := taskArns(run.Tasks)
	running := c.waitTasks("tasks", arns, "9 tasks RUNNING", 60*time.Second, lastStatus("RUNNING"))
	perZone := map[string]int{}
	for _, task := range running {
		perZone[aws.ToString(task.AvailabilityZone)]++
		if body := httpGet(t, hostPort(t, task)); !strings.Contains(body, "testapp ok") {
			t.Errorf("task %s on its host port answered %q", aws.ToString(task.TaskArn), body)
		}
	}
	if perZone["us-east-1a"] != 3 || perZone["us-east-1b"] != 3 || perZone["us-east-1c"] != 3 {
		t.Errorf("tasks per zone = %v, want 3 in each", perZone)
	}

	member, err := c.ecs.RunTask(ctx, &sdkecs.RunTaskInput{Cluster: aws.String("tasks"), TaskDefinition: aws.String(tdArn), Count: aws.Int32(2),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.instance-type == m5.large")}}})
	check(t, err)
	for _, task := range member.Tasks {
		if aws.ToString(task.ContainerInstanceArn) != agents[2].ContainerInstanceArn() {
			t.Errorf("memberOf m5.large placed a task on %s", aws.ToString(task.ContainerInstanceArn))
		}
	}
	if len(member.Tasks) != 2 {
		t.Errorf("memberOf RunTask = %d tasks, failures %+v", len(member.Tasks), member.Failures)
	}
	impossible, err := c.ecs.RunTask(ctx, &sdkecs.RunTaskInput{Cluster: aws.String("tasks"), TaskDefinition: aws.String(tdArn),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.instance-type == p4d.24xlarge")}}})
	check(t, err)
	if len(impossible.Tasks) != 0 || len(impossible.Failures) != 1 || aws.ToString(impossible.Failures[0].Reason) != "ATTRIBUTE" {
		t.Errorf("impossible memberOf = %d tasks, failures %+v", len(impossible.Tasks), impossible.Failures)
	}

	stopped := arns[0]
	_, err = c.ecs.StopTask(ctx, &sdkecs.StopTaskInput{Cluster: aws.String("tasks"), Task: aws.String(stopped), Reason: aws.String("e2e")})
	check(t, err)
	done := c.waitTasks("tasks", []string{stopped}, "the stopped task STOPPED", 15*time.Second, lastStatus("STOPPED"))[0]
	if done.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(done.StoppedReason) != "e2e" || done.Containers[0].ExitCode == nil {
		t.Errorf("stopped task = stopCode %s reason %q containers %+v", done.StopCode, aws.ToString(done.StoppedReason), done.Containers)
	}

	killed := running[1]
	check(t, syscall.Kill(pidOf(t, hostPort(t, killed)), syscall.SIGKILL))
	dead := c.waitTasks("tasks", []string{aws.ToString(killed.TaskArn)}, "the killed task STOPPED", 15*time.Second, lastStatus("STOPPED"))[0]
	if dead.Containers[0].ExitCode == nil || *dead.Containers[0].ExitCode != 137 || dead.StopCode != types.TaskStopCodeEssentialContainerExited {
		t.Errorf("killed task = stopCode %s containers %+v", dead.StopCode, dead.Containers)
	}

	lost := agents[0]
	var onLost []string
	for _, task := range c.describeTasks("tasks", arns[2:]) {
		if aws.ToString(task.ContainerInstanceArn) == lost.ContainerInstanceArn() && aws.ToString(task.LastStatus) == "RUNNING" {
			onLost = append(onLost, aws.ToString(task.TaskArn))
		}
	}
	lost.kill()
	testenv.Eventually(t, 20*time.Second, "the killed agent disconnected", func() bool {
		d, err := c.ecs.DescribeContainerInstances(ctx, &sdkecs.DescribeContainerInstancesInput{Cluster: aws.String("tasks"), ContainerInstances: []string{lost.ContainerInstanceArn()}})
		return err == nil && len(d.ContainerInstances) == 1 && !d.ContainerInstances[0].AgentConnected
	})
	for _, task := range c.waitTasks("tasks", onLost, "the lost host's tasks STOPPED", 30*time.Second, lastStatus("STOPPED")) {
		if !strings.Contains(aws.ToString(task.StoppedReason), "Host lost") {
			t.Errorf("lost task stoppedReason = %q", aws.ToString(task.StoppedReason))
		}
	}
	// The process of a lost task still runs (its agent is gone): stop it
	// as the returning agent would, so the test leaves nothing behind.
	back := c.startAgent("tasks", lost.Config().DataDir, "us-east-1a", "t3.small")
	if back.ContainerInstanceArn() != lost.ContainerInstanceArn() {
		t.Errorf("the restarted agent registered as %s, was %s", back.ContainerInstanceArn(), lost.ContainerInstanceArn())
	}

	checkOncePerVersion(t, taskEvents.snapshot(), append(arns, taskArns(member.Tasks)...))
	checkInstanceDisconnectEvent(t, instanceEvents.snapshot(), lost.ContainerInstanceArn())
}

// checkOncePerVersion: every version of every task was announced, each
// exactly once, and in the version's own state.
func checkOncePerVersion(t *testing.T, events []bus.Event, arns []string) {
	t.Helper()
	seen := map[string]map[int64]int{}
	final := map[string]int64{}
	for _, e := range events {
		d, err := bus.Decode[bus.TaskStateChange](e)
		check(t, err)
		task := d.Task
		if seen[task.TaskArn] == nil {
			seen[task.TaskArn] = map[int64]int{}
		}
		seen[task.TaskArn][task.Version]++
		final[task.TaskArn] = max(final[task.TaskArn], task.Version)
		if e.Resources[0] != task.TaskArn || task.ClusterArn == "" || task.Group == "" {
			t.Errorf("event %s: resources %v, clusterArn %q, group %q", e.ID, e.Resources, task.ClusterArn, task.Group)
		}
	}
	for _, arn := range arns {
		if final[arn] < 2 {
			t.Errorf("task %s: only versions up to %d announced", arn, final[arn])
			continue
		}
		for v := int64(1); v <= final[arn]; v++ {
			if n := seen[arn][v]; n != 1 {
				t.Errorf("task %s version %d announced %d times, want once", arn, v, n)
			}
		}
	}
}

func checkInstanceDisconnectEvent(t *testing.T, events []bus.Event, arn string) {
	t.Helper()
	connected, disconnected := false, false
	for _, e := range events {
		d, err := bus.Decode[bus.ContainerInstanceStateChange](e)
		check(t, err)
		ci := d.ContainerInstance()
		if ci.ContainerInstanceArn != arn {
			continue
		}
		if ci.AgentConnected {
			connected = true
		} else if connected {
			disconnected = true
		}
	}
	if !connected || !disconnected {
		t.Errorf("instance %s events: connected %v, then disconnected %v", arn, connected, disconnected)
	}
}

func taskArns(tasks []types.Task) []string {
	out := make([]string, len(tasks))
	for i, task := range tasks {
		out[i] = aws.ToString(task.TaskArn)
	}
	return out
}

func hostPort(t *testing.T, task types.Task) int {
	t.Helper()
	for _, c := range task.Containers {
		for _, b := range c.NetworkBindings {
			if p := aws.ToInt32(b.HostPort); p != 0 {
				return int(p)
			}
		}
	}
	t.Fatalf("task %s has no host port", aws.ToString(task.TaskArn))
	return 0
}

func httpGet(t *testing.T, port int) string {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatalf("GET port %d: %v", port, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

var pidPattern = regexp.MustCompile(`pid=(\d+)`)

func pidOf(t *testing.T, port int) int {
	t.Helper()
	m := pidPattern.FindStringSubmatch(httpGet(t, port))
	if m == nil {
		t.Fatalf("testapp on port %d did not say its pid", port)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}
