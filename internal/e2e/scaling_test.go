package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/control"
	ecsapi "github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/local"
)

// scalingPlane is berth up with service web (desired count 2) in cluster
// default, created with the ECS API on one registered instance whose agent
// is played by simulateAgent.
func scalingPlane(t testing.TB) *local.Plane {
	t.Helper()
	p := testenv.Plane(t, local.Config{})
	c := testenv.ECS(p.Endpoint())
	ctx := context.Background()
	_, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{})
	noErr(t, err)
	_, err = c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("app"), Memory: aws.Int32(6),
			HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", "true"}}}}})
	noErr(t, err)
	reg, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{TotalResources: []types.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 4096},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 1 << 20}}})
	noErr(t, err)
	simulateAgent(t, p, aws.ToString(reg.ContainerInstance.ContainerInstanceArn))
	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2)})
	noErr(t, err)
	testenv.Eventually(t, 20*time.Second, "service web steady with 2 tasks", func() bool {
		s := describeWeb(t, p)
		return s.RunningCount == 2 && len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
	})
	return p
}

// simulateAgent plays the agent of an instance until the test ends: it
// long-polls its desired tasks and reports each RUNNING and HEALTHY (the
// task definition has a health check, so tasks count as healthy at once,
// without the warm-up of tasks that have none), or STOPPED when the control
// plane wants it stopped.
func simulateAgent(t testing.TB, p *local.Plane, instance string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		digest := ""
		for ctx.Err() == nil {
			poll, err := p.Control().Poll(ctx, &control.PollInput{ProtocolVersion: control.AgentProtocolVersion, Cluster: "default",
				ContainerInstanceArn: instance, Digest: digest, WaitSeconds: 5})
			if err != nil {
				continue
			}
			digest = poll.Digest
			for _, task := range poll.Tasks {
				status, container, health := ecsapi.TaskRunning, ecsapi.ContainerRunning, "HEALTHY"
				var exit *int
				switch {
				case task.DesiredStatus == ecsapi.TaskStopped:
					zero := 0
					status, container, health, exit = ecsapi.TaskStopped, ecsapi.ContainerStopped, "", &zero
				case task.LastStatus == ecsapi.TaskRunning:
					continue
				}
				_, _ = p.Control().SubmitTaskStateChange(ctx, &control.TaskStateInput{ProtocolVersion: control.AgentProtocolVersion,
					Cluster: "default", ContainerInstanceArn: instance, TaskArn: task.TaskArn, Seq: task.Seq + 1, Status: status, HealthStatus: health,
					Containers: []control.ContainerState{{ContainerName: "app", Status: container, ExitCode: exit, HealthStatus: health}}})
			}
		}
	}()
}

func describeWeb(t testing.TB, p *local.Plane) types.Service {
	t.Helper()
	out, err := testenv.ECS(p.Endpoint()).DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{"web"}})
	noErr(t, err)
	if len(out.Services) != 1 {
		t.Fatalf("describe service web: %+v", out.Failures)
	}
	return out.Services[0]
}

func desiredCount(t testing.TB, p *local.Plane) int {
	t.Helper()
	return int(describeWeb(t, p).DesiredCount)
}

// waitRunning waits until the service runs want tasks at desired count want.
func waitRunning(t testing.TB, p *local.Plane, want int, what string) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, what, func() bool {
		s := describeWeb(t, p)
		return s.DesiredCount == int32(want) && s.RunningCount == int32(want) && s.PendingCount == 0
	})
}

