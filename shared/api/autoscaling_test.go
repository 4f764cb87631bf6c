package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/local"
	"github.com/berth-run/berth/shared/store"
)

// aasClient is the official Application Auto Scaling client on a fresh
// local control plane whose cluster "default" holds ACTIVE services.
func aasClient(t *testing.T, services ...string) (*aas.Client, *local.Plane) {
	t.Helper()
	p := testenv.Plane(t, local.Config{})
	ctx := context.Background()
	db := p.Control().DB()
	acct := db.Account()
	must(db.CreateCluster(ctx, ecs.Cluster{ClusterName: "default", ClusterArn: acct.ClusterARN("default"), Status: ecs.ClusterActive}))(t)
	for _, name := range services {
		must(db.CreateService(ctx, store.Service{
			Service: ecs.Service{ServiceName: name, ServiceArn: acct.ServiceARN("default", name), ClusterArn: acct.ClusterARN("default"),
				Status: ecs.ServiceActive, DesiredCount: 2},
			Berth: store.ServiceState{Cluster: "default"},
		}))(t)
	}
	return aas.NewFromConfig(testenv.AWSConfig(p.Endpoint())), p
}

func registerInput(service string, minCap, maxCap int32) *aas.RegisterScalableTargetInput {
	return &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/default/" + service),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(minCap), MaxCapacity: aws.Int32(maxCap)}
}

func TestSDKScalableTargets(t *testing.T) {
	c, p := aasClient(t, "a", "b", "c")
	ctx := context.Background()
	_, err := c.RegisterScalableTarget(ctx, registerInput("missing", 1, 2))
	if e := wantError[*aastypes.ValidationException](t, err); !strings.Contains(aws.ToString(e.Message), "ECS service doesn't exist") {
		t.Errorf("message = %s", aws.ToString(e.Message))
	}
	for _, s := range []string{"c", "a", "b"} {
		out := must(c.RegisterScalableTarget(ctx, registerInput(s, 1, 5)))(t)
		if !strings.HasPrefix(aws.ToString(out.ScalableTargetARN), "arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/") {
			t.Errorf("ARN = %s", aws.ToString(out.ScalableTargetARN))
		}
	}
	var ids []string
	pager := aas.NewDescribeScalableTargetsPaginator(c, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, MaxResults: aws.Int32(2)})
	for pager.HasMorePages() {
		page := must(pager.NextPage(ctx))(t)
		for _, tg := range page.ScalableTargets {
			ids = append(ids, aws.ToString(tg.ResourceId))
			if tg.MinCapacity == nil || *tg.MinCapacity != 1 || *tg.MaxCapacity != 5 || tg.CreationTime == nil || tg.SuspendedState == nil {
				t.Errorf("target = %+v", tg)
			}
		}
	}
	if strings.Join(ids, ",") != "service/default/a,service/default/b,service/default/c" {
		t.Fatalf("targets = %v", ids)
	}
	named := must(c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceIds: []string{"service/default/b"}}))(t)
	if len(named.ScalableTargets) != 1 || aws.ToString(named.ScalableTargets[0].ResourceId) != "service/default/b" {
		t.Fatalf("named = %+v", named.ScalableTargets)
	}
	_, err = c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, NextToken: aws.String("nope")})
	wantError[*aastypes.InvalidNextTokenException](t, err)

	// New bounds move the desired count and record an activity.
	must(c.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/default/a"),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(3)}))(t)
	s, _, _, err := p.Control().DB().Service(ctx, "default", "a")
	if err != nil || s.DesiredCount != 3 {
		t.Fatalf("desired count after MinCapacity 3: %d (%v)", s.DesiredCount, err)
	}
	acts := must(c.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/default/a"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}))(t)
	if len(acts.ScalingActivities) != 1 || acts.ScalingActivities[0].StatusCode != aastypes.ScalingActivityStatusCodeSuccessful ||
		aws.ToString(acts.ScalingActivities[0].Description) != "Setting desired count to 3." || acts.ScalingActivities[0].StartTime == nil {
		t.Fatalf("activities = %+v", acts.ScalingActivities)
	}

	must(c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/default/c"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}))(t)
	_, err = c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/default/c"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount})
	wantError[*aastypes.ObjectNotFoundException](t, err)
}

func TestSDKScalingPolicies(t *testing.T) {
	c, _ := aasClient(t, "web")
	ctx := context.Background()
	res, dim := aws.String("service/default/web"), aastypes.ScalableDimensionECSServiceDesiredCount
	stepCfg := &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity, Cooldown: aws.Int32(60),
		StepAdjustments: []aastypes.StepAdjustment{
			{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(20), ScalingAdjustment: aws.Int32(1)},
			{MetricIntervalLowerBound: aws.Float64(20), ScalingAdjustment: aws.Int32(3)},
		}}
	_, err := c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("out"), ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: res, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeStepScaling, StepScalingPolicyConfiguration: stepCfg})
	wantError[*aastypes.ObjectNotFoundException](t, err)
	must(c.RegisterScalableTarget(ctx, registerInput("web", 0, 10)))(t)

	step := must(c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("out"), ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: res, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeStepScaling, StepScalingPolicyConfiguration: stepCfg}))(t)
	if !strings.HasSuffix(aws.ToString(step.PolicyARN), ":resource/ecs/service/default/web:policyName/out") || len(step.Alarms) != 0 {
		t.Errorf("step policy = %+v", step)
	}
	tt := must(c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: res, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(75),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
			ScaleInCooldown:               aws.Int32(120)}}))(t)
	if len(tt.Alarms) != 2 || !strings.HasPrefix(aws.ToString(tt.Alarms[0].AlarmName), "TargetTracking-service/default/web-AlarmHigh-") ||
		!strings.HasPrefix(aws.ToString(tt.Alarms[1].AlarmARN), "arn:aws:cloudwatch:us-east-1:000000000000:alarm:TargetTracking-service/default/web-AlarmLow-") {
		t.Fatalf("target tracking alarms = %+v", tt.Alarms)
	}

	got := must(c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res, ScalableDimension: dim}))(t)
	if len(got.ScalingPolicies) != 2 {
		t.Fatalf("policies = %+v", got.ScalingPolicies)
	}
	cpu, out := got.ScalingPolicies[0], got.ScalingPolicies[1]
	if cfg := cpu.TargetTrackingScalingPolicyConfiguration; cpu.PolicyType != aastypes.PolicyTypeTargetTrackingScaling || cfg == nil ||
		aws.ToFloat64(cfg.TargetValue) != 75 || aws.ToInt32(cfg.ScaleInCooldown) != 120 || cfg.ScaleOutCooldown != nil || len(cpu.Alarms) != 2 {
		t.Errorf("target tracking policy = %+v", cpu)
	}
	if cfg := out.StepScalingPolicyConfiguration; cfg == nil || len(cfg.StepAdjustments) != 2 || cfg.StepAdjustments[1].MetricIntervalUpperBound != nil ||
		aws.ToFloat64(cfg.StepAdjustments[1].MetricIntervalLowerBound) != 20 || aws.ToInt32(cfg.StepAdjustments[1].ScalingAdjustment) != 3 {
		t.Errorf("step policy = %+v", out)
	}
	named := must(c.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, PolicyNames: []string{"out"}}))(t)
	if len(named.ScalingPolicies) != 1 || aws.ToString(named.ScalingPolicies[0].PolicyName) != "out" {
		t.Fatalf("by name = %+v", named.ScalingPolicies)
	}

	_, err = c.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{PolicyName: aws.String("bad"), ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: res, ScalableDimension: dim, PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(10), ScalingAdjustment: aws.Int32(1)}}}})
	wantError[*aastypes.ValidationException](t, err)

	must(c.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res, ScalableDimension: dim}))(t)
	_, err = c.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{PolicyName: aws.String("cpu"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res, ScalableDimension: dim})
	wantError[*aastypes.ObjectNotFoundException](t, err)
}

