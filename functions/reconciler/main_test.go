package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/functions/internal/runtimetest"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { runtimetest.Main(m) }

// TestFunctionAgainstMoto creates a service in moto's DynamoDB, as the api
// function would, then runs the reconciler function's binary on the queued
// batch sample: the two service changes coalesce into one reconcile that
// places the service's tasks, and the malformed message alone is reported
// failed.
func TestFunctionAgainstMoto(t *testing.T) {
	srv := dynamotest.Shared(t)
	st := dynamotest.NewStore(t, srv)
	var ids atomic.Int64
	db := store.NewDB(st, ecs.Account{Region: dynamotest.Region, ID: "123456789012"}, time.Now, func() string { return fmt.Sprintf("%032x", ids.Add(1)) })
	c := control.New(db, control.Options{Now: time.Now, Seed: func() int64 { return 1 }})
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateCluster(ctx, &control.CreateClusterInput{ClusterName: "default"}))
	must(c.RegisterContainerInstance(ctx, &control.RegisterContainerInstanceInput{
		Cluster:                  "default",
		InstanceIdentityDocument: `{"instanceId":"i-0abc123def4567890","availabilityZone":"us-east-1a"}`,
		TotalResources:           []ecs.Resource{{Name: "CPU", Type: "INTEGER", IntegerValue: 2048}, {Name: "MEMORY", Type: "INTEGER", IntegerValue: 3904}},
	}))
	var td control.RegisterTaskDefinitionInput
	if err := json.Unmarshal([]byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"public.ecr.aws/nginx/nginx:1.27","cpu":256,"memory":512,"essential":true}]}`), &td); err != nil {
		t.Fatal(err)
	}
	must(c.RegisterTaskDefinition(ctx, &td))
	two := 2
	must(c.CreateService(ctx, &control.CreateServiceInput{Cluster: "default", ServiceName: "web", TaskDefinition: "web", DesiredCount: &two}))
	tasks := func() int {
		t.Helper()
		out, err := c.ListTasks(ctx, &control.ListTasksInput{Cluster: "default", ServiceName: "web"})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.TaskArns)
	}
	if n := tasks(); n != 0 {
		t.Fatalf("%d tasks before the reconciler ran", n)
	}

	fn := runtimetest.Start(t, runtimetest.Build(t, "."), runtimetest.MotoEnv(srv, "123456789012", st.Table())...)
	res := fn.Invoke(t, runtimetest.Sample(t, "reconciler-sqs-batch.json"))
	if res.Error != nil {
		t.Fatalf("%+v\n%s", res.Error, fn.Output())
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(res.Response, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "e3c7b2a4-5d6f-4a8b-8c1d-2e3f4a5b6c7d" {
		t.Errorf("failures %+v, want only the malformed message\n%s", resp.BatchItemFailures, fn.Output())
	}
	if out := fn.Output(); !strings.Contains(out, "is not an ISO-8601 time") {
		t.Errorf("the log does not say what is wrong with the malformed message:\n%s", out)
	}
	if n := tasks(); n != 2 {
		t.Errorf("%d tasks after the reconciler ran, want the service's 2\n%s", n, fn.Output())
	}
}