// alarmCall calls a BerthAlarm action, as `berth alarm` does.
func alarmCall(t testing.TB, endpoint, action string, in any) {
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

func setAlarm(t testing.TB, endpoint, name, state string, points string, threshold string) {
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
	waitRunning(t, p, 5, "desired count 2 + 3 after a breach of +25, and 5 tasks running")

	// Within the 300 s cooldown a new ALARM adds nothing. The scaler takes
	// events in order, so once the scale-in below shows, the second ALARM
	// has been handled.
	setAlarm(t, p.Endpoint(), "web-high", "OK", "40.0", "50.0")
	setAlarm(t, p.Endpoint(), "web-high", "ALARM", "75.0", "50.0")
	setAlarm(t, p.Endpoint(), "web-low", "ALARM", "10.0", "50.0")
	waitRunning(t, p, 4, "one task fewer, and nothing added by the ALARM within the cooldown")

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

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAlarmToTasksRunning measures, in berth up, the time from an
// alarm entering ALARM (BerthAlarm.SetAlarmState, as `berth alarm
// set-state`) to the task its step policy adds being RUNNING: the
// transition event, the scaler, the service change event, the reconciler's
// placement, the agent's long poll, its start of the task and its RUNNING
// report. With a simulated agent (which reports RUNNING at once) the figure
// is the control plane's share; with a process-driver agent it includes
// starting testapp. Between iterations the service goes back to 2 tasks
// (not timed). It reports the median and 90th percentile.
func BenchmarkAlarmToTasksRunning(b *testing.B) {
	b.Run("simulated-agent", func(b *testing.B) { benchAlarmToRunning(b, scalingPlane(b)) })
	b.Run("process-agent", func(b *testing.B) { benchAlarmToRunning(b, processAgentPlane(b)) })
}

// processAgentPlane is berth up with one process-driver agent running
// service web: 2 testapp tasks.
func processAgentPlane(b *testing.B) *local.Plane {
	testapp := testimage.BinaryPath(b)
	p := testenv.Plane(b, local.Config{Agents: local.AgentsConfig{Count: 1, CPUUnits: 4096, MemoryMiB: 8192}})
	c := testenv.ECS(p.Endpoint())
	ctx := context.Background()
	_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("berth-testapp"), Memory: aws.Int32(32),
			EntryPoint: []string{testapp}, Command: []string{"--port", "0"}}}})
	noErr(b, err)
	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2)})
	noErr(b, err)
	testenv.Eventually(b, 60*time.Second, "2 testapp tasks running", func() bool { return serviceRuns(b, p, 2) })
	return p
}

func benchAlarmToRunning(b *testing.B, p *local.Plane) {
	ctx := context.Background()
	c := aas.NewFromConfig(testenv.AWSConfig(p.Endpoint()))
	res, dim := aws.String("service/default/web"), aastypes.ScalableDimensionECSServiceDesiredCount
	_, err := c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res,
		ScalableDimension: dim, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)})
	noErr(b, err)
	policy, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("out"), ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: res, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity, Cooldown: aws.Int32(0),
			StepAdjustments: []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)}}}})
	noErr(b, err)
	alarmCall(b, p.Endpoint(), "PutMetricAlarm", map[string]any{"AlarmName": "bench", "Namespace": "Test", "MetricName": "Load",
		"Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 50, "ComparisonOperator": "GreaterThanThreshold",
		"AlarmActions": []string{aws.ToString(policy.PolicyARN)}})
	ecsClient := testenv.ECS(p.Endpoint())
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		setAlarm(b, p.Endpoint(), "bench", "ALARM", "60.0", "50.0")
		for !serviceRuns(b, p, 3) {
			if time.Since(start) > 30*time.Second {
				b.Fatal("the added task is not RUNNING after 30 s")
			}
			time.Sleep(time.Millisecond) // leave the CPUs to the plane
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		setAlarm(b, p.Endpoint(), "bench", "OK", "10.0", "50.0")
		_, err := ecsClient.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(2)})
		noErr(b, err)
		testenv.Eventually(b, 30*time.Second, "back to 2 tasks", func() bool { return serviceRuns(b, p, 2) })
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "ms-p90")
}

// serviceRuns reads, in process, whether service web runs want tasks.
func serviceRuns(t testing.TB, p *local.Plane, want int) bool {
	out, err := p.Control().DescribeServices(context.Background(), &control.DescribeServicesInput{Cluster: "default", Services: []string{"web"}})
	noErr(t, err)
	return len(out.Services) == 1 && out.Services[0].DesiredCount == want && out.Services[0].RunningCount == want
}

// burner is a testapp container reserving 128 CPU units (an eighth of a
// vCPU) that keeps burnCPU of a CPU busy; it answers its health check on
// its dynamic port, so that a deployment of it completes at once.
func burner(testapp, burnCPU string) types.ContainerDefinition {
	return types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String("berth-testapp"), Cpu: 128, Memory: aws.Int32(64),
		EntryPoint:   []string{testapp},
		Command:      []string{"--burn-cpu", burnCPU},
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}},
		HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", testapp + " check http://127.0.0.1:$PORT/health"},
			Interval: aws.Int32(5), Timeout: aws.Int32(5), Retries: aws.Int32(1)},
	}
}

