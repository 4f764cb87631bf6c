package process

import (
	"testing"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/drivertest"
	"github.com/berth-run/berth/internal/testimage"
)

// BenchmarkCreateStartInspect measures the driver's share of RunTask →
// RUNNING: create, start (shim up, process started), inspect.
func BenchmarkCreateStartInspect(b *testing.B) {
	d, err := New(Options{Root: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	app := testimage.BinaryPath(b)
	drivertest.BenchmarkCreateStartInspect(b, d, func() agent.ContainerSpec {
		return agent.ContainerSpec{
			TaskARN: "arn:aws:ecs:us-east-1:1:task/bench/" + drivertest.RandomID(), ContainerName: "app",
			EntryPoint: []string{app}, PortMappings: []agent.PortMapping{{ContainerPort: 8080}},
		}
	})
}
