package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-run/berth/functions/internal/runtimetest"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { runtimetest.Main(m) }

// noAlarms is an alarm port with nothing in it, for preparing the store.
type noAlarms struct{}

func (noAlarms) DescribeAlarms(context.Context, []string) ([]control.AlarmInfo, error) {
	return nil, nil
}
func (noAlarms) AlarmsInAlarm(context.Context) ([]control.AlarmInfo, error)         { return nil, nil }
func (noAlarms) PutAlarms(context.Context, string, []scaling.AlarmDefinition) error { return nil }
func (noAlarms) DeleteAlarms(context.Context, []string) error                       { return nil }

// TestFunctionAgainstMoto prepares service web (desired 4) with a target
// tracking policy whose IDs the CloudWatch samples name, in moto's
// DynamoDB, then runs the scaler function's binary on the samples: the
// AlarmHigh event (an alarm CloudWatch does not list, so the policy comes
// from its description) raises the desired count to ceil(4 × 90.1 / 75);
// an OK event and one with malformed reasonData change nothing and do not
// fail the invocation.
func TestFunctionAgainstMoto(t *testing.T) {
	srv := dynamotest.Shared(t)
	st := dynamotest.NewStore(t, srv)
	acct := ecs.Account{Region: dynamotest.Region, ID: "000000000000"}
	var ids atomic.Int64
	db := store.NewDB(st, acct, time.Now, func() string { return fmt.Sprintf("%032x", ids.Add(1)) })
	c := control.New(db, control.Options{Now: time.Now, Seed: func() int64 { return 1 }})
	policyIDs := []string{"6c1e9f53-2b7a-4d8e-a0f4-3e5d7c9b1a2f", "5e3c2b1a-9d8f-4e7a-b6c5-d4e3f2a1b0c9", "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d"}
	a := control.NewAutoscaling(c, control.AutoscalingOptions{Alarms: noAlarms{}, Manager: noAlarms{},
		NewID: func() string { id := policyIDs[0]; policyIDs = policyIDs[1:]; return id }})
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateCluster(ctx, &control.CreateClusterInput{ClusterName: "default"}))
	var td control.RegisterTaskDefinitionInput
	if err := json.Unmarshal([]byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"public.ecr.aws/nginx/nginx:1.27","memory":512}]}`), &td); err != nil {
		t.Fatal(err)
	}
	must(c.RegisterTaskDefinition(ctx, &td))
	four := 4
	must(c.CreateService(ctx, &control.CreateServiceInput{Cluster: "default", ServiceName: "web", TaskDefinition: "web", DesiredCount: &four}))
	one, ten, target := int32(1), int32(10), 75.0
	must(a.RegisterScalableTarget(ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: "service/default/web",
		ScalableDimension: scaling.DimensionDesired, MinCapacity: &one, MaxCapacity: &ten}))
	must(a.PutScalingPolicy(ctx, &scaling.PutScalingPolicyInput{PolicyName: "cpu75", ServiceNamespace: "ecs", ResourceID: "service/default/web",
		ScalableDimension: scaling.DimensionDesired, PolicyType: scaling.PolicyTypeTargetTracking,
		TargetTrackingScalingPolicyConfiguration: &scaling.TargetTrackingScalingPolicyConfiguration{TargetValue: &target,
			PredefinedMetricSpecification: &scaling.PredefinedMetricSpecification{PredefinedMetricType: scaling.MetricECSServiceCPU}}}))
	desired := func() int {
		t.Helper()
		out, err := c.DescribeServices(ctx, &control.DescribeServicesInput{Cluster: "default", Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe web: %v", err)
		}
		return out.Services[0].DesiredCount
	}

	cw := &runtimetest.EmptyCloudWatch{}
	cwSrv := httptest.NewServer(cw)
	t.Cleanup(cwSrv.Close)
	fn := runtimetest.Start(t, runtimetest.Build(t, "."), runtimetest.MotoEnv(srv, "000000000000", st.Table(), "AWS_ENDPOINT_URL_CLOUDWATCH="+cwSrv.URL)...)
	for _, name := range []string{"cloudwatch-alarm-malformed-reasondata.json", "cloudwatch-alarm-state-change-ok.json"} {
		if res := fn.Invoke(t, runtimetest.Sample(t, name)); res.Error != nil {
			t.Fatalf("%s: %+v\n%s", name, res.Error, fn.Output())
		}
	}
	if d := desired(); d != 4 || len(cw.Called()) != 0 {
		t.Fatalf("after the malformed and OK events: desired %d, CloudWatch calls %v", d, cw.Called())
	}
	if res := fn.Invoke(t, runtimetest.Sample(t, "cloudwatch-alarm-state-change-alarm.json")); res.Error != nil {
		t.Fatalf("AlarmHigh event: %+v\n%s", res.Error, fn.Output())
	}
	if d := desired(); d != 5 {
		t.Fatalf("desired count after AlarmHigh at 90.1 against 75 on 4 tasks: %d, want 5\n%s", d, fn.Output())
	}
	if calls := cw.Called(); len(calls) == 0 || calls[0] != "DescribeAlarms" {
		t.Errorf("CloudWatch calls = %v, want DescribeAlarms", calls)
	}
	acts, err := a.DescribeScalingActivities(ctx, &control.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", ResourceID: "service/default/web"})
	if err != nil || len(acts.ScalingActivities) != 1 || acts.ScalingActivities[0].StatusMessage != scaling.SuccessMessage(5) {
		t.Fatalf("activities = %+v (%v)", acts, err)
	}
}