// TestTargetTrackingOnAgentCPU runs target tracking end to end in berth up
// with a real (process-driver) agent: tasks burning 120 % of their CPU
// reservation against a target of 50 % are scaled out from 2 to the
// maximum of 4 once AlarmHigh has seen 3 datapoints above the target; after
// a deployment of a revision that does not burn, AlarmLow (15 datapoints
// under 45 %) scales the service in, one task per minute, down to 1. A
// metric minute lasts 3 s here (local.Config.MetricMinute).
func TestTargetTrackingOnAgentCPU(t *testing.T) {
	testapp := testimage.BinaryPath(t)
	p := testenv.Plane(t, local.Config{MetricMinute: 3 * time.Second, TickEvery: 500 * time.Millisecond,
		Agents: local.AgentsConfig{Count: 1, CPUUnits: 4096, MemoryMiB: 4096}})
	ctx := context.Background()
	c := testenv.ECS(p.Endpoint())
	register := func(burn string) string {
		out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
			ContainerDefinitions: []types.ContainerDefinition{burner(testapp, burn)}})
		noErr(t, err)
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String(register("0.15")), DesiredCount: aws.Int32(2)})
	noErr(t, err)
	testenv.Eventually(t, 60*time.Second, "2 burning tasks running, the deployment completed", func() bool {
		s := describeWeb(t, p)
		return s.RunningCount == 2 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
	})

	a := aas.NewFromConfig(testenv.AWSConfig(p.Endpoint()))
	res, dim := aws.String("service/default/web"), aastypes.ScalableDimensionECSServiceDesiredCount
	_, err = a.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res,
		ScalableDimension: dim, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(4)})
	noErr(t, err)
	_, err = a.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu50"), ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: res, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
			ScaleOutCooldown:              aws.Int32(0), ScaleInCooldown: aws.Int32(0)}})
	noErr(t, err)

	testenv.Eventually(t, 90*time.Second, "scale-out to 4 running tasks on CPU", func() bool {
		s := describeWeb(t, p)
		return s.DesiredCount == 4 && s.RunningCount == 4
	})

	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String(register("0"))})
	noErr(t, err)
	testenv.Eventually(t, 3*time.Minute, "scale-in to 1 task once the load stopped", func() bool {
		s := describeWeb(t, p)
		return s.DesiredCount == 1 && s.RunningCount == 1
	})

	acts, err := a.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res, ScalableDimension: dim})
	noErr(t, err)
	// Activities come newest first. How many steps the scale-out takes
	// depends on the CPU the first AlarmHigh datapoints saw (a busy machine
	// measures less at first): 2→4 at once, or 2→3→4. Scale-in is one task
	// per activity.
	var counts []int
	var scaleOutCauses []string
	for i, act := range slices.Backward(acts.ScalingActivities) {
		var n int
		if _, err := fmt.Sscanf(aws.ToString(act.Description), "Setting desired count to %d.", &n); err != nil {
			t.Fatalf("activity %d description %q: %v", i, aws.ToString(act.Description), err)
		}
		if len(counts) == 0 || counts[len(counts)-1] < n {
			scaleOutCauses = append(scaleOutCauses, aws.ToString(act.Cause))
		}
		counts = append(counts, n)
	}
	if peak := slices.Index(counts, 4); peak < 0 || counts[0] < 3 || !risesStrictly(counts[:peak+1]) || !slices.Equal(counts[peak+1:], []int{3, 2, 1}) {
		t.Fatalf("desired counts, oldest first = %v; want a rise from 2 to 4, then 3, 2, 1", counts)
	}
	for _, cause := range scaleOutCauses {
		if !strings.Contains(cause, "-AlarmHigh-") || !strings.HasSuffix(cause, "triggered policy cpu50") {
			t.Errorf("scale-out cause = %q", cause)
		}
	}
}

func risesStrictly(xs []int) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			return false
		}
	}
	return true
}
