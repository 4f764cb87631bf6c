package control_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/store"
)

// recBus records the events put on it.
type recBus struct {
	mu     sync.Mutex
	events []bus.Event
}

func (b *recBus) Put(_ context.Context, events ...bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, events...)
	return nil
}

// take returns and forgets the recorded events.
func (b *recBus) take() []bus.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	b.events = nil
	return out
}

var acct = ecs.Account{Region: "us-east-1", ID: "000000000000"}

// scaleEnv is a control plane with Application Auto Scaling over the local
// alarm and metric stores, a recording bus and the test clock.
type scaleEnv struct {
	env
	db     *store.DB
	a      *control.Autoscaling
	alarms *control.LocalAlarms
	bus    *recBus
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newScaleEnv builds the environment; ids are the first UUIDs drawn
// (policy IDs, then alarm suffixes, ...), seeded ones follow.
func newScaleEnv(t *testing.T, ids ...string) scaleEnv {
	t.Helper()
	e := newEnv(t)
	db := e.c.DB()
	rb := &recBus{}
	la := control.NewLocalAlarms(db, rb, bus.Factory{Account: acct, NewID: bus.SeededIDs(1)}, e.clock.Now, quiet)
	seeded := bus.SeededIDs(2)
	var mu sync.Mutex
	newID := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) > 0 {
			id := ids[0]
			ids = ids[1:]
			return id
		}
		return seeded()
	}
	a := control.NewAutoscaling(e.c, control.AutoscalingOptions{Alarms: la, Manager: la, Metrics: control.LocalMetrics{DB: db},
		Evaluate: la.Evaluate, NewID: newID, Logger: quiet})
	return scaleEnv{env: e, db: db, a: a, alarms: la, bus: rb}
}

