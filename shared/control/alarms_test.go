package control_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/scaling"
)

// burn records a minute of the service's CPU utilization (in percent of
// one task's reservation of 1024 units) and advances the clock a minute.
func (e scaleEnv) burn(t *testing.T, service string, percent float64, minutes int) {
	t.Helper()
	for range minutes {
		ok(0, control.LocalMetrics{DB: e.db}.PutUtilization(e.ctx, "i-1", e.clock.Now(), []control.TaskUtilization{
			{Cluster: "default", Service: service, CPUUsed: 1024 * percent / 100, CPUReserved: 1024}}))(t)
		e.clock.Advance(time.Minute)
	}
}

// tick runs the scaler's tick (local evaluation, re-runs) and delivers the
// events it announced, as `berth up` does every few seconds.
func (e scaleEnv) tick(t *testing.T) {
	t.Helper()
	ok(0, e.a.Tick(e.ctx))(t)
	e.deliver(t)
}

// TestTargetTrackingOverLocalMetrics runs target tracking end to end at
// the control level: utilization recorded per minute, the local evaluator
// moving the policy's alarms, their events running the scaler.
func TestTargetTrackingOverLocalMetrics(t *testing.T) {
	e := newScaleEnv(t, "policy", "high", "low")
	e.clock.Advance(30 * time.Second) // mid-minute, like a real tick
	e.service(t, "web", 2)
	e.register(t, "web", 1, 10)
	e.ttPolicy(t, "web", "cpu50", 50, 0)
	high, low := "TargetTracking-service/default/web-AlarmHigh-high", "TargetTracking-service/default/web-AlarmLow-low"

	e.burn(t, "web", 90, 2)
	e.tick(t)
	if st := e.alarmState(t, high); st != scaling.StateInsufficientData {
		t.Fatalf("after 2 minutes over the target AlarmHigh is %s; it needs 3 datapoints", st)
	}
	e.burn(t, "web", 90, 1)
	e.tick(t)
	if st := e.alarmState(t, high); st != scaling.StateAlarm {
		t.Fatalf("after 3 minutes over the target AlarmHigh is %s", st)
	}
	e.wantDesired(t, 4, "CPU 90% against a target of 50% on 2 tasks") // ceil(2 × 90 / 50)

	// The load spreads over more tasks; while it stays above the target the
	// alarm stays in ALARM and the policy runs again each minute.
	e.burn(t, "web", 60, 1)
	e.tick(t)
	e.wantDesired(t, 5, "CPU 60% on 4 tasks") // ceil(4 × 60 / 50)
	e.tick(t)
	e.wantDesired(t, 5, "a second tick in the same minute")

	e.burn(t, "web", 10, 3)
	e.tick(t)
	if st := e.alarmState(t, high); st != scaling.StateOK {
		t.Fatalf("AlarmHigh after the load stopped: %s", st)
	}
	e.burn(t, "web", 10, 12)
	e.tick(t)
	if st := e.alarmState(t, low); st != scaling.StateAlarm {
		t.Fatalf("after 15 minutes under 90%% of the target AlarmLow is %s", st)
	}
	e.wantDesired(t, 4, "gradual scale-in: one task at a time")
	for range 3 {
		e.burn(t, "web", 10, 1)
		e.tick(t)
	}
	e.wantDesired(t, 1, "scale-in continues each minute down to MinCapacity")

	var descriptions []string
	for _, a := range e.activities(t, "web", false) {
		descriptions = append(descriptions, a.Description)
	}
	if strings.Join(descriptions, "|") != "Setting desired count to 1.|Setting desired count to 2.|Setting desired count to 3.|Setting desired count to 4.|Setting desired count to 5.|Setting desired count to 4." {
		t.Fatalf("activities = %v", descriptions)
	}
}

func (e scaleEnv) alarmState(t *testing.T, name string) string {
	t.Helper()
	out := ok(e.alarms.DescribeAlarmsAction(e.ctx, &control.DescribeAlarmsInput{AlarmNames: []string{name}}))(t)
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("alarm %s not found", name)
	}
	return out.MetricAlarms[0].StateValue
}

