package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/local"
)

var recorders atomic.Int64

// recorder collects the events a user rule on the local bus delivers.
type recorder struct {
	mu     sync.Mutex
	events []bus.Event
}

func record(t *testing.T, p *local.Plane, pattern string) *recorder {
	t.Helper()
	r := &recorder{}
	target := fmt.Sprintf("test-%s-%d", t.Name(), recorders.Add(1))
	if err := p.Bus().Subscribe(target, func(_ context.Context, evs []bus.Event) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, evs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Bus().AddRuleJSON("rule-"+target, target, pattern); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *recorder) snapshot() []bus.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bus.Event(nil), r.events...)
}

// TestInstanceStateChangeEvents: registering an instance and draining it
// each announce an ECS Container Instance State Change carrying the
// instance's version.
func TestInstanceStateChangeEvents(t *testing.T) {
	p := testenv.Plane(t, local.Config{})
	rec := record(t, p, `{"source":["berth"],"detail-type":["ECS Container Instance State Change"]}`)
	c := testenv.ECS(p.Endpoint())
	ctx := context.Background()
	_, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("web")})
	check(t, err)
	reg, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("web"),
		TotalResources: []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024}},
		Attributes:     []types.Attribute{{Name: aws.String("ecs.availability-zone"), Value: aws.String("us-east-1a")}}})
	check(t, err)
	arn := aws.ToString(reg.ContainerInstance.ContainerInstanceArn)
	_, err = c.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("web"),
		ContainerInstances: []string{arn}, Status: types.ContainerInstanceStatusDraining})
	check(t, err)

	testenv.Eventually(t, 10*time.Second, "two instance events", func() bool { return len(rec.snapshot()) >= 2 })
	var versions []int64
	for _, e := range rec.snapshot() {
		d, err := bus.Decode[bus.ContainerInstanceStateChange](e)
		check(t, err)
		ci := d.ContainerInstance()
		if e.Resources[0] != arn || ci.ContainerInstanceArn != arn || e.Source != "berth" || e.Account != "000000000000" {
			t.Errorf("event = %+v", e)
		}
		versions = append(versions, ci.Version)
		if ci.Version == 2 && ci.Status != "DRAINING" {
			t.Errorf("version 2 status = %s", ci.Status)
		}
	}
	if len(versions) != 2 || versions[0] != 1 || versions[1] != 2 {
		t.Errorf("event versions = %v, want [1 2]", versions)
	}
}
