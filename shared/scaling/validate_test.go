package scaling

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/ecs"
)

func register(mut func(*RegisterScalableTargetInput)) RegisterScalableTargetInput {
	in := RegisterScalableTargetInput{
		ServiceNamespace: NamespaceECS, ResourceID: testResource, ScalableDimension: DimensionDesired,
		MinCapacity: i32(1), MaxCapacity: i32(10),
	}
	if mut != nil {
		mut(&in)
	}
	return in
}

func wantError(t *testing.T, err error, code, substr string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	e, ok := ecs.AsError(err)
	if !ok {
		t.Fatalf("error %v, want %s containing %q", err, code, substr)
	}
	if e.Code != code || !strings.Contains(e.Message, substr) {
		t.Fatalf("error %s: %q, want %s containing %q", e.Code, e.Message, code, substr)
	}
}

func TestApplyRegisterScalableTarget(t *testing.T) {
	existing := &ScalableTarget{
		ServiceNamespace: NamespaceECS, ResourceID: testResource, ScalableDimension: DimensionDesired,
		MinCapacity: 2, MaxCapacity: 8, ScalableTargetARN: "arn:old", CreationTime: ecs.At(t0),
		SuspendedState: SuspendedState{DynamicScalingInSuspended: true},
	}
	cases := []struct {
		name     string
		in       RegisterScalableTargetInput
		existing *ScalableTarget
		code     string
		substr   string
	}{
		{"valid new target", register(nil), nil, "", ""},
		{"scale to zero allowed", register(func(in *RegisterScalableTargetInput) { in.MinCapacity = i32(0) }), nil, "", ""},
		{"min equal to max", register(func(in *RegisterScalableTargetInput) { in.MinCapacity, in.MaxCapacity = i32(3), i32(3) }), nil, "", ""},
		{"min above max", register(func(in *RegisterScalableTargetInput) { in.MinCapacity = i32(11) }), nil, ValidationException, "Minimum capacity cannot be greater than maximum capacity"},
		{"negative min", register(func(in *RegisterScalableTargetInput) { in.MinCapacity = i32(-1) }), nil, ValidationException, "MinCapacity must be greater than or equal to 0"},
		{"negative max", register(func(in *RegisterScalableTargetInput) { in.MaxCapacity = i32(-1) }), nil, ValidationException, "MaxCapacity"},
		{"new target without min", register(func(in *RegisterScalableTargetInput) { in.MinCapacity = nil }), nil, ValidationException, "MinCapacity and MaxCapacity are required"},
		{"update may omit min and max", register(func(in *RegisterScalableTargetInput) { in.MinCapacity, in.MaxCapacity = nil, nil }), existing, "", ""},
		{"update min above stored max", register(func(in *RegisterScalableTargetInput) { in.MinCapacity, in.MaxCapacity = i32(9), nil }), existing, ValidationException, "MinCapacity 9, MaxCapacity 8"},
		{"other namespace", register(func(in *RegisterScalableTargetInput) { in.ServiceNamespace = "dynamodb" }), nil, ValidationException, "Unsupported service namespace, resource type or scalable dimension"},
		{"missing namespace", register(func(in *RegisterScalableTargetInput) { in.ServiceNamespace = "" }), nil, ValidationException, "'serviceNamespace' failed to satisfy constraint: Member must not be null"},
		{"other dimension", register(func(in *RegisterScalableTargetInput) { in.ScalableDimension = "ecs:service:Memory" }), nil, ValidationException, "ScalableDimension ecs:service:Memory"},
		{"resource of another type", register(func(in *RegisterScalableTargetInput) { in.ResourceID = "table/orders" }), nil, ValidationException, "ResourceId \"table/orders\""},
		{"resource without service", register(func(in *RegisterScalableTargetInput) { in.ResourceID = "service/default" }), nil, ValidationException, "Invalid ResourceId"},
		{"resource with a bad name", register(func(in *RegisterScalableTargetInput) { in.ResourceID = "service/default/web app" }), nil, ValidationException, "Invalid ResourceId"},
		{"resource with too many parts", register(func(in *RegisterScalableTargetInput) { in.ResourceID = "service/a/b/c" }), nil, ValidationException, "Invalid ResourceId"},
		{"missing resource", register(func(in *RegisterScalableTargetInput) { in.ResourceID = "" }), nil, ValidationException, "'resourceId'"},
		{"bad role", register(func(in *RegisterScalableTargetInput) { in.RoleARN = "my-role" }), nil, ValidationException, "RoleARN"},
		{"reserved tag", register(func(in *RegisterScalableTargetInput) { in.Tags = map[string]string{"aws:x": "y"} }), nil, ValidationException, "reserved prefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ApplyRegisterScalableTarget(c.in, c.existing, t0, "arn:new")
			wantError(t, err, c.code, c.substr)
		})
	}
}

