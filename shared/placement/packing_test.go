package placement

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/berth-run/berth/shared/ecs"
)

// Instance size of the packing trace: 4 vCPU, 16 GiB.
const (
	packCPU    = 4096
	packMemory = 16384
)

// taskMix is the seeded trace's menu of task sizes (CPU units, MiB) with
// their weights: small web tasks dominate, a few large ones; memory is
// the scarcer resource, as binpack on memory expects.
var taskMix = []struct{ cpu, memory, weight int }{
	{128, 512, 20}, {256, 1024, 25}, {256, 2048, 15}, {512, 2048, 12}, {512, 4096, 8},
	{1024, 4096, 8}, {1024, 6144, 5}, {2048, 8192, 4}, {256, 3072, 2}, {2048, 4096, 1},
}

// packingTrace draws n task sizes from taskMix with a fixed seed.
func packingTrace(n int, seed uint64) []ecs.Requirements {
	total := 0
	for _, m := range taskMix {
		total += m.weight
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]ecs.Requirements, n)
	for i := range out {
		r := rng.IntN(total)
		for _, m := range taskMix {
			if r < m.weight {
				out[i] = ecs.Requirements{CPU: m.cpu, Memory: m.memory}
				break
			}
			r -= m.weight
		}
	}
	return out
}

// packingRatio places the trace one task at a time with binpack memory on
// a fleet that grows by one empty instance whenever no used one fits, and
// returns instances used ÷ the lower bound max(⌈Σmemory/capacity⌉,
// ⌈ΣCPU/capacity⌉).
func packingRatio(t testing.TB, trace []ecs.Requirements) (ratio float64, used, memBound, cpuBound int) {
	var fleet []Instance
	var sumCPU, sumMem int
	binpack := []ecs.PlacementStrategy{{Type: "binpack", Field: "memory"}}
	for k, needs := range trace {
		sumCPU += needs.CPU
		sumMem += needs.Memory
		empty := host(fmt.Sprintf("i-%d", len(fleet)))
		empty.Remaining = Resources{CPU: packCPU, Memory: packMemory}
		candidates := append(fleet, empty)
		r, err := Place(candidates, Request{Count: 1, Needs: needs, Group: "trace", Strategies: binpack})
		if err != nil || len(r.Placements) != 1 {
			t.Fatalf("task %d (%+v) not placed: %v %+v", k, needs, err, r.Closest)
		}
		i := r.Placements[0].Index
		if i == len(fleet) {
			fleet = candidates
		}
		fleet[i].Remaining.CPU -= needs.CPU
		fleet[i].Remaining.Memory -= needs.Memory
	}
	ceil := func(a, b int) int { return (a + b - 1) / b }
	memBound, cpuBound = ceil(sumMem, packMemory), ceil(sumCPU, packCPU)
	return float64(len(fleet)) / float64(max(memBound, cpuBound)), len(fleet), memBound, cpuBound
}

// TestPackingQuality: binpack memory, one task at a time over a seeded
// trace of 10,000 mixed tasks, uses at most 10% more instances than the
// resource lower bound.
func TestPackingQuality(t *testing.T) {
	ratio, used, memBound, cpuBound := packingRatio(t, packingTrace(10000, 2024))
	t.Logf("packing: %d instances used; lower bounds: memory %d, CPU %d; ratio %.4f", used, memBound, cpuBound, ratio)
	if ratio > 1.10 {
		t.Fatalf("packing ratio %.4f > 1.10 (%d instances for bounds memory %d, CPU %d)", ratio, used, memBound, cpuBound)
	}
}