func TestLocalAlarmEventsAreRealShaped(t *testing.T) {
	e := newScaleEnv(t)
	e.userAlarm(t, "high", 50, scaling.GreaterThanThreshold, "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:x:resource/ecs/service/default/web:policyName/out")
	ok(e.alarms.SetAlarmState(e.ctx, &control.SetAlarmStateInput{AlarmName: "high", StateValue: "ALARM", StateReason: "testing", StateReasonData: reasonData(50, 75)}))(t)
	events := e.bus.take()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	raw, err := json.Marshal(events[0])
	if err != nil {
		t.Fatal(err)
	}
	ev, err := scaling.ParseAlarmEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	d := ev.Detail
	if ev.Resources[0] != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:high" || d.State.Value != "ALARM" || d.PreviousState.Value != "INSUFFICIENT_DATA" ||
		d.PreviousState.Reason != "Unchecked: Initial alarm creation" || d.State.Reason != "testing" ||
		len(d.Configuration.Metrics) != 1 || d.Configuration.Metrics[0].MetricStat.Metric.Namespace != "Test" {
		t.Fatalf("event = %s", raw)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000-0700", d.State.Timestamp); err != nil {
		t.Errorf("state timestamp %q is not in CloudWatch's form", d.State.Timestamp)
	}
	r, err := d.Reading()
	if err != nil || *r.Threshold != 50 || !slices.Equal(r.Datapoints, []float64{75}) {
		t.Fatalf("reading = %+v, %v", r, err)
	}
}

func TestSetAlarmStateValidation(t *testing.T) {
	e := newScaleEnv(t)
	e.userAlarm(t, "a", 1, scaling.GreaterThanThreshold, "arn:x")
	for _, c := range []struct {
		in   control.SetAlarmStateInput
		code string
	}{
		{control.SetAlarmStateInput{AlarmName: "missing", StateValue: "OK", StateReason: "r"}, "ResourceNotFound"},
		{control.SetAlarmStateInput{AlarmName: "a", StateValue: "ON", StateReason: "r"}, "InvalidParameterValue"},
		{control.SetAlarmStateInput{AlarmName: "a", StateValue: "OK"}, "InvalidParameterValue"},
		{control.SetAlarmStateInput{AlarmName: "a", StateValue: "OK", StateReason: "r", StateReasonData: "{not json"}, "InvalidFormat"},
	} {
		_, err := e.alarms.SetAlarmState(e.ctx, &c.in)
		wantCode(t, err, c.code)
	}
	_, err := e.alarms.PutMetricAlarm(e.ctx, &control.PutMetricAlarmInput{AlarmDefinition: scaling.AlarmDefinition{AlarmName: "b", Namespace: "Test",
		MetricName: "Load", Statistic: "Median", Period: 60, EvaluationPeriods: 1, ComparisonOperator: scaling.GreaterThanThreshold}})
	wantCode(t, err, scaling.ValidationError)
	if n := len(e.bus.take()); n != 0 {
		t.Fatalf("refused requests announced %d events", n)
	}
}

func TestEvaluatorLeavesUncollectedMetricsAlone(t *testing.T) {
	e := newScaleEnv(t)
	e.userAlarm(t, "custom", 1, scaling.GreaterThanThreshold, "arn:x")
	e.setState(t, "custom", scaling.StateAlarm, "")
	e.clock.Advance(5 * time.Minute)
	ok(0, e.alarms.Evaluate(e.ctx))(t)
	if st := e.alarmState(t, "custom"); st != scaling.StateAlarm {
		t.Fatalf("an alarm on a metric Berth does not collect moved to %s", st)
	}
	// An alarm on a service Berth collects for, with no data, goes to
	// INSUFFICIENT_DATA... it starts there, so nothing is announced.
	ok(e.alarms.PutMetricAlarm(e.ctx, &control.PutMetricAlarmInput{AlarmDefinition: scaling.AlarmDefinition{AlarmName: "cpu", Namespace: "AWS/ECS",
		MetricName: "CPUUtilization", Statistic: "Average", Period: 60, EvaluationPeriods: 2, Threshold: 10, ComparisonOperator: scaling.GreaterThanThreshold,
		Dimensions: []scaling.MetricDimension{{Name: "ClusterName", Value: "default"}, {Name: "ServiceName", Value: "web"}}}}))(t)
	e.bus.take()
	ok(0, e.alarms.Evaluate(e.ctx))(t)
	if n := len(e.bus.take()); n != 0 || e.alarmState(t, "cpu") != scaling.StateInsufficientData {
		t.Fatalf("no data: %d events, state %s", n, e.alarmState(t, "cpu"))
	}
}

// fakeCloudWatch is a CloudWatch client keeping alarms in memory.
type fakeCloudWatch struct {
	mu        sync.Mutex
	alarms    map[string]cwtypes.MetricAlarm
	describes int
	data      []*cloudwatch.PutMetricDataInput
}

func newFakeCloudWatch() *fakeCloudWatch {
	return &fakeCloudWatch{alarms: map[string]cwtypes.MetricAlarm{}}
}

