package scaling

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

var acct = ecs.Account{Region: "us-west-2", ID: "012345678910"}

func ttPut(t *testing.T, cfg TargetTrackingScalingPolicyConfiguration) ScalingPolicy {
	t.Helper()
	in := putPolicy(withTT(cfg))
	in.PolicyName = "cpu75-target-tracking-scaling-policy"
	p, err := ApplyPutScalingPolicy(in, nil, t0, PolicyARN(acct, "6d8972f3-efc8-437c-92d1-6270f29a66e7", testResource, in.PolicyName))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTargetTrackingAlarms(t *testing.T) {
	p := ttPut(t, cpuTT(75))
	alarms, err := TargetTrackingAlarms(acct, p, "d4f0770c-b46e-434a-a60f-3b36d653feca", "1b437334-d19b-4a63-a812-6c67aaf2910d")
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 2 {
		t.Fatalf("%d alarms", len(alarms))
	}
	high, low := alarms[0], alarms[1]
	if high.AlarmName != "TargetTracking-service/default/web-app-AlarmHigh-d4f0770c-b46e-434a-a60f-3b36d653feca" ||
		high.AlarmArn != "arn:aws:cloudwatch:us-west-2:012345678910:alarm:TargetTracking-service/default/web-app-AlarmHigh-d4f0770c-b46e-434a-a60f-3b36d653feca" {
		t.Errorf("high alarm named %s (%s)", high.AlarmName, high.AlarmArn)
	}
	if low.AlarmName != "TargetTracking-service/default/web-app-AlarmLow-1b437334-d19b-4a63-a812-6c67aaf2910d" {
		t.Errorf("low alarm named %s", low.AlarmName)
	}
	dims := []MetricDimension{{Name: "ClusterName", Value: "default"}, {Name: "ServiceName", Value: "web-app"}}
	for _, a := range alarms {
		if a.Namespace != "AWS/ECS" || a.MetricName != "CPUUtilization" || a.Statistic != StatAverage || !reflect.DeepEqual(a.Dimensions, dims) || a.Period != 60 {
			t.Errorf("%s watches %s/%s %s %v every %ds", a.AlarmName, a.Namespace, a.MetricName, a.Statistic, a.Dimensions, a.Period)
		}
		if a.AlarmDescription != "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy "+p.PolicyARN+"." || !reflect.DeepEqual(a.AlarmActions, []string{p.PolicyARN}) {
			t.Errorf("%s: description %q actions %v", a.AlarmName, a.AlarmDescription, a.AlarmActions)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%s: %v", a.AlarmName, err)
		}
	}
	if high.ComparisonOperator != GreaterThanThreshold || high.Threshold != 75 || high.EvaluationPeriods != 3 || high.DatapointsToAlarm != 3 {
		t.Errorf("high alarm %+v", high)
	}
	if low.ComparisonOperator != LessThanThreshold || low.Threshold != 67.5 || low.EvaluationPeriods != 15 || low.DatapointsToAlarm != 15 {
		t.Errorf("low alarm %+v", low)
	}
	refs := AlarmRefs(alarms)
	if len(refs) != 2 || refs[0].AlarmName != high.AlarmName || refs[1].AlarmARN != low.AlarmArn {
		t.Errorf("refs %+v", refs)
	}

	// An updated policy keeps its alarms' names.
	p.Alarms = refs
	again, err := TargetTrackingAlarms(acct, p, "other-high", "other-low")
	if err != nil || again[0].AlarmName != high.AlarmName || again[1].AlarmName != low.AlarmName {
		t.Errorf("renamed on update: %v %v", again, err)
	}
}

func TestTargetTrackingAlarmsVariants(t *testing.T) {
	noIn := cpuTT(50)
	noIn.DisableScaleIn = boolp(true)
	alarms, err := TargetTrackingAlarms(acct, ttPut(t, noIn), "h", "l")
	if err != nil || len(alarms) != 1 || alarms[0].ComparisonOperator != GreaterThanThreshold {
		t.Errorf("DisableScaleIn: %+v, %v", alarms, err)
	}

	mem := TargetTrackingScalingPolicyConfiguration{TargetValue: f64(60), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceMemory}}
	alarms, err = TargetTrackingAlarms(acct, ttPut(t, mem), "h", "l")
	if err != nil || alarms[0].MetricName != "MemoryUtilization" || alarms[1].Threshold != 54 {
		t.Errorf("memory: %+v, %v", alarms, err)
	}

	alb := TargetTrackingScalingPolicyConfiguration{TargetValue: f64(1000), PredefinedMetricSpecification: &PredefinedMetricSpecification{
		PredefinedMetricType: MetricALBRequestsPerTask, ResourceLabel: "app/my-alb/778d41231b141a0f/targetgroup/my-tg/943f017f100becff"}}
	alarms, err = TargetTrackingAlarms(acct, ttPut(t, alb), "h", "l")
	if err != nil || alarms[0].Namespace != "AWS/ApplicationELB" || alarms[0].MetricName != "RequestCountPerTarget" || alarms[0].Statistic != StatSum ||
		!reflect.DeepEqual(alarms[0].Dimensions, []MetricDimension{{Name: "TargetGroup", Value: "targetgroup/my-tg/943f017f100becff"}}) {
		t.Errorf("ALB: %+v, %v", alarms, err)
	}

	custom := TargetTrackingScalingPolicyConfiguration{TargetValue: f64(100), CustomizedMetricSpecification: json.RawMessage(
		`{"MetricName":"QueueDepthPerTask","Namespace":"MyApp","Dimensions":[{"Name":"Queue","Value":"jobs"}],"Statistic":"Maximum","Unit":"Count"}`)}
	alarms, err = TargetTrackingAlarms(acct, ttPut(t, custom), "h", "l")
	if err != nil || alarms[0].Namespace != "MyApp" || alarms[0].MetricName != "QueueDepthPerTask" || alarms[0].Statistic != StatMaximum || alarms[0].Unit != "Count" || alarms[0].Dimensions[0].Value != "jobs" {
		t.Errorf("customized: %+v, %v", alarms, err)
	}

	if _, err := TargetTrackingAlarms(acct, stepPolicy("s", ChangeInCapacity, step(f64(0), nil, 1)), "h", "l"); err == nil {
		t.Error("a step policy got target tracking alarms")
	}
}

