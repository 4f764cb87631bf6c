package placement

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/berth-run/berth/shared/ecs"
)

// Task is a running task of one group that scale-in may stop.
type Task struct {
	ARN      string
	Instance int // index into the instances given to SelectVictims; -1 if unknown
	CPU      int // CPU units the task holds
	Memory   int // MiB the task holds
}

// SelectVictims chooses k of tasks (all of one service) to stop, in stop
// order, by the service's strategies read in reverse, as ECS scales in:
//   - spread (attribute or instanceId): a task from the value with the most
//     of these tasks, so AZ balance is kept, then instance balance;
//   - binpack: the task whose instance would have the most of the resource
//     left after it stops;
//   - random: uniform among the tasks still tied, drawn from seed.
//
// Remaining ties go to the earliest task. A task whose instance is unknown
// counts as lacking every attribute. The result holds indices into tasks.
func SelectVictims(instances []Instance, tasks []Task, strategies []ecs.PlacementStrategy, k int, seed int64) ([]int, error) {
	if k < 0 {
		return nil, ecs.InvalidParameter("count: tasks to stop must not be negative, got %d", k)
	}
	var rules []comp
	for i, s := range strategies {
		c, err := strategyComp("placementStrategy["+strconv.Itoa(i)+"]", s)
		if err != nil {
			return nil, err
		}
		rules = append(rules, c)
	}
	for i, t := range tasks {
		if t.Instance < -1 || t.Instance >= len(instances) {
			return nil, ecs.InvalidParameter("tasks[%d].instance: %d is not an index of the %d instances", i, t.Instance, len(instances))
		}
	}
	v := newVictimState(instances, tasks, rules, seed)
	out := make([]int, 0, min(k, len(tasks)))
	for len(out) < k && len(out) < len(tasks) {
		t := v.next()
		v.stop(t)
		out = append(out, t)
	}
	return out, nil
}

type victimState struct {
	in        []Instance
	tasks     []Task
	rules     []comp
	stopped   []bool
	perInst   map[int]int // live tasks per instance
	freedCPU  map[int]int // resources released on an instance so far
	freedMem  map[int]int
	attrVid   [][]int // per attribute rule: value id per task
	attrCount [][]int // per attribute rule: live tasks per value id
	rng       *rand.Rand
}

func newVictimState(in []Instance, tasks []Task, rules []comp, seed int64) *victimState {
	v := &victimState{
		in: in, tasks: tasks, rules: rules, stopped: make([]bool, len(tasks)),
		perInst: map[int]int{}, freedCPU: map[int]int{}, freedMem: map[int]int{}, rng: newRand(seed),
	}
	for _, t := range tasks {
		v.perInst[t.Instance]++
	}
	for _, r := range rules {
		if r.kind != compSpreadAttr {
			continue
		}
		ids := map[string]int{}
		vids := make([]int, len(tasks))
		var counts []int
		for i, t := range tasks {
			key := "\x00missing"
			if t.Instance >= 0 {
				if val, ok := in[t.Instance].Attributes[r.attr]; ok {
					key = "=" + val
				}
			}
			id, seen := ids[key]
			if !seen {
				id = len(counts)
				ids[key] = id
				counts = append(counts, 0)
			}
			vids[i] = id
			counts[id]++
		}
		v.attrVid = append(v.attrVid, vids)
		v.attrCount = append(v.attrCount, counts)
	}
	return v
}

// next returns the task to stop now.
func (v *victimState) next() int {
	var cands []int
	for i := range v.tasks {
		if !v.stopped[i] {
			cands = append(cands, i)
		}
	}
	attr := 0
	for _, r := range v.rules {
		if r.kind == compRandom {
			return cands[v.rng.IntN(len(cands))]
		}
		var counts []int
		var vids []int
		if r.kind == compSpreadAttr {
			counts, vids = v.attrCount[attr], v.attrVid[attr]
			attr++
		}
		cands = keepMost(cands, func(t int) int { return v.score(r.kind, counts, vids, t) })
	}
	return cands[0]
}

// score is how strongly a rule wants task t stopped; higher first.
func (v *victimState) score(kind compKind, counts, vids []int, t int) int {
	task := v.tasks[t]
	switch kind {
	case compSpreadAttr:
		return counts[vids[t]]
	case compSpreadInstance:
		return v.perInst[task.Instance]
	case compBinpackCPU:
		return v.remaining(task.Instance, func(r Resources) int { return r.CPU }, v.freedCPU) + task.CPU
	case compBinpackMemory:
		return v.remaining(task.Instance, func(r Resources) int { return r.Memory }, v.freedMem) + task.Memory
	}
	return 0
}

func (v *victimState) remaining(inst int, of func(Resources) int, freed map[int]int) int {
	if inst < 0 {
		return 0
	}
	return of(v.in[inst].Remaining) + freed[inst]
}

func (v *victimState) stop(t int) {
	task := v.tasks[t]
	v.stopped[t] = true
	v.perInst[task.Instance]--
	v.freedCPU[task.Instance] += task.CPU
	v.freedMem[task.Instance] += task.Memory
	for a := range v.attrCount {
		v.attrCount[a][v.attrVid[a][t]]--
	}
}

// keepMost keeps the candidates with the highest value, in order.
func keepMost(cands []int, value func(int) int) []int {
	best := math.MinInt
	out := cands[:0]
	for _, c := range cands {
		val := value(c)
		switch {
		case val > best:
			best = val
			out = append(out[:0], c)
		case val == best:
			out = append(out, c)
		}
	}
	return out
}