// post sends a raw awsJson1_1 request and returns the status and decoded body.
func post(t *testing.T, endpoint, target, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: body %q", target, raw)
	}
	return resp.StatusCode, v
}

func TestAutoScalingDecodingErrorsAreValidationExceptions(t *testing.T) {
	_, p := aasClient(t)
	status, body := post(t, p.Endpoint(), "AnyScaleFrontendService.DescribeScalableTargets", `{"ServiceNamespace":"ecs","Bogus":1}`)
	if status != http.StatusBadRequest || body["__type"] != "ValidationException" || !strings.Contains(body["message"].(string), "Bogus") {
		t.Fatalf("unknown member: %d %v", status, body)
	}
	status, body = post(t, p.Endpoint(), "AnyScaleFrontendService.DescribeScalableTargets", `{"ServiceNamespace":"ecs","MaxResults":"ten"}`)
	if status != http.StatusBadRequest || body["__type"] != "ValidationException" {
		t.Fatalf("wrong type: %d %v", status, body)
	}
}

func TestLocalAlarmAndAgentMetricActionsAreServed(t *testing.T) {
	_, p := aasClient(t)
	status, body := post(t, p.Endpoint(), "BerthAlarm.PutMetricAlarm", `{"AlarmName":"a","Namespace":"Test","MetricName":"Load","Statistic":"Average",
		"Period":60,"EvaluationPeriods":1,"Threshold":5,"ComparisonOperator":"GreaterThanThreshold"}`)
	if status != http.StatusOK || body["AlarmArn"] != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a" {
		t.Fatalf("PutMetricAlarm: %d %v", status, body)
	}
	status, _ = post(t, p.Endpoint(), "BerthAlarm.SetAlarmState", `{"AlarmName":"a","StateValue":"ALARM","StateReason":"test"}`)
	if status != http.StatusOK {
		t.Fatalf("SetAlarmState: %d", status)
	}
	status, body = post(t, p.Endpoint(), "BerthAlarm.DescribeAlarms", `{"StateValue":"ALARM"}`)
	alarms, _ := body["MetricAlarms"].([]any)
	if status != http.StatusOK || len(alarms) != 1 {
		t.Fatalf("DescribeAlarms: %d %v", status, body)
	}
	status, body = post(t, p.Endpoint(), "BerthAlarm.SetAlarmState", `{"AlarmName":"nope","StateValue":"ALARM","StateReason":"test"}`)
	if status != http.StatusBadRequest || body["__type"] != "ResourceNotFound" {
		t.Fatalf("SetAlarmState on a missing alarm: %d %v", status, body)
	}
	status, body = post(t, p.Endpoint(), "BerthAgent.SubmitMetrics", `{"protocolVersion":1,"cluster":"default",
		"containerInstanceArn":"arn:aws:ecs:us-east-1:000000000000:container-instance/default/0123456789abcdef0123456789abcdef","tasks":[]}`)
	if status != http.StatusOK || body["accepted"] != float64(0) {
		t.Fatalf("SubmitMetrics: %d %v", status, body)
	}
}