func TestApplyRegisterScalableTargetMerges(t *testing.T) {
	got, err := ApplyRegisterScalableTarget(register(nil), nil, t0, "arn:new")
	if err != nil {
		t.Fatal(err)
	}
	if got.MinCapacity != 1 || got.MaxCapacity != 10 || got.ScalableTargetARN != "arn:new" || !got.CreationTime.Equal(t0) {
		t.Errorf("new target %+v", got)
	}
	in := register(func(in *RegisterScalableTargetInput) {
		in.MinCapacity, in.MaxCapacity = nil, i32(20)
		in.SuspendedState = &SuspendedStateInput{DynamicScalingOutSuspended: boolp(true)}
	})
	upd, err := ApplyRegisterScalableTarget(in, &got, t0.Add(1e9), "arn:other")
	if err != nil {
		t.Fatal(err)
	}
	want := SuspendedState{DynamicScalingOutSuspended: true}
	if upd.MinCapacity != 1 || upd.MaxCapacity != 20 || upd.ScalableTargetARN != "arn:new" || !upd.CreationTime.Equal(t0) || upd.SuspendedState != want {
		t.Errorf("updated target %+v", upd)
	}
	b, err := json.Marshal(upd)
	if err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{`"ServiceNamespace":"ecs"`, `"ResourceId":"service/default/web-app"`, `"MinCapacity":1`, `"MaxCapacity":20`, `"DynamicScalingInSuspended":false`, `"CreationTime":1741953600`} {
		if !strings.Contains(string(b), member) {
			t.Errorf("wire form %s lacks %s", b, member)
		}
	}
}

func putPolicy(mut func(*PutScalingPolicyInput)) PutScalingPolicyInput {
	in := PutScalingPolicyInput{
		PolicyName: "web-app-cpu-gt-75", ServiceNamespace: NamespaceECS, ResourceID: testResource, ScalableDimension: DimensionDesired,
		PolicyType: PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &StepScalingPolicyConfiguration{
			AdjustmentType:  ChangeInCapacity,
			StepAdjustments: []StepAdjustment{step(f64(0), f64(10), 1), step(f64(10), nil, 3)},
		},
	}
	if mut != nil {
		mut(&in)
	}
	return in
}

func withSteps(typ string, steps ...StepAdjustment) func(*PutScalingPolicyInput) {
	return func(in *PutScalingPolicyInput) {
		in.StepScalingPolicyConfiguration = &StepScalingPolicyConfiguration{AdjustmentType: typ, StepAdjustments: steps}
	}
}

func withTT(cfg TargetTrackingScalingPolicyConfiguration) func(*PutScalingPolicyInput) {
	return func(in *PutScalingPolicyInput) {
		in.PolicyType, in.StepScalingPolicyConfiguration = PolicyTypeTargetTracking, nil
		in.TargetTrackingScalingPolicyConfiguration = &cfg
	}
}

func cpuTT(target float64) TargetTrackingScalingPolicyConfiguration {
	return TargetTrackingScalingPolicyConfiguration{
		TargetValue:                   f64(target),
		PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceCPU},
	}
}

