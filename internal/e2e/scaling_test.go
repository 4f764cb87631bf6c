package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/local"
	"github.com/berth-run/berth/shared/store"
)

// scalingPlane is berth up with service/default/web at desired count 2.
// Services are created through the store: the scaler needs only the
// service item.
func scalingPlane(t *testing.T) *local.Plane {
	t.Helper()
	p := testenv.Plane(t, local.Config{})
	ctx := context.Background()
	db := p.Control().DB()
	acct := db.Account()
	if _, err := db.CreateCluster(ctx, ecs.Cluster{ClusterName: "default", ClusterArn: acct.ClusterARN("default"), Status: ecs.ClusterActive}); err != nil {
		t.Fatal(err)
	}
	_, err := db.CreateService(ctx, store.Service{
		Service: ecs.Service{ServiceName: "web", ServiceArn: acct.ServiceARN("default", "web"), ClusterArn: acct.ClusterARN("default"),
			Status: ecs.ServiceActive, DesiredCount: 2, Deployments: []ecs.Deployment{
				{ID: "ecs-svc/1", Status: ecs.DeploymentPrimary, DesiredCount: 2, RolloutState: ecs.RolloutCompleted}}},
		Berth: store.ServiceState{Cluster: "default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func desiredCount(t *testing.T, p *local.Plane) int {
	t.Helper()
	s, _, _, err := p.Control().DB().Service(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	return s.DesiredCount
}

func waitDesired(t *testing.T, p *local.Plane, want int, what string) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, what, func() bool { return desiredCount(t, p) == want })
}

// alarmCall calls a BerthAlarm action, as `berth alarm` does.
func alarmCall(t *testing.T, endpoint, action string, in any) {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "BerthAlarm."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("BerthAlarm.%s: HTTP %d", action, resp.StatusCode)
	}
}

func setAlarm(t *testing.T, endpoint, name, state string, points string, threshold string) {
	t.Helper()
	alarmCall(t, endpoint, "SetAlarmState", map[string]string{"AlarmName": name, "StateValue": state, "StateReason": "e2e",
		"StateReasonData": `{"version":"1.0","statistic":"Average","period":60,"recentDatapoints":[` + points + `],"threshold":` + threshold + `}`})
}

// TestStepScalingThroughTheCLIAndAlarms: a scalable target (1..10) and
// step policies put with the real aws CLI; an alarm event injected with
// `aws events put-events` raises the service by the step's adjustment; a
// second ALARM within the cooldown adds nothing; scale-in steps shrink it,
// the second only after the scale-in cooldown; every change is a
// Successful scaling activity.
func TestStepScalingThroughTheCLIAndAlarms(t *testing.T) {
	p := scalingPlane(t)
	cli := newCLI(t, p.Endpoint())
	target := []string{"--service-namespace", "ecs", "--resource-id", "service/default/web", "--scalable-dimension", "ecs:service:DesiredCount"}
	cli.ok(append([]string{"application-autoscaling", "register-scalable-target", "--min-capacity", "1", "--max-capacity", "10"}, target...)...)
	desc := cli.ok("application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs")
	if path(desc, "ScalableTargets", 0, "MaxCapacity") != float64(10) {
		t.Fatalf("describe-scalable-targets = %v", desc)
	}
	cli.fails("ValidationException", "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
		"--resource-id", "service/default/nope", "--scalable-dimension", "ecs:service:DesiredCount", "--min-capacity", "1", "--max-capacity", "2")

	out := cli.ok(append([]string{"application-autoscaling", "put-scaling-policy", "--policy-name", "out", "--policy-type", "StepScaling",
		"--step-scaling-policy-configuration", `{"AdjustmentType":"ChangeInCapacity","Cooldown":300,"StepAdjustments":[
			{"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":20,"ScalingAdjustment":1},
			{"MetricIntervalLowerBound":20,"ScalingAdjustment":3}]}`}, target...)...)
	outARN, _ := path(out, "PolicyARN").(string)
	in := cli.ok(append([]string{"application-autoscaling", "put-scaling-policy", "--policy-name", "in", "--policy-type", "StepScaling",
		"--step-scaling-policy-configuration", `{"AdjustmentType":"ChangeInCapacity","Cooldown":2,"StepAdjustments":[
			{"MetricIntervalUpperBound":0,"ScalingAdjustment":-1}]}`}, target...)...)
	inARN, _ := path(in, "PolicyARN").(string)
	pols := cli.ok("application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs", "--resource-id", "service/default/web")
	if path(pols, "ScalingPolicies", 1, "StepScalingPolicyConfiguration", "StepAdjustments", 1, "ScalingAdjustment") != float64(3) {
		t.Fatalf("describe-scaling-policies = %v", pols)
	}
	cli.fails("ObjectNotFoundException", append([]string{"application-autoscaling", "delete-scaling-policy", "--policy-name", "nope"}, target...)...)

	for _, a := range []struct{ name, cmp, arn string }{{"web-high", "GreaterThanThreshold", outARN}, {"web-low", "LessThanThreshold", inARN}} {
		alarmCall(t, p.Endpoint(), "PutMetricAlarm", map[string]any{"AlarmName": a.name, "Namespace": "Test", "MetricName": "Load",
			"Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 50, "ComparisonOperator": a.cmp, "AlarmActions": []string{a.arn}})
	}

	// A real-shaped CloudWatch event through EventBridge's PutEvents.
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "cloudwatch-alarm-step-breach-above.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Detail    json.RawMessage `json:"detail"`
		Resources []string        `json:"resources"`
	}
	if err := json.Unmarshal(raw, &sample); err != nil {
		t.Fatal(err)
	}
	detail := strings.ReplaceAll(string(sample.Detail), "web-cpu-above-50", "web-high")
	entries, err := json.Marshal([]map[string]any{{"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change",
		"Detail": detail, "Resources": []string{"arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-high"}}})
	if err != nil {
		t.Fatal(err)
	}
	put := cli.ok("events", "put-events", "--entries", string(entries))
	if path(put, "FailedEntryCount") != float64(0) {
		t.Fatalf("put-events = %v", put)
	}
	waitDesired(t, p, 5, "desired count 2 + 3 after a breach of +25")

	// Within the 300 s cooldown a new ALARM adds nothing. The scaler takes
	// events in order, so once the scale-in below shows, the second ALARM
	// has been handled.
	setAlarm(t, p.Endpoint(), "web-high", "OK", "40.0", "50.0")
	setAlarm(t, p.Endpoint(), "web-high", "ALARM", "75.0", "50.0")
	setAlarm(t, p.Endpoint(), "web-low", "ALARM", "10.0", "50.0")
	waitDesired(t, p, 4, "one task fewer, and nothing added by the ALARM within the cooldown")

	// The next scale-in waits out the 2 s scale-in cooldown: each poll
	// flips the alarm (a new transition) until the scaler acts.
	testenv.Eventually(t, 20*time.Second, "a second scale-in after the cooldown", func() bool {
		setAlarm(t, p.Endpoint(), "web-low", "OK", "55.0", "50.0")
		setAlarm(t, p.Endpoint(), "web-low", "ALARM", "10.0", "50.0")
		return desiredCount(t, p) == 3
	})

	acts := cli.ok(append([]string{"application-autoscaling", "describe-scaling-activities"}, target[:4]...)...)
	list, _ := path(acts, "ScalingActivities").([]any)
	if len(list) != 3 {
		t.Fatalf("activities = %v", acts)
	}
	for i, want := range []string{"Setting desired count to 3.", "Setting desired count to 4.", "Setting desired count to 5."} {
		if path(list, i, "Description") != want || path(list, i, "StatusCode") != "Successful" {
			t.Errorf("activity %d = %v, want %q Successful", i, list[i], want)
		}
	}
	if path(list, 2, "Cause") != "monitor alarm web-high in state ALARM triggered policy out" {
		t.Errorf("cause = %v", path(list, 2, "Cause"))
	}
	first, second := cliTime(t, path(list, 1, "StartTime")), cliTime(t, path(list, 0, "StartTime"))
	if second.Sub(first) < 2*time.Second {
		t.Errorf("the second scale-in (%v) must come at least the 2 s cooldown after the first (%v)", second, first)
	}
}

// cliTime reads a timestamp as the aws CLI prints it: epoch seconds (CLI
// v1's default) or ISO 8601 (v2's).
func cliTime(t *testing.T, v any) time.Time {
	t.Helper()
	switch v := v.(type) {
	case float64:
		return time.UnixMilli(int64(v * 1000))
	case string:
		at, err := time.Parse(time.RFC3339Nano, v)
		if err == nil {
			return at
		}
	}
	t.Fatalf("timestamp %v (%T) is neither epoch seconds nor ISO 8601", v, v)
	return time.Time{}
}
