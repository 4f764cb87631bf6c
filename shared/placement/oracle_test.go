package placement

import (
	"slices"
	"sort"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// oraclePlace is the brute-force reference: for every task it checks every
// instance against every filter, recounts spread values from scratch, and
// applies the strategy rules one after another to the whole candidate list.
// It shares only request validation and the random source with the engine.
func oraclePlace(in []Instance, req Request) (Result, error) {
	p, err := compileRequest(req)
	if err != nil {
		return Result{}, err
	}
	o := &oracle{in: in, p: p, placed: make([]int, len(in))}
	for i := range in {
		o.cpu = append(o.cpu, in[i].Remaining.CPU)
		o.mem = append(o.mem, in[i].Remaining.Memory)
		o.gpu = append(o.gpu, in[i].Remaining.GPUs)
		o.tcp = append(o.tcp, portSet(in[i].Remaining.Ports))
		o.udp = append(o.udp, portSet(in[i].Remaining.PortsUDP))
	}
	rng := newRand(p.seed)
	var res Result
	for t := 0; t < p.count; t++ {
		var cands []int
		for i := range in {
			if o.reason(i) == "" {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			res.Unplaced = p.count - t
			for i := range in {
				r := Rejection{Index: i, ARN: in[i].ARN, ID: in[i].ID, Reason: o.reason(i)}
				res.Rejections = append(res.Rejections, r)
				if res.Closest == nil || reasonStage[r.Reason] > reasonStage[res.Closest.Reason] {
					c := r
					res.Closest = &c
				}
			}
			break
		}
		i := o.choose(cands, func(n int) int { return rng.IntN(n) })
		o.take(i)
		res.Placements = append(res.Placements, Placement{Index: i, ARN: in[i].ARN})
	}
	return res, nil
}

type oracle struct {
	in            []Instance
	p             *plan
	cpu, mem, gpu []int
	tcp, udp      []map[int]bool
	placed        []int
}

func portSet(ports []int) map[int]bool {
	m := map[int]bool{}
	for _, p := range ports {
		m[p] = true
	}
	return m
}

func (o *oracle) groupCount(i int) int { return o.in[i].Groups[o.p.group] + o.placed[i] }

func (o *oracle) reason(i int) string {
	in := &o.in[i]
	n := o.p.needs
	anyTaken := func(need []int, taken map[int]bool) bool {
		for _, p := range need {
			if taken[p] {
				return true
			}
		}
		return false
	}
	switch {
	case in.Status != ecs.InstanceActive:
		return "INACTIVE"
	case !in.AgentConnected:
		return "AGENT"
	case n.CPU > o.cpu[i]:
		return "RESOURCE:CPU"
	case n.Memory > o.mem[i]:
		return "RESOURCE:MEMORY"
	case n.GPUs > o.gpu[i]:
		return "RESOURCE:GPU"
	case anyTaken(n.Ports, o.tcp[i]):
		return "RESOURCE:PORTS"
	case anyTaken(n.PortsUDP, o.udp[i]):
		return "RESOURCE:PORTS_UDP"
	}
	for _, a := range o.p.attributes {
		v, ok := in.Attributes[a.Name]
		if !ok || (a.Value != "" && a.Value != v) {
			return "ATTRIBUTE"
		}
	}
	if o.p.distinct && o.groupCount(i) > 0 {
		return "DistinctInstance placement constraint unsatisfied."
	}
	subject := &oracleSubject{in: in, groups: map[string]int{}}
	for g, c := range in.Groups {
		subject.groups[g] = c
	}
	subject.groups[o.p.group] += o.placed[i]
	for _, x := range o.p.exprs {
		if !x.Eval(subject) {
			return "MemberOf placement constraint unsatisfied."
		}
	}
	return ""
}

// attrValue is an instance's value of an attribute, missing included.
type attrValue struct {
	value   string
	present bool
}

func valueOf(in *Instance, name string) attrValue {
	v, ok := in.Attributes[name]
	return attrValue{v, ok}
}

// choose applies the strategy rules to the candidates (in index order).
func (o *oracle) choose(cands []int, intn func(int) int) int {
	for _, c := range o.p.comps {
		if c.kind == compRandom {
			o.sortForRandom(cands)
			return cands[intn(len(cands))]
		}
		var perValue map[attrValue]int
		if c.kind == compSpreadAttr {
			perValue = map[attrValue]int{}
			for j := range o.in {
				perValue[valueOf(&o.in[j], c.attr)] += o.groupCount(j)
			}
		}
		score := func(i int) int {
			switch c.kind {
			case compSpreadAttr:
				return perValue[valueOf(&o.in[i], c.attr)]
			case compSpreadInstance:
				return o.groupCount(i)
			case compBinpackCPU:
				return o.cpu[i]
			default:
				return o.mem[i]
			}
		}
		best := score(cands[0])
		for _, i := range cands {
			best = min(best, score(i))
		}
		var keep []int
		for _, i := range cands {
			if score(i) == best {
				keep = append(keep, i)
			}
		}
		cands = keep
	}
	return cands[0]
}

// sortForRandom lists ties by the first-seen rank of their value for each
// spread-on-attribute rule, then by index.
func (o *oracle) sortForRandom(cands []int) {
	var ranks []map[attrValue]int
	for _, c := range o.p.comps {
		if c.kind != compSpreadAttr {
			continue
		}
		rank := map[attrValue]int{}
		for j := range o.in {
			v := valueOf(&o.in[j], c.attr)
			if _, seen := rank[v]; !seen {
				rank[v] = len(rank)
			}
		}
		ranks = append(ranks, rank)
	}
	sort.SliceStable(cands, func(x, y int) bool {
		a, b := cands[x], cands[y]
		attr := 0
		for _, c := range o.p.comps {
			if c.kind != compSpreadAttr {
				continue
			}
			ra, rb := ranks[attr][valueOf(&o.in[a], c.attr)], ranks[attr][valueOf(&o.in[b], c.attr)]
			attr++
			if ra != rb {
				return ra < rb
			}
		}
		return a < b
	})
}

func (o *oracle) take(i int) {
	n := o.p.needs
	o.cpu[i] -= n.CPU
	o.mem[i] -= n.Memory
	o.gpu[i] -= n.GPUs
	for _, p := range n.Ports {
		o.tcp[i][p] = true
	}
	for _, p := range n.PortsUDP {
		o.udp[i][p] = true
	}
	o.placed[i]++
}

// oracleSubject is an instance for the query language, with a plain map of
// its task groups.
type oracleSubject struct {
	in     *Instance
	groups map[string]int
}

func (s *oracleSubject) AgentConnected() bool    { return s.in.AgentConnected }
func (s *oracleSubject) AgentVersion() string    { return s.in.AgentVersion }
func (s *oracleSubject) EC2InstanceID() string   { return s.in.EC2InstanceID }
func (s *oracleSubject) RegisteredAt() time.Time { return s.in.RegisteredAt }
func (s *oracleSubject) RunningTasksCount() int  { return s.in.RunningTasksCount }
func (s *oracleSubject) Attribute(n string) (string, bool) {
	v, ok := s.in.Attributes[n]
	return v, ok
}
func (s *oracleSubject) TaskGroupCount(g string) int { return s.groups[g] }
func (s *oracleSubject) TaskGroups(yield func(string) bool) {
	names := make([]string, 0, len(s.groups))
	for g, n := range s.groups {
		if n > 0 {
			names = append(names, g)
		}
	}
	slices.Sort(names)
	for _, g := range names {
		if !yield(g) {
			return
		}
	}
}