func TestApplyPutScalingPolicy(t *testing.T) {
	const alb = "app/my-alb/778d41231b141a0f/targetgroup/my-alb-target-group/943f017f100becff"
	many := make([]StepAdjustment, 21)
	for i := range many {
		lo := float64(i)
		many[i] = step(&lo, f64(lo+1), 1)
	}
	many[20].MetricIntervalUpperBound = nil
	stepExisting := &ScalingPolicy{PolicyName: "web-app-cpu-gt-75", PolicyType: PolicyTypeStepScaling, StepScalingPolicyConfiguration: putPolicy(nil).StepScalingPolicyConfiguration}
	cases := []struct {
		name     string
		in       PutScalingPolicyInput
		existing *ScalingPolicy
		code     string
		substr   string
	}{
		{"valid step policy", putPolicy(nil), nil, "", ""},
		{"valid scale-in policy", putPolicy(withSteps(ChangeInCapacity, step(nil, f64(-10), -2), step(f64(-10), f64(0), -1))), nil, "", ""},
		{"valid two-sided policy", putPolicy(withSteps(ChangeInCapacity, step(nil, f64(0), -1), step(f64(0), nil, 1))), nil, "", ""},
		{"valid percent with magnitude", putPolicy(func(in *PutScalingPolicyInput) {
			withSteps(PercentChangeInCapacity, step(f64(0), nil, 25))(in)
			in.StepScalingPolicyConfiguration.MinAdjustmentMagnitude = i32(2)
		}), nil, "", ""},
		{"steps starting above the threshold", putPolicy(withSteps(ChangeInCapacity, step(f64(10), nil, 1))), nil, "", ""},
		{"missing policy name", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyName = "" }), nil, ValidationException, "'policyName'"},
		{"unprintable policy name", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyName = "a\nb" }), nil, ValidationException, "printable"},
		{"long policy name", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyName = strings.Repeat("p", 257) }), nil, ValidationException, "length between 1 and 256"},
		{"bad resource", putPolicy(func(in *PutScalingPolicyInput) { in.ResourceID = "service//x" }), nil, ValidationException, "Invalid ResourceId"},
		{"missing policy type on create", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyType = "" }), nil, ValidationException, "PolicyType is required"},
		{"missing policy type on update", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyType = "" }), stepExisting, "", ""},
		{"unknown policy type", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyType = "Simple" }), nil, ValidationException, "Member must satisfy enum value set: [StepScaling, TargetTrackingScaling, PredictiveScaling]"},
		{"predictive scaling", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyType = PolicyTypePredictiveScaling }), nil, ValidationException, "PredictiveScaling is not supported"},
		{"missing step configuration", putPolicy(func(in *PutScalingPolicyInput) { in.StepScalingPolicyConfiguration = nil }), nil, ValidationException, "StepScalingPolicyConfiguration is required"},
		{"step configuration kept on update", putPolicy(func(in *PutScalingPolicyInput) { in.StepScalingPolicyConfiguration = nil }), stepExisting, "", ""},
		{"target tracking configuration on a step policy", putPolicy(func(in *PutScalingPolicyInput) {
			c := cpuTT(50)
			in.TargetTrackingScalingPolicyConfiguration = &c
		}), nil, ValidationException, "TargetTrackingScalingPolicyConfiguration can only be specified with PolicyType TargetTrackingScaling"},
		{"step configuration on a target tracking policy", putPolicy(func(in *PutScalingPolicyInput) { in.PolicyType = PolicyTypeTargetTracking }), nil, ValidationException, "StepScalingPolicyConfiguration can only be specified with PolicyType StepScaling"},
		{"missing adjustment type", putPolicy(withSteps("", step(f64(0), nil, 1))), nil, ValidationException, "AdjustmentType is required"},
		{"unknown adjustment type", putPolicy(withSteps("Change", step(f64(0), nil, 1))), nil, ValidationException, "at 'stepScalingPolicyConfiguration.adjustmentType' failed to satisfy constraint: Member must satisfy enum value set: [ChangeInCapacity, PercentChangeInCapacity, ExactCapacity]"},
		{"unknown aggregation", putPolicy(func(in *PutScalingPolicyInput) { in.StepScalingPolicyConfiguration.MetricAggregationType = "Median" }), nil, ValidationException, "[Average, Minimum, Maximum]"},
		{"magnitude with change in capacity", putPolicy(func(in *PutScalingPolicyInput) { in.StepScalingPolicyConfiguration.MinAdjustmentMagnitude = i32(2) }), nil, ValidationException, "MinAdjustmentMagnitude is only supported with AdjustmentType PercentChangeInCapacity"},
		{"zero magnitude", putPolicy(func(in *PutScalingPolicyInput) {
			withSteps(PercentChangeInCapacity, step(f64(0), nil, 25))(in)
			in.StepScalingPolicyConfiguration.MinAdjustmentMagnitude = i32(0)
		}), nil, ValidationException, "MinAdjustmentMagnitude must be at least 1"},
		{"negative cooldown", putPolicy(func(in *PutScalingPolicyInput) { in.StepScalingPolicyConfiguration.Cooldown = i32(-1) }), nil, ValidationException, "Cooldown must be greater than or equal to 0"},
		{"no steps", putPolicy(withSteps(ChangeInCapacity)), nil, ValidationException, "at least one step adjustment"},
		{"too many steps", putPolicy(withSteps(ChangeInCapacity, many...)), nil, ValidationException, "at most 20 step adjustments"},
		{"missing scaling adjustment", putPolicy(withSteps(ChangeInCapacity, StepAdjustment{MetricIntervalLowerBound: f64(0)})), nil, ValidationException, "StepAdjustments[0].ScalingAdjustment is required"},
		{"both bounds null", putPolicy(withSteps(ChangeInCapacity, step(nil, nil, 1))), nil, ValidationException, "Both lower and upper bounds of a step adjustment cannot be left unspecified"},
		{"upper not above lower", putPolicy(withSteps(ChangeInCapacity, step(f64(10), f64(10), 1), step(f64(10), nil, 2))), nil, ValidationException, "StepAdjustments[0].MetricIntervalUpperBound (10) must be greater than MetricIntervalLowerBound (10)"},
		{"two null lower bounds", putPolicy(withSteps(ChangeInCapacity, step(nil, f64(-10), -2), step(nil, f64(0), -1))), nil, ValidationException, "At most one step adjustment can have an unspecified lower bound"},
		{"two null upper bounds", putPolicy(withSteps(ChangeInCapacity, step(f64(0), nil, 1), step(f64(10), nil, 2))), nil, ValidationException, "At most one step adjustment can have an unspecified upper bound"},
		{"overlap", putPolicy(withSteps(ChangeInCapacity, step(f64(0), f64(15), 1), step(f64(10), nil, 2))), nil, ValidationException, "must not overlap"},
		{"gap", putPolicy(withSteps(ChangeInCapacity, step(f64(0), f64(10), 1), step(f64(20), nil, 2))), nil, ValidationException, "must not have gaps: StepScalingPolicyConfiguration.StepAdjustments[0] ends at 10 but StepScalingPolicyConfiguration.StepAdjustments[1] starts at 20"},
		{"negative lower bound without a null lower", putPolicy(withSteps(ChangeInCapacity, step(f64(-10), f64(0), -1))), nil, ValidationException, "negative lower bound"},
		{"positive upper bound without a null upper", putPolicy(withSteps(ChangeInCapacity, step(f64(0), f64(10), 1))), nil, ValidationException, "positive upper bound"},
		{"negative exact capacity", putPolicy(withSteps(ExactCapacity, step(f64(0), nil, -1))), nil, ValidationException, "must be non-negative for AdjustmentType ExactCapacity"},
		{"valid target tracking", putPolicy(withTT(cpuTT(75))), nil, "", ""},
		{"valid memory target tracking", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(60), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceMemory}})), nil, "", ""},
		{"valid ALB target tracking", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(1000), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricALBRequestsPerTask, ResourceLabel: alb}})), nil, "", ""},
		{"ALB without resource label", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(1000), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricALBRequestsPerTask}})), nil, ValidationException, "ResourceLabel is required with PredefinedMetricType ALBRequestCountPerTarget"},
		{"ALB with a malformed label", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(1000), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricALBRequestsPerTask, ResourceLabel: "my-alb"}})), nil, ValidationException, "ResourceLabel \"my-alb\""},
		{"CPU with a resource label", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceCPU, ResourceLabel: alb}})), nil, ValidationException, "ResourceLabel can only be specified with PredefinedMetricType ALBRequestCountPerTarget"},
		{"metric of another service", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: "DynamoDBReadCapacityUtilization"}})), nil, ValidationException, "DynamoDBReadCapacityUtilization is not supported"},
		{"missing target value", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceCPU}})), nil, ValidationException, "TargetValue is required"},
		{"target value beyond 2^360", putPolicy(withTT(cpuTT(1e120))), nil, ValidationException, "range of -2^360 to 2^360"},
		{"zero target value", putPolicy(withTT(cpuTT(0))), nil, ValidationException, "TargetValue must be greater than 0"},
		{"no metric", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50)})), nil, ValidationException, "one of PredefinedMetricSpecification or CustomizedMetricSpecification is required"},
		{"both metrics", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceCPU}, CustomizedMetricSpecification: json.RawMessage(`{"MetricName":"q","Namespace":"n","Statistic":"Average"}`)})), nil, ValidationException, "specify only one"},
		{"valid customized metric", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), CustomizedMetricSpecification: json.RawMessage(`{"MetricName":"QueueDepth","Namespace":"MyApp","Dimensions":[{"Name":"Queue","Value":"jobs"}],"Statistic":"Average"}`)})), nil, "", ""},
		{"customized metric without statistic", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), CustomizedMetricSpecification: json.RawMessage(`{"MetricName":"q","Namespace":"n"}`)})), nil, ValidationException, "CustomizedMetricSpecification.Statistic is required"},
		{"customized metric math", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), CustomizedMetricSpecification: json.RawMessage(`{"Metrics":[{"Id":"m1","Expression":"a+b"}]}`)})), nil, ValidationException, "metric math"},
		{"customized metric not an object", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), CustomizedMetricSpecification: json.RawMessage(`[1]`)})), nil, ValidationException, "must be an object"},
		{"negative scale-in cooldown", putPolicy(withTT(TargetTrackingScalingPolicyConfiguration{TargetValue: f64(50), PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceCPU}, ScaleInCooldown: i32(-5)})), nil, ValidationException, "ScaleInCooldown must be greater than or equal to 0"},
		{"missing target tracking configuration", putPolicy(func(in *PutScalingPolicyInput) {
			in.PolicyType, in.StepScalingPolicyConfiguration = PolicyTypeTargetTracking, nil
		}), nil, ValidationException, "TargetTrackingScalingPolicyConfiguration is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ApplyPutScalingPolicy(c.in, c.existing, t0, "arn:policy")
			wantError(t, err, c.code, c.substr)
		})
	}
}