// service creates service/default/<name> with one PRIMARY deployment whose
// rollout is done.
func (e scaleEnv) service(t *testing.T, name string, desired int) {
	t.Helper()
	if _, _, found, err := e.db.Cluster(e.ctx, "default"); err != nil || !found {
		ok(e.c.CreateCluster(e.ctx, &control.CreateClusterInput{}))(t)
	}
	_, err := e.db.CreateService(e.ctx, store.Service{
		Service: ecs.Service{ServiceName: name, ServiceArn: acct.ServiceARN("default", name), ClusterArn: acct.ClusterARN("default"),
			Status: ecs.ServiceActive, DesiredCount: desired, Deployments: []ecs.Deployment{
				{ID: "ecs-svc/1", Status: ecs.DeploymentPrimary, DesiredCount: desired, RolloutState: ecs.RolloutCompleted}}},
		Berth: store.ServiceState{Cluster: "default"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e scaleEnv) desired(t *testing.T, name string) int {
	t.Helper()
	s, _, found, err := e.db.Service(e.ctx, "default", name)
	if err != nil || !found {
		t.Fatalf("read service %s: found %v, %v", name, found, err)
	}
	return s.DesiredCount
}

func (e scaleEnv) setService(t *testing.T, name string, change func(*store.Service)) {
	t.Helper()
	_, err := e.db.UpdateService(e.ctx, "default", name, func(s *store.Service) error { change(s); return nil })
	if err != nil {
		t.Fatal(err)
	}
}

func resource(name string) string { return "service/default/" + name }

func (e scaleEnv) register(t *testing.T, name string, minCap, maxCap int32) {
	t.Helper()
	ok(e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource(name),
		ScalableDimension: scaling.DimensionDesired, MinCapacity: &minCap, MaxCapacity: &maxCap}))(t)
}

func f64(v float64) *float64 { return &v }
func i32(v int32) *int32     { return &v }
func boolp(v bool) *bool     { return &v }

func step(lo, hi *float64, adj int32) scaling.StepAdjustment {
	return scaling.StepAdjustment{MetricIntervalLowerBound: lo, MetricIntervalUpperBound: hi, ScalingAdjustment: i32(adj)}
}

// stepOut adds 1 task for a breach under 20 above the threshold, 3 beyond.
func stepOut(cooldown int32) *scaling.StepScalingPolicyConfiguration {
	return &scaling.StepScalingPolicyConfiguration{AdjustmentType: scaling.ChangeInCapacity, Cooldown: i32(cooldown),
		StepAdjustments: []scaling.StepAdjustment{step(f64(0), f64(20), 1), step(f64(20), nil, 3)}}
}

// stepIn removes 1 task for any breach below the threshold.
func stepIn(cooldown int32) *scaling.StepScalingPolicyConfiguration {
	return &scaling.StepScalingPolicyConfiguration{AdjustmentType: scaling.ChangeInCapacity, Cooldown: i32(cooldown),
		StepAdjustments: []scaling.StepAdjustment{step(nil, f64(0), -1)}}
}

func (e scaleEnv) stepPolicy(t *testing.T, service, name string, cfg *scaling.StepScalingPolicyConfiguration) string {
	t.Helper()
	out := ok(e.a.PutScalingPolicy(e.ctx, &scaling.PutScalingPolicyInput{PolicyName: name, ServiceNamespace: "ecs", ResourceID: resource(service),
		ScalableDimension: scaling.DimensionDesired, PolicyType: scaling.PolicyTypeStepScaling, StepScalingPolicyConfiguration: cfg}))(t)
	return out.PolicyARN
}

func (e scaleEnv) ttPolicy(t *testing.T, service, name string, target float64, cooldown int32) *control.PutScalingPolicyOutput {
	t.Helper()
	return ok(e.a.PutScalingPolicy(e.ctx, &scaling.PutScalingPolicyInput{PolicyName: name, ServiceNamespace: "ecs", ResourceID: resource(service),
		ScalableDimension: scaling.DimensionDesired, PolicyType: scaling.PolicyTypeTargetTracking,
		TargetTrackingScalingPolicyConfiguration: &scaling.TargetTrackingScalingPolicyConfiguration{TargetValue: f64(target),
			PredefinedMetricSpecification: &scaling.PredefinedMetricSpecification{PredefinedMetricType: scaling.MetricECSServiceCPU},
			ScaleOutCooldown:              i32(cooldown), ScaleInCooldown: i32(cooldown)}}))(t)
}

// userAlarm creates a local alarm on a metric Berth does not collect, so
// only SetAlarmState moves it; it invokes the policy policyARN.
func (e scaleEnv) userAlarm(t *testing.T, name string, threshold float64, cmp, policyARN string) {
	t.Helper()
	ok(e.alarms.PutMetricAlarm(e.ctx, &control.PutMetricAlarmInput{AlarmDefinition: scaling.AlarmDefinition{
		AlarmName: name, Namespace: "Test", MetricName: "Load", Statistic: "Average", Period: 60, EvaluationPeriods: 1,
		Threshold: threshold, ComparisonOperator: cmp, AlarmActions: []string{policyARN}}}))(t)
}

// reasonData is what CloudWatch puts in an alarm state for datapoints
// against a threshold.
func reasonData(threshold float64, points ...float64) string {
	strs := make([]string, len(points))
	for i, p := range points {
		strs[i] = fmt.Sprint(p)
	}
	return fmt.Sprintf(`{"version":"1.0","statistic":"Average","period":60,"recentDatapoints":[%s],"threshold":%v}`, strings.Join(strs, ","), threshold)
}

// setState moves an alarm with SetAlarmState and hands the events it
// announced to the scaler, as the bus would.
func (e scaleEnv) setState(t *testing.T, alarm, state, data string) []control.ScalerOutcome {
	t.Helper()
	ok(e.alarms.SetAlarmState(e.ctx, &control.SetAlarmStateInput{AlarmName: alarm, StateValue: state, StateReason: "test", StateReasonData: data}))(t)
	return e.deliver(t)
}

// deliver hands the recorded events to the scaler.
func (e scaleEnv) deliver(t *testing.T) []control.ScalerOutcome {
	t.Helper()
	var all []control.ScalerOutcome
	for _, ev := range e.bus.take() {
		all = append(all, ok(e.a.HandleAlarmEvent(e.ctx, ev))(t)...)
	}
	return all
}

func (e scaleEnv) activities(t *testing.T, name string, includeNotScaled bool) []scaling.ScalingActivity {
	t.Helper()
	out := ok(e.a.DescribeScalingActivities(e.ctx, &control.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", ResourceID: resource(name),
		IncludeNotScaledActivities: boolp(includeNotScaled)}))(t)
	return out.ScalingActivities
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !ecs.IsCode(err, code) {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func TestRegisterScalableTarget(t *testing.T) {
	e := newScaleEnv(t)
	in := &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired,
		MinCapacity: i32(1), MaxCapacity: i32(10)}
	_, err := e.a.RegisterScalableTarget(e.ctx, in)
	wantCode(t, err, scaling.ValidationException)
	if !strings.Contains(err.Error(), "ECS service doesn't exist: service/default/web") {
		t.Errorf("missing service: %v", err)
	}

	e.service(t, "web", 2)
	reg := ok(e.a.RegisterScalableTarget(e.ctx, in))(t)
	if !strings.HasPrefix(reg.ScalableTargetARN, "arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/") {
		t.Errorf("ARN = %s", reg.ScalableTargetARN)
	}
	again := ok(e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, MinCapacity: i32(3)}))(t)
	if again.ScalableTargetARN != reg.ScalableTargetARN {
		t.Error("an update must keep the target's ARN")
	}
	if e.desired(t, "web") != 3 {
		t.Fatalf("raising MinCapacity above the desired count must raise it: %d", e.desired(t, "web"))
	}
	acts := e.activities(t, "web", false)
	if len(acts) != 1 || acts[0].Cause != "minimum capacity was set to 3" || acts[0].StatusCode != scaling.ActivitySuccessful {
		t.Fatalf("activities = %+v", acts)
	}

	_, err = e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, MaxCapacity: i32(2)})
	wantCode(t, err, scaling.ValidationException) // Min 3 > Max 2
	_, err = e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: "ecs:service:Other", MinCapacity: i32(1), MaxCapacity: i32(2)})
	wantCode(t, err, scaling.ValidationException)

	e.setService(t, "web", func(s *store.Service) { s.Status = ecs.ServiceDraining })
	_, err = e.a.RegisterScalableTarget(e.ctx, in)
	wantCode(t, err, scaling.ValidationException)

	ok(e.a.DeregisterScalableTarget(e.ctx, &control.DeregisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired}))(t)
	_, err = e.a.DeregisterScalableTarget(e.ctx, &control.DeregisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired})
	wantCode(t, err, scaling.ObjectNotFoundException)
}

