package docker

import (
	"testing"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/drivertest"
	"github.com/berth-run/berth/internal/testimage"
)

// BenchmarkCreateStartInspect measures the driver's share of RunTask →
// RUNNING with a local image: create, start, inspect.
func BenchmarkCreateStartInspect(b *testing.B) {
	cli, image := testimage.Image(b)
	d, err := New(Options{Client: cli, Scope: "bench-" + drivertest.RandomID()})
	if err != nil {
		b.Fatal(err)
	}
	drivertest.BenchmarkCreateStartInspect(b, d, func() agent.ContainerSpec {
		return agent.ContainerSpec{
			TaskARN: "arn:aws:ecs:us-east-1:1:task/bench/" + drivertest.RandomID(), ContainerName: "app", Family: "bench", Revision: 1,
			Image: image, PortMappings: []agent.PortMapping{{ContainerPort: 8080}},
		}
	})
}