func TestApplyPutScalingPolicyUpdateKeepsIdentity(t *testing.T) {
	created, err := ApplyPutScalingPolicy(putPolicy(withTT(cpuTT(75))), nil, t0, "arn:policy/1")
	if err != nil {
		t.Fatal(err)
	}
	created.Alarms = []Alarm{{AlarmName: "TargetTracking-service/default/web-app-AlarmHigh-1", AlarmARN: "arn:alarm"}}
	updated, err := ApplyPutScalingPolicy(putPolicy(withTT(cpuTT(60))), &created, t0.Add(1e9), "arn:policy/2")
	if err != nil {
		t.Fatal(err)
	}
	if updated.PolicyARN != "arn:policy/1" || !updated.CreationTime.Equal(t0) || len(updated.Alarms) != 1 || updated.TargetTrackingScalingPolicyConfiguration.Target() != 60 {
		t.Errorf("updated policy %+v", updated)
	}
	switched, err := ApplyPutScalingPolicy(putPolicy(nil), &updated, t0, "arn:policy/3")
	if err != nil {
		t.Fatal(err)
	}
	if switched.PolicyType != PolicyTypeStepScaling || switched.Alarms != nil || switched.TargetTrackingScalingPolicyConfiguration != nil {
		t.Errorf("type switch kept target tracking state: %+v", switched)
	}
}

