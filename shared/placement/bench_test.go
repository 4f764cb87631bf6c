package placement

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// benchCluster is a seeded cluster of n instances over three zones and six
// instance types, each 4 vCPU / 16 GiB partly used, with the agent's
// reserved ports, and a few tasks of the service already running.
func benchCluster(n int) []Instance {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	types := []string{"m5.large", "m5.xlarge", "c5.xlarge", "r5.large", "t3.medium", "t3.large"}
	out := make([]Instance, n)
	for i := range out {
		id := fmt.Sprintf("%032x", i)
		out[i] = Instance{
			ARN:            "arn:aws:ecs:us-east-1:123456789012:container-instance/bench/" + id,
			ID:             id,
			Status:         ecs.InstanceActive,
			AgentConnected: true,
			AgentVersion:   "1.70.0",
			EC2InstanceID:  fmt.Sprintf("i-%017x", i),
			RegisteredAt:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
			Attributes: map[string]string{
				"ecs.availability-zone": []string{"us-east-1a", "us-east-1b", "us-east-1c"}[rng.IntN(3)],
				"ecs.instance-type":     types[rng.IntN(len(types))],
				"ecs.os-type":           "linux",
			},
			Remaining: Resources{
				CPU:    4096 - 256*rng.IntN(8),
				Memory: 16384 - 512*rng.IntN(16),
				Ports:  []int{22, 2375, 2376, 51678, 51679},
			},
			RunningTasksCount: rng.IntN(4),
			Groups:            map[string]int{},
		}
		if rng.IntN(20) == 0 {
			out[i].Groups["service:web"] = 1
		}
	}
	return out
}

var (
	binpackMemory = []ecs.PlacementStrategy{{Type: "binpack", Field: "memory"}}
	spreadBinpack = []ecs.PlacementStrategy{{Type: "spread", Field: "attribute:ecs.availability-zone"}, {Type: "binpack", Field: "memory"}}
)

// benchScenarios are the request shapes benchmarked: (a) binpack memory,
// (b) spread AZ then binpack memory, (c) (b) with memberOf and
// distinctInstance.
func benchScenarios(count int) []struct {
	name string
	req  Request
} {
	needs := ecs.Requirements{CPU: 256, Memory: 512}
	return []struct {
		name string
		req  Request
	}{
		{"a-binpack", Request{Count: count, Needs: needs, Group: "service:web", Strategies: binpackMemory}},
		{"b-spread-binpack", Request{Count: count, Needs: needs, Group: "service:web", Strategies: spreadBinpack}},
		{"c-spread-binpack-memberOf-distinct", Request{Count: count, Needs: needs, Group: "service:web", Strategies: spreadBinpack,
			Constraints: []ecs.PlacementConstraint{
				{Type: "memberOf", Expression: "attribute:ecs.instance-type in [m5.large, m5.xlarge, c5.xlarge, r5.large]"},
				{Type: "distinctInstance"},
			}}},
	}
}

var benchSizes = []int{1000, 10000, 100000}

// BenchmarkPlace places n/10 tasks per operation (a service scaling up by
// a tenth of the cluster) on a cluster of n instances, index build
// included, and reports placements per second.
func BenchmarkPlace(b *testing.B) {
	for _, n := range benchSizes {
		in := benchCluster(n)
		for _, s := range benchScenarios(n / 10) {
			b.Run(fmt.Sprintf("%s/instances=%d", s.name, n), func(b *testing.B) {
				benchmarkPlacer(b, in, s.req, Place)
			})
		}
	}
}

// BenchmarkPlaceOne is one task per call (RunTask count 1): the cost of
// building the index for a cluster of n instances.
func BenchmarkPlaceOne(b *testing.B) {
	for _, n := range benchSizes {
		in := benchCluster(n)
		for _, s := range benchScenarios(1) {
			b.Run(fmt.Sprintf("%s/instances=%d", s.name, n), func(b *testing.B) {
				benchmarkPlacer(b, in, s.req, Place)
			})
		}
	}
}

// BenchmarkOracle runs the brute-force oracle on the same inputs as
// BenchmarkPlace. At 100,000 instances one operation (10,000 tasks, each
// checking every instance) takes minutes, so it is skipped there.
func BenchmarkOracle(b *testing.B) {
	for _, n := range benchSizes {
		in := benchCluster(n)
		for _, s := range benchScenarios(n / 10) {
			b.Run(fmt.Sprintf("%s/instances=%d", s.name, n), func(b *testing.B) {
				if n >= 100000 {
					b.Skip("one oracle operation at 100,000 instances (10,000 tasks x 100,000 instances) takes minutes")
				}
				benchmarkPlacer(b, in, s.req, oraclePlace)
			})
		}
	}
}

// benchmarkPlacer reports, besides wall time, the process's CPU time per
// operation and placements per CPU second: the machine these figures come
// from is shared, so wall time includes waiting for a core. Run with
// -cpu 1 so the CPU time is one core's.
func benchmarkPlacer(b *testing.B, in []Instance, req Request, place func([]Instance, Request) (Result, error)) {
	b.ReportAllocs()
	placed := 0
	cpu0 := processCPU()
	for b.Loop() {
		r, err := place(in, req)
		if err != nil {
			b.Fatal(err)
		}
		placed += len(r.Placements)
	}
	cpu := processCPU() - cpu0
	if placed == 0 {
		b.Fatal("nothing placed")
	}
	b.ReportMetric(float64(placed)/b.Elapsed().Seconds(), "placements/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(placed)/cpu.Seconds(), "placements/cpu-s")
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