func TestMinCapacityZeroAndSuspendedState(t *testing.T) {
	e := newScaleEnv(t)
	e.service(t, "web", 2)
	ok(e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, MinCapacity: i32(0), MaxCapacity: i32(0),
		SuspendedState: &scaling.SuspendedStateInput{DynamicScalingOutSuspended: boolp(true)}}))(t)
	if e.desired(t, "web") != 0 {
		t.Fatalf("MaxCapacity 0 must bring the service to 0, got %d", e.desired(t, "web"))
	}
	out := ok(e.a.DescribeScalableTargets(e.ctx, &control.DescribeScalableTargetsInput{ServiceNamespace: "ecs"}))(t)
	if len(out.ScalableTargets) != 1 || !out.ScalableTargets[0].SuspendedState.DynamicScalingOutSuspended || out.ScalableTargets[0].MinCapacity != 0 {
		t.Fatalf("targets = %+v", out.ScalableTargets)
	}
}

func TestTargetTrackingPolicyOwnsItsAlarms(t *testing.T) {
	e := newScaleEnv(t, "policy-1", "high-1", "low-1")
	e.service(t, "web", 2)
	e.register(t, "web", 1, 10)
	out := e.ttPolicy(t, "web", "cpu", 50, 60)
	high := "TargetTracking-service/default/web-AlarmHigh-high-1"
	low := "TargetTracking-service/default/web-AlarmLow-low-1"
	if out.PolicyARN != "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:policy-1:resource/ecs/service/default/web:policyName/cpu" ||
		len(out.Alarms) != 2 || out.Alarms[0].AlarmName != high || out.Alarms[1].AlarmName != low {
		t.Fatalf("put = %+v", out)
	}
	alarms := ok(e.alarms.DescribeAlarmsAction(e.ctx, &control.DescribeAlarmsInput{}))(t).MetricAlarms
	if len(alarms) != 2 || alarms[0].AlarmName != high || alarms[0].Threshold != 50 || alarms[1].Threshold != 45 ||
		alarms[0].AlarmActions[0] != out.PolicyARN || alarms[0].Berth.ManagedBy != out.PolicyARN {
		t.Fatalf("alarms = %+v", alarms)
	}

	// DisableScaleIn drops AlarmLow; the policy keeps its ARN and AlarmHigh.
	upd := ok(e.a.PutScalingPolicy(e.ctx, &scaling.PutScalingPolicyInput{PolicyName: "cpu", ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired,
		TargetTrackingScalingPolicyConfiguration: &scaling.TargetTrackingScalingPolicyConfiguration{TargetValue: f64(60), DisableScaleIn: boolp(true),
			PredefinedMetricSpecification: &scaling.PredefinedMetricSpecification{PredefinedMetricType: scaling.MetricECSServiceCPU}}}))(t)
	alarms = ok(e.alarms.DescribeAlarmsAction(e.ctx, &control.DescribeAlarmsInput{}))(t).MetricAlarms
	if upd.PolicyARN != out.PolicyARN || len(upd.Alarms) != 1 || len(alarms) != 1 || alarms[0].AlarmName != high || alarms[0].Threshold != 60 {
		t.Fatalf("after DisableScaleIn: put %+v, alarms %+v", upd, alarms)
	}

	// Becoming a step policy deletes the alarms target tracking owned.
	ok(e.a.PutScalingPolicy(e.ctx, &scaling.PutScalingPolicyInput{PolicyName: "cpu", ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, PolicyType: scaling.PolicyTypeStepScaling, StepScalingPolicyConfiguration: stepOut(0)}))(t)
	if n := len(ok(e.alarms.DescribeAlarmsAction(e.ctx, &control.DescribeAlarmsInput{}))(t).MetricAlarms); n != 0 {
		t.Fatalf("%d alarms left after the policy became step scaling", n)
	}

	// Deleting a policy and deregistering a target delete owned alarms.
	e.ttPolicy(t, "web", "cpu2", 50, 60)
	e.ttPolicy(t, "web", "cpu3", 50, 60)
	ok(e.a.DeleteScalingPolicy(e.ctx, &control.DeleteScalingPolicyInput{PolicyName: "cpu2", ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired}))(t)
	if n := len(ok(e.alarms.DescribeAlarmsAction(e.ctx, &control.DescribeAlarmsInput{}))(t).MetricAlarms); n != 2 {
		t.Fatalf("after deleting one of two TT policies: %d alarms, want 2", n)
	}
	_, err := e.a.DeleteScalingPolicy(e.ctx, &control.DeleteScalingPolicyInput{PolicyName: "cpu2", ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired})
	wantCode(t, err, scaling.ObjectNotFoundException)
	ok(e.a.DeregisterScalableTarget(e.ctx, &control.DeregisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired}))(t)
	if n := len(ok(e.alarms.DescribeAlarmsAction(e.ctx, &control.DescribeAlarmsInput{}))(t).MetricAlarms); n != 0 {
		t.Fatalf("%d alarms left after deregistering", n)
	}
	pols := ok(e.a.DescribeScalingPolicies(e.ctx, &control.DescribeScalingPoliciesInput{ServiceNamespace: "ecs"}))(t)
	if len(pols.ScalingPolicies) != 0 {
		t.Fatalf("policies left after deregistering: %+v", pols.ScalingPolicies)
	}
	_, err = e.a.PutScalingPolicy(e.ctx, &scaling.PutScalingPolicyInput{PolicyName: "cpu", ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, PolicyType: scaling.PolicyTypeStepScaling, StepScalingPolicyConfiguration: stepOut(0)})
	wantCode(t, err, scaling.ObjectNotFoundException)
}

