package docker

import (
	"context"
	"testing"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/internal/testimage"
)

// BenchmarkCreateStartInspect measures the driver's share of RunTask →
// RUNNING with a local image: create, start, inspect.
func BenchmarkCreateStartInspect(b *testing.B) {
	cli, image := testimage.Image(b)
	d, err := New(Options{Client: cli, Scope: "bench-" + randomID()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		id, err := d.Create(ctx, agent.ContainerSpec{
			TaskARN: "arn:aws:ecs:us-east-1:1:task/bench/" + randomID(), ContainerName: "app", Family: "bench", Revision: 1,
			Image: image, PortMappings: []agent.PortMapping{{ContainerPort: 8080}},
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if st, err := d.Inspect(ctx, id); err != nil || st.Status != agent.StatusRunning {
			b.Fatalf("inspect: %+v %v", st, err)
		}
		b.StopTimer()
		if err := d.Remove(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
