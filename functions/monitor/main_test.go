package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-run/berth/functions/internal/runtimetest"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { runtimetest.Main(m) }

// TestFunctionAgainstMoto registers a container instance whose agent went
// silent ten minutes ago, then runs the monitor function's binary on the
// samples: the scheduled tick declares the host lost, the malformed event
// is refused with an error saying why.
func TestFunctionAgainstMoto(t *testing.T) {
	srv := dynamotest.Shared(t)
	st := dynamotest.NewStore(t, srv)
	acct := ecs.Account{Region: dynamotest.Region, ID: "123456789012"}
	past := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	var ids atomic.Int64
	db := store.NewDB(st, acct, past, func() string { return fmt.Sprintf("%032x", ids.Add(1)) })
	c := control.New(db, control.Options{Now: past, Seed: func() int64 { return 1 }})
	ctx := context.Background()
	if _, err := c.CreateCluster(ctx, &control.CreateClusterInput{ClusterName: "web"}); err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterContainerInstance(ctx, &control.RegisterContainerInstanceInput{
		Cluster:                  "web",
		InstanceIdentityDocument: `{"instanceId":"i-0abc123def4567890"}`,
		TotalResources:           []ecs.Resource{{Name: "CPU", Type: "INTEGER", IntegerValue: 2048}, {Name: "MEMORY", Type: "INTEGER", IntegerValue: 3904}},
	})
	if err != nil {
		t.Fatal(err)
	}
	connected := func() bool {
		t.Helper()
		out, err := c.DescribeContainerInstances(ctx, &control.DescribeContainerInstancesInput{Cluster: "web", ContainerInstances: []string{reg.ContainerInstance.ContainerInstanceArn}})
		if err != nil || len(out.ContainerInstances) != 1 {
			t.Fatalf("describe: %v", err)
		}
		return out.ContainerInstances[0].AgentConnected
	}

	cw := httptest.NewServer(&runtimetest.EmptyCloudWatch{})
	t.Cleanup(cw.Close)
	fn := runtimetest.Start(t, runtimetest.Build(t, "."), runtimetest.MotoEnv(srv, "123456789012", st.Table(), "AWS_ENDPOINT_URL_CLOUDWATCH="+cw.URL)...)

	res := fn.Invoke(t, runtimetest.Sample(t, "monitor-malformed-event.json"))
	if res.Error == nil || !strings.Contains(res.Error.Message, "is not an ISO-8601 time") {
		t.Errorf("malformed event: %+v", res)
	}
	if !connected() {
		t.Fatal("a refused event must not run the tick")
	}

	res = fn.Invoke(t, runtimetest.Sample(t, "monitor-scheduled-event.json"))
	if res.Error != nil {
		t.Fatalf("tick: %+v\n%s", res.Error, fn.Output())
	}
	if connected() {
		t.Error("after ten silent minutes the tick should have declared the host lost")
	}
}