func TestPolicyLimitPerTarget(t *testing.T) {
	e := newScaleEnv(t)
	e.service(t, "web", 2)
	e.register(t, "web", 1, 10)
	for i := range scaling.MaxPoliciesPerTarget {
		e.stepPolicy(t, "web", fmt.Sprintf("p%02d", i), stepOut(0))
	}
	_, err := e.a.PutScalingPolicy(e.ctx, &scaling.PutScalingPolicyInput{PolicyName: "one-too-many", ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, PolicyType: scaling.PolicyTypeStepScaling, StepScalingPolicyConfiguration: stepOut(0)})
	wantCode(t, err, scaling.LimitExceededException)
	e.stepPolicy(t, "web", "p00", stepIn(0)) // updating one at the limit is fine

	var names []string
	token := ""
	for {
		page := ok(e.a.DescribeScalingPolicies(e.ctx, &control.DescribeScalingPoliciesInput{ServiceNamespace: "ecs", ResourceID: resource("web"), NextToken: token}))(t)
		if len(page.ScalingPolicies) > 10 {
			t.Fatalf("a page holds %d policies; the default is 10", len(page.ScalingPolicies))
		}
		for _, p := range page.ScalingPolicies {
			names = append(names, p.PolicyName)
		}
		if page.NextToken == "" {
			break
		}
		token = page.NextToken
	}
	if len(names) != scaling.MaxPoliciesPerTarget || names[0] != "p00" {
		t.Fatalf("listed %d policies: %v", len(names), names)
	}
}