func TestScalingPolicyWireShape(t *testing.T) {
	p, err := ApplyPutScalingPolicy(putPolicy(nil), nil, t0, "arn:aws:autoscaling:us-west-2:012345678910:scalingPolicy:6d8972f3:resource/ecs/service/default/web-app:policyName/web-app-cpu-gt-75")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"PolicyARN":"arn:aws:autoscaling:us-west-2:012345678910:scalingPolicy:6d8972f3:resource/ecs/service/default/web-app:policyName/web-app-cpu-gt-75","PolicyName":"web-app-cpu-gt-75","ServiceNamespace":"ecs","ResourceId":"service/default/web-app","ScalableDimension":"ecs:service:DesiredCount","PolicyType":"StepScaling","StepScalingPolicyConfiguration":{"AdjustmentType":"ChangeInCapacity","StepAdjustments":[{"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":10,"ScalingAdjustment":1},{"MetricIntervalLowerBound":10,"ScalingAdjustment":3}]},"CreationTime":1741953600}`
	if string(b) != want {
		t.Errorf("wire form\n got %s\nwant %s", b, want)
	}
}

func TestValidateTargetKeyAndARNs(t *testing.T) {
	svc, err := ValidateTargetKey(TargetKey{ServiceNamespace: NamespaceECS, ResourceID: "service/prod/api_v2", ScalableDimension: DimensionDesired})
	if err != nil || svc != (Service{Cluster: "prod", Name: "api_v2"}) || svc.ResourceID() != "service/prod/api_v2" {
		t.Fatalf("ValidateTargetKey = %+v, %v", svc, err)
	}
	acct := ecs.Account{Region: "us-west-2", ID: "012345678910"}
	if got, want := PolicyARN(acct, "6d8972f3-efc8-437c-92d1-6270f29a66e7", "service/default/web-app", "cpu75"),
		"arn:aws:autoscaling:us-west-2:012345678910:scalingPolicy:6d8972f3-efc8-437c-92d1-6270f29a66e7:resource/ecs/service/default/web-app:policyName/cpu75"; got != want {
		t.Errorf("PolicyARN = %s", got)
	}
	if got := ScalableTargetARN(acct, "abc"); got != "arn:aws:application-autoscaling:us-west-2:012345678910:scalable-target/abc" {
		t.Errorf("ScalableTargetARN = %s", got)
	}
	arn := AlarmARN(acct, "TargetTracking-service/default/web-app-AlarmHigh-1")
	if name, ok := AlarmNameFromARN(arn); !ok || name != "TargetTracking-service/default/web-app-AlarmHigh-1" {
		t.Errorf("AlarmNameFromARN(%s) = %q, %v", arn, name, ok)
	}
	if _, ok := AlarmNameFromARN("arn:aws:ecs:us-west-2:1:cluster/x"); ok {
		t.Error("an ECS ARN parsed as an alarm ARN")
	}
}

func TestErrorConstructors(t *testing.T) {
	cases := []struct {
		err    *ecs.Error
		code   string
		substr string
	}{
		{NoScalableTarget(NamespaceECS, testResource, DimensionDesired), ObjectNotFoundException, "No scalable target registered for service namespace: ecs, resource ID: service/default/web-app, scalable dimension: ecs:service:DesiredCount"},
		{NoScalingPolicy(NamespaceECS, testResource, DimensionDesired, "p"), ObjectNotFoundException, "policy name: p"},
		{ServiceDoesNotExist(testResource), ValidationException, "ECS service doesn't exist: service/default/web-app"},
		{ConcurrentUpdate(), ConcurrentUpdateException, "pending update"},
		{PolicyLimitExceeded(testResource), LimitExceededException, "50 scaling policies"},
		{FailedResourceAccess("cannot read %s", testResource), FailedResourceAccessException, "cannot read service/default/web-app"},
		{InternalService(errString("boom")), InternalServiceException, "boom"},
	}
	for _, c := range cases {
		wantError(t, c.err, c.code, c.substr)
	}
	if !InternalService(errString("x")).Fault || ConcurrentUpdate().Fault {
		t.Error("only InternalServiceException is a server fault")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestNullMembersAreAbsent(t *testing.T) {
	cfg := cpuTT(50)
	cfg.CustomizedMetricSpecification = json.RawMessage(`null`)
	in := putPolicy(withTT(cfg))
	in.PredictiveScalingPolicyConfiguration = json.RawMessage(` null `)
	p, err := ApplyPutScalingPolicy(in, nil, t0, "arn")
	if err != nil {
		t.Fatal(err)
	}
	if p.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification != nil || cfg.CustomizedMetricSpecification == nil {
		t.Errorf("stored %s; input %s", p.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification, cfg.CustomizedMetricSpecification)
	}
	if got := ECSServiceLinkedRoleARN(ecs.Account{Region: "us-west-2", ID: "012345678910"}); got != "arn:aws:iam::012345678910:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService" {
		t.Errorf("role %s", got)
	}
}