func (f *fakeCloudWatch) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, name := range slices.Sorted(maps.Keys(f.alarms)) {
		a := f.alarms[name]
		switch {
		case len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, name),
			in.StateValue != "" && a.StateValue != in.StateValue,
			in.AlarmNamePrefix != nil && !strings.HasPrefix(name, *in.AlarmNamePrefix),
			in.ActionPrefix != nil && !slices.ContainsFunc(a.AlarmActions, func(s string) bool { return strings.HasPrefix(s, *in.ActionPrefix) }):
			continue
		}
		out.MetricAlarms = append(out.MetricAlarms, a)
	}
	return out, nil
}

func (f *fakeCloudWatch) PutMetricAlarm(_ context.Context, in *cloudwatch.PutMetricAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms[*in.AlarmName] = cwtypes.MetricAlarm{AlarmName: in.AlarmName, AlarmDescription: in.AlarmDescription, Namespace: in.Namespace,
		MetricName: in.MetricName, Threshold: in.Threshold, ComparisonOperator: in.ComparisonOperator, AlarmActions: in.AlarmActions,
		Dimensions: in.Dimensions, StateValue: cwtypes.StateValueInsufficientData}
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

func (f *fakeCloudWatch) DeleteAlarms(_ context.Context, in *cloudwatch.DeleteAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range in.AlarmNames {
		delete(f.alarms, n)
	}
	return &cloudwatch.DeleteAlarmsOutput{}, nil
}

func (f *fakeCloudWatch) PutMetricData(_ context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data = append(f.data, in)
	return &cloudwatch.PutMetricDataOutput{}, nil
}

func (f *fakeCloudWatch) set(name string, state cwtypes.StateValue, reasonData string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.alarms[name]
	a.AlarmName, a.StateValue, a.StateReasonData = aws.String(name), state, aws.String(reasonData)
	f.alarms[name] = a
}

// TestCloudWatchAlarmsPort runs the scaler over the CloudWatch adapter: a
// target tracking policy's alarms are created in Berth's namespace naming
// the policy in their description; an event then scales through them.
func TestCloudWatchAlarmsPort(t *testing.T) {
	e := newEnv(t)
	cw := newFakeCloudWatch()
	alarms := control.NewCloudWatchAlarms(cw, e.clock.Now)
	a := control.NewAutoscaling(e.c, control.AutoscalingOptions{Alarms: alarms, Manager: alarms, Metrics: control.CloudWatchMetrics{API: cw},
		NewID: bus.SeededIDs(3), Logger: quiet})
	se := scaleEnv{env: e, db: e.c.DB(), a: a}
	se.service(t, "web", 2)
	se.register(t, "web", 1, 10)
	put := se.ttPolicy(t, "web", "cpu", 50, 0)
	high := put.Alarms[0].AlarmName
	got := cw.alarms[high]
	if aws.ToString(got.Namespace) != control.MetricNamespace || len(got.AlarmActions) != 0 ||
		aws.ToString(got.AlarmDescription) != "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy "+put.PolicyARN+"." {
		t.Fatalf("CloudWatch alarm = %+v", got)
	}

	cw.set(high, cwtypes.StateValueAlarm, reasonData(50, 80, 90, 100))
	change := scaling.AlarmStateChange{AlarmName: high, State: scaling.AlarmState{Value: "ALARM", ReasonData: reasonData(50, 80, 90, 100), Timestamp: "2026-11-22T12:00:00.000+0000"}}
	ok(a.HandleAlarmChange(e.ctx, change))(t)
	if d := se.desired(t, "web"); d != 4 {
		t.Fatalf("desired = %d, want ceil(2 × 100 / 50)", d)
	}

	// A burst of reads of one alarm costs one DescribeAlarms; after the
	// cache time another.
	before := cw.describes
	for range 3 {
		ok(alarms.DescribeAlarms(e.ctx, []string{high, "nope"}))(t)
	}
	e.clock.Advance(11 * time.Second)
	infos := ok(alarms.DescribeAlarms(e.ctx, []string{high}))(t)
	if cw.describes-before != 2 || len(infos) != 1 || infos[0].PolicyARNs[0] != put.PolicyARN {
		t.Fatalf("%d DescribeAlarms calls for 4 reads over two cache periods; infos %+v", cw.describes-before, infos)
	}

	in := ok(alarms.AlarmsInAlarm(e.ctx))(t)
	if len(in) != 1 || in[0].Name != high {
		t.Fatalf("alarms in ALARM = %+v", in)
	}
	ok(a.DeregisterScalableTarget(e.ctx, &control.DeregisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired}))(t)
	if len(cw.alarms) != 0 {
		t.Fatalf("alarms left in CloudWatch: %v", cw.alarms)
	}
}