func TestDescribeValidation(t *testing.T) {
	e := newScaleEnv(t)
	_, err := e.a.DescribeScalableTargets(e.ctx, &control.DescribeScalableTargetsInput{})
	wantCode(t, err, scaling.ValidationException)
	_, err = e.a.DescribeScalableTargets(e.ctx, &control.DescribeScalableTargetsInput{ServiceNamespace: "ec3"})
	wantCode(t, err, scaling.ValidationException)
	other := ok(e.a.DescribeScalableTargets(e.ctx, &control.DescribeScalableTargetsInput{ServiceNamespace: "dynamodb"}))(t)
	if other.ScalableTargets == nil || len(other.ScalableTargets) != 0 {
		t.Errorf("another namespace lists an empty array: %+v", other)
	}
	_, err = e.a.DescribeScalableTargets(e.ctx, &control.DescribeScalableTargetsInput{ServiceNamespace: "ecs", MaxResults: i32(51)})
	wantCode(t, err, scaling.ValidationException)
	_, err = e.a.DescribeScalableTargets(e.ctx, &control.DescribeScalableTargetsInput{ServiceNamespace: "ecs", NextToken: "forged"})
	wantCode(t, err, control.InvalidNextTokenException)
	_, err = e.a.DescribeScalingPolicies(e.ctx, &control.DescribeScalingPoliciesInput{ServiceNamespace: "ecs", ScalableDimension: scaling.DimensionDesired})
	wantCode(t, err, scaling.ValidationException)
	_, err = e.a.DescribeScalingActivities(e.ctx, &control.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", ResourceID: "cluster/x"})
	wantCode(t, err, scaling.ValidationException)
	_, err = e.a.DescribeScalingActivities(e.ctx, &control.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", NextToken: "b1.!!"})
	wantCode(t, err, control.InvalidNextTokenException)
	_, err = e.a.DeleteScalingPolicy(e.ctx, &control.DeleteScalingPolicyInput{ServiceNamespace: "ecs", ResourceID: resource("web"), ScalableDimension: scaling.DimensionDesired})
	wantCode(t, err, scaling.ValidationException)
}

func TestActivitiesNewestFirstAcrossTargets(t *testing.T) {
	e := newScaleEnv(t)
	for _, s := range []string{"a", "b"} {
		e.service(t, s, 1)
		e.register(t, s, 1, 10)
	}
	for i, s := range []string{"a", "b", "a"} {
		e.clock.Advance(time.Minute)
		ok(e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource(s),
			ScalableDimension: scaling.DimensionDesired, MinCapacity: i32(int32(2 + i))}))(t)
	}
	all := ok(e.a.DescribeScalingActivities(e.ctx, &control.DescribeScalingActivitiesInput{ServiceNamespace: "ecs"}))(t).ScalingActivities
	if len(all) != 3 || all[0].ResourceID != resource("a") || all[0].Cause != "minimum capacity was set to 4" || all[2].Cause != "minimum capacity was set to 2" {
		t.Fatalf("activities = %+v", all)
	}
	page := ok(e.a.DescribeScalingActivities(e.ctx, &control.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", MaxResults: i32(2)}))(t)
	rest := ok(e.a.DescribeScalingActivities(e.ctx, &control.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", MaxResults: i32(2), NextToken: page.NextToken}))(t)
	if len(page.ScalingActivities) != 2 || len(rest.ScalingActivities) != 1 || rest.NextToken != "" || rest.ScalingActivities[0].ActivityID != all[2].ActivityID {
		t.Fatalf("paging: %+v then %+v", page, rest)
	}
}