// TestTargetTrackingLoop runs a generated AlarmHigh through the evaluator and
// its state-change reading through Decide.
func TestTargetTrackingLoop(t *testing.T) {
	p := ttPut(t, cpuTT(50))
	alarms, err := TargetTrackingAlarms(acct, p, "h", "l")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 14, 12, 3, 20, 0, time.UTC)
	var samples []Sample
	for i, v := range []float64{70, 80, 90} { // 12:00, 12:01, 12:02
		samples = append(samples, Sample{Timestamp: time.Date(2025, 3, 14, 12, i, 30, 0, time.UTC), Value: v})
	}
	ev := EvaluateAlarm(alarms[0], samples, StateOK, now)
	if ev.State != StateAlarm {
		t.Fatalf("AlarmHigh %s: %s", ev.State, ev.Reason)
	}
	low := EvaluateAlarm(alarms[1], samples, StateOK, now)
	if low.State != StateOK {
		t.Fatalf("AlarmLow %s: %s", low.State, low.Reason)
	}
	r, err := AlarmStateChange{AlarmName: alarms[0].AlarmName, State: AlarmState{Value: ev.State, ReasonData: ev.ReasonData}}.Reading()
	if err != nil {
		t.Fatal(err)
	}
	d := Decide(Input{Target: target(1, 20), Current: 4, Now: now, Policies: fire(p, r)})
	if d.Desired != 8 { // ceil(4 × 90 / 50)
		t.Fatalf("desired %d (%q)", d.Desired, d.Notes)
	}
}
