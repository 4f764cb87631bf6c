package placement

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/berth-run/berth/shared/ecs"
)

// The engine answers "which instance takes the next task" without scanning
// the cluster. Instances that pass every filter sit in an index shaped by
// the strategies:
//
//   - Leading spread-on-attribute rules form a tree: one level per rule, one
//     child per attribute value. A level prefers its children whose value
//     has the fewest tasks of the group (counted over the whole cluster);
//     ties between values are settled by the rules below, so several
//     children may be explored.
//   - Below, each leaf is an order-statistic treap keyed by the
//     per-instance rules that follow (binpack: remaining CPU or memory;
//     spread on instanceId: tasks of the group on the instance), then
//     instance index.
//   - What remains after those keys is either nothing (the lowest index
//     wins), random (the k-th of the tied instances, found by rank), or
//     further spread-on-attribute rules, which are applied by scanning the
//     tied instances only.
//
// Placing a task changes one instance: it leaves its treap, its resources,
// group count and constraint verdicts are updated, and it re-enters if it
// still fits; its attribute values' task counts grow by one. Every other
// instance is untouched, so a placement costs O(log n) plus the number of
// attribute values examined, after an O(n log n) build. The one exception
// is a spread-on-attribute rule after a per-instance rule (binpack then
// spread), which scans the instances tied on the rules before it.
type engine struct {
	in    []Instance
	p     *plan
	st    []state
	views []view          // only when there are memberOf expressions
	ports []reservedPorts // only when the task needs static host ports
	attrs []*attrIndex    // one per spread-on-attribute rule, in rule order
	lead  int             // leading spread-on-attribute rules (tree levels)
	keyed []compKind      // per-instance rules in the leaf key
	rest  []comp          // rules after the leaf key (start with random or spread-on-attribute)
	root  *tnode
	tr    *treaps
	rng   *rand.Rand
	front frontier
}

// state is an instance's mutable view during one Place call.
type state struct {
	cpu, mem, gpu   int
	group           int  // tasks of the request's group, placed ones included
	inactive, agent bool // static filter failures
	attribute       bool // a required attribute is missing
	memberOK        bool // every memberOf expression holds
	leaf            *tnode
	eligible        bool
}

// reservedPorts are an instance's reserved host ports, sorted; replaced,
// never mutated, when a task reserves more.
type reservedPorts struct{ tcp, udp []int }

// attrIndex numbers one attribute's values in first-seen order (the
// instance lacking the attribute is a value of its own) and counts the
// group's tasks per value.
type attrIndex struct {
	name  string
	vid   []int32 // per instance
	count []int   // per value
}

// tnode is a level of the attribute tree, or a leaf holding a treap.
type tnode struct {
	level    int // == engine.lead for a leaf
	vid      int32
	parent   *tnode
	children []*tnode // in value order
	byVid    []*tnode // children by value id, while building
	eligible int      // eligible instances below
	root     int32    // leaf treap root
	members  []int32  // leaf members while building
}

// leafTie is a leaf's share of the best candidates: its first tied
// instances.
type leafTie struct {
	leaf  *tnode
	tied  int
	first int32
}

// frontier is the best candidates found so far: their task counts at each
// tree level (the value counts of the spread rules along their path), their
// leaf key, and the leaves holding them.
type frontier struct {
	found  bool
	path   [ecs.MaxStrategies]int
	prefix sortKey
	leaves []leafTie
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
}

func newEngine(in []Instance, p *plan) *engine {
	e := &engine{in: in, p: p, st: make([]state, len(in)), rng: newRand(p.seed)}
	if len(p.exprs) > 0 {
		e.views = make([]view, len(in))
	}
	if len(p.needs.Ports)+len(p.needs.PortsUDP) > 0 {
		e.ports = make([]reservedPorts, len(in))
	}
	e.splitRules()
	for i := range in {
		e.initState(i)
	}
	e.indexAttributes()
	e.tr = newTreaps(len(in), len(e.keyed))
	e.buildTree()
	return e
}

// splitRules divides the strategy rules into tree levels, leaf keys and
// the rest.
func (e *engine) splitRules() {
	comps := e.p.comps
	for _, c := range comps {
		if c.kind == compSpreadAttr {
			e.attrs = append(e.attrs, &attrIndex{name: c.attr})
		}
	}
	i := 0
	for i < len(comps) && comps[i].kind == compSpreadAttr {
		i++
	}
	e.lead = i
	for i < len(comps) && comps[i].kind != compSpreadAttr && comps[i].kind != compRandom {
		e.keyed = append(e.keyed, comps[i].kind)
		i++
	}
	e.rest = comps[i:]
}

func (e *engine) initState(i int) {
	in := &e.in[i]
	s := &e.st[i]
	s.cpu, s.mem, s.gpu = in.Remaining.CPU, in.Remaining.Memory, in.Remaining.GPUs
	if e.ports != nil {
		e.ports[i] = reservedPorts{tcp: sortedPorts(in.Remaining.Ports), udp: sortedPorts(in.Remaining.PortsUDP)}
	}
	s.group = in.Groups[e.p.group]
	s.inactive = in.Status != ecs.InstanceActive
	s.agent = !in.AgentConnected
	s.attribute = !hasAttributes(in, e.p.attributes)
	s.memberOK = true
	if e.views != nil {
		e.views[i] = view{in: in, group: e.p.group}
		s.memberOK = e.evalMemberOf(i)
	}
}

// sortedPorts returns ports sorted, copying only when they are not.
func sortedPorts(ports []int) []int {
	if slices.IsSorted(ports) {
		return ports
	}
	return sortedSet(ports)
}

func hasAttributes(in *Instance, required []ecs.Attribute) bool {
	for _, a := range required {
		v, ok := in.Attributes[a.Name]
		if !ok || (a.Value != "" && v != a.Value) {
			return false
		}
	}
	return true
}

func (e *engine) evalMemberOf(i int) bool {
	for _, x := range e.p.exprs {
		if !x.Eval(&e.views[i]) {
			return false
		}
	}
	return true
}

// reason is the first filter instance i fails, or "" if it can take the
// next task.
func (e *engine) reason(i int) string {
	s := &e.st[i]
	n := &e.p.needs
	switch {
	case s.inactive:
		return ReasonInactive
	case s.agent:
		return ReasonAgent
	case n.CPU > s.cpu:
		return ReasonCPU
	case n.Memory > s.mem:
		return ReasonMemory
	case n.GPUs > s.gpu:
		return ReasonGPU
	case len(n.Ports) > 0 && portsTaken(n.Ports, e.ports[i].tcp):
		return ReasonPorts
	case len(n.PortsUDP) > 0 && portsTaken(n.PortsUDP, e.ports[i].udp):
		return ReasonPortsUDP
	case s.attribute:
		return ReasonAttribute
	case e.p.distinct && s.group > 0:
		return ReasonDistinctInstance
	case !s.memberOK:
		return ReasonMemberOf
	}
	return ""
}

// portsTaken reports whether any needed port is reserved; both sorted.
func portsTaken(need, reserved []int) bool {
	for _, p := range need {
		if _, found := slices.BinarySearch(reserved, p); found {
			return true
		}
	}
	return false
}

func (e *engine) indexAttributes() {
	for _, a := range e.attrs {
		ids := valueIDs{missing: none}
		a.vid = make([]int32, len(e.in))
		for i := range e.in {
			v, ok := e.in[i].Attributes[a.name]
			id, fresh := ids.of(v, ok)
			if fresh {
				a.count = append(a.count, 0)
			}
			a.vid[i] = id
			a.count[id] += e.st[i].group
		}
	}
}

// valueIDs numbers attribute values in first-seen order. Spread attributes
// usually have a handful of values (zones), which a short list finds faster
// than a map; the map takes over past that.
type valueIDs struct {
	few     []valueID
	many    map[string]int32
	missing int32
	n       int32
}

type valueID struct {
	value string
	id    int32
}

const fewValues = 8

// of returns v's id (for an absent attribute when !ok), and whether it is new.
func (ids *valueIDs) of(v string, ok bool) (int32, bool) {
	switch {
	case !ok:
		if ids.missing != none {
			return ids.missing, false
		}
		ids.missing = ids.next()
		return ids.missing, true
	case ids.many != nil:
		if id, seen := ids.many[v]; seen {
			return id, false
		}
		id := ids.next()
		ids.many[v] = id
		return id, true
	}
	for _, known := range ids.few {
		if known.value == v {
			return known.id, false
		}
	}
	id := ids.next()
	ids.few = append(ids.few, valueID{v, id})
	if len(ids.few) > fewValues {
		ids.many = make(map[string]int32, 2*fewValues)
		for _, known := range ids.few {
			ids.many[known.value] = known.id
		}
	}
	return id, true
}

func (ids *valueIDs) next() int32 {
	id := ids.n
	ids.n++
	return id
}

func (e *engine) buildTree() {
	e.root = &tnode{root: none}
	for i := range e.in {
		leaf := e.root
		for level := 0; level < e.lead; level++ {
			leaf = leaf.child(e.attrs[level], e.attrs[level].vid[i])
		}
		e.st[i].leaf = leaf
		if e.reason(i) == "" {
			e.st[i].eligible = true
			e.setKey(int32(i))
			leaf.members = append(leaf.members, int32(i))
		}
	}
	e.finishNode(e.root)
}

// child returns (creating it) n's child for value vid.
func (n *tnode) child(a *attrIndex, vid int32) *tnode {
	if n.byVid == nil {
		n.byVid = make([]*tnode, len(a.count))
	}
	c := n.byVid[vid]
	if c == nil {
		c = &tnode{level: n.level + 1, vid: vid, parent: n, root: none}
		n.byVid[vid] = c
	}
	return c
}

// finishNode builds the leaves' treaps and the eligible counts bottom-up.
func (e *engine) finishNode(n *tnode) int {
	if n.level == e.lead {
		n.root = e.tr.build(n.members)
		n.eligible = len(n.members)
		n.members = nil
		return n.eligible
	}
	for _, c := range n.byVid {
		if c != nil {
			n.children = append(n.children, c)
			n.eligible += e.finishNode(c)
		}
	}
	n.byVid = nil
	return n.eligible
}

func (e *engine) setKey(i int32) {
	k := e.tr.key(i)
	s := &e.st[i]
	for j, kind := range e.keyed {
		switch kind {
		case compBinpackCPU:
			k[j] = int64(s.cpu)
		case compBinpackMemory:
			k[j] = int64(s.mem)
		case compSpreadInstance:
			k[j] = int64(s.group)
		}
	}
}

// pick chooses the instance for the next task, or -1 if none can take it.
func (e *engine) pick() int {
	f := &e.front
	f.found = false
	f.leaves = f.leaves[:0]
	var path [ecs.MaxStrategies]int
	e.collect(e.root, f, &path)
	if !f.found {
		return -1
	}
	if len(e.rest) == 0 {
		best := f.leaves[0].first
		for _, l := range f.leaves[1:] {
			best = min(best, l.first)
		}
		return int(best)
	}
	if e.rest[0].kind == compRandom {
		return e.pickRandom(f)
	}
	return e.scanRest(f)
}

// pickRandom draws uniformly among the tied candidates, counted leaf by
// leaf in tree order and by index within a leaf.
func (e *engine) pickRandom(f *frontier) int {
	total := 0
	for _, l := range f.leaves {
		total += l.tied
	}
	r := e.rng.IntN(total)
	last := len(f.leaves) - 1
	for _, l := range f.leaves[:last] {
		if r < l.tied {
			return int(e.tr.kth(l.leaf.root, r))
		}
		r -= l.tied
	}
	return int(e.tr.kth(f.leaves[last].leaf.root, r))
}

// collect gathers, under n, the leaves holding the best candidates by the
// tree levels and leaf keys. path holds the counts of the values chosen at
// the levels above n. Within a node only the children with the fewest
// tasks can win; leaves reached through tied ancestors are compared by
// their whole path, then their leaf key.
func (e *engine) collect(n *tnode, f *frontier, path *[ecs.MaxStrategies]int) {
	if n.level == e.lead {
		e.offerLeaf(n, f, path)
		return
	}
	counts := e.attrs[n.level].count
	fewest := math.MaxInt
	for _, c := range n.children {
		if c.eligible > 0 {
			fewest = min(fewest, counts[c.vid])
		}
	}
	path[n.level] = fewest
	for _, c := range n.children {
		if c.eligible > 0 && counts[c.vid] == fewest {
			e.collect(c, f, path)
		}
	}
}

func (e *engine) offerLeaf(n *tnode, f *frontier, path *[ecs.MaxStrategies]int) {
	if n.root == none {
		return
	}
	first := e.tr.first(n.root)
	key := e.tr.key(first)
	if f.found {
		c := slices.Compare(path[:e.lead], f.path[:e.lead])
		if c == 0 {
			c = comparePrefix(key, f.prefix[:len(key)])
		}
		if c > 0 {
			return
		}
		if c < 0 {
			f.leaves = f.leaves[:0]
		}
	}
	f.found, f.path = true, *path
	copy(f.prefix[:], key)
	f.leaves = append(f.leaves, leafTie{leaf: n, tied: e.tr.countPrefixAtMost(n.root, key), first: first})
}

// scanRest applies the rules after the leaf keys to the tied candidates
// one by one; it runs only when a spread-on-attribute rule follows a
// per-instance rule.
func (e *engine) scanRest(f *frontier) int {
	var cands []int32
	for _, l := range f.leaves {
		cands = e.tr.appendFirst(l.leaf.root, l.tied, cands)
	}
	attr := e.lead
	for _, c := range e.rest {
		if c.kind == compRandom {
			e.sortCanonical(cands)
			return int(cands[e.rng.IntN(len(cands))])
		}
		var a *attrIndex
		if c.kind == compSpreadAttr {
			a = e.attrs[attr]
			attr++
		}
		cands = keepFewest(cands, func(i int32) int {
			return e.ruleValue(c.kind, a, i)
		})
	}
	return int(slices.Min(cands))
}

func (e *engine) ruleValue(kind compKind, a *attrIndex, i int32) int {
	s := &e.st[i]
	switch kind {
	case compSpreadAttr:
		return a.count[a.vid[i]]
	case compSpreadInstance:
		return s.group
	case compBinpackCPU:
		return s.cpu
	case compBinpackMemory:
		return s.mem
	}
	return 0
}

// keepFewest keeps the candidates with the lowest value, in order.
func keepFewest(cands []int32, value func(int32) int) []int32 {
	best := math.MaxInt
	out := cands[:0]
	for _, i := range cands {
		v := value(i)
		switch {
		case v < best:
			best = v
			out = append(out[:0], i)
		case v == best:
			out = append(out, i)
		}
	}
	return out
}

// sortCanonical orders tied candidates the way random counts them: by the
// rank of their value for each spread-on-attribute rule, then by index.
func (e *engine) sortCanonical(cands []int32) {
	sort.Slice(cands, func(x, y int) bool {
		a, b := cands[x], cands[y]
		for _, ai := range e.attrs {
			if ai.vid[a] != ai.vid[b] {
				return ai.vid[a] < ai.vid[b]
			}
		}
		return a < b
	})
}

// place puts one task on instance i and updates the index.
func (e *engine) place(i int) {
	s := &e.st[i]
	if s.eligible {
		s.leaf.root = e.tr.remove(s.leaf.root, int32(i))
		s.leaf.addEligible(-1)
	}
	n := &e.p.needs
	s.cpu -= n.CPU
	s.mem -= n.Memory
	s.gpu -= n.GPUs
	if len(n.Ports) > 0 {
		e.ports[i].tcp = mergePorts(e.ports[i].tcp, n.Ports)
	}
	if len(n.PortsUDP) > 0 {
		e.ports[i].udp = mergePorts(e.ports[i].udp, n.PortsUDP)
	}
	s.group++
	if e.views != nil {
		e.views[i].placed++
	}
	for _, a := range e.attrs {
		a.count[a.vid[i]]++
	}
	if e.p.dynamic {
		s.memberOK = e.evalMemberOf(i)
	}
	s.eligible = e.reason(i) == ""
	if s.eligible {
		e.setKey(int32(i))
		s.leaf.root = e.tr.insert(s.leaf.root, int32(i))
		s.leaf.addEligible(1)
	}
}

func (n *tnode) addEligible(d int) {
	for ; n != nil; n = n.parent {
		n.eligible += d
	}
}

// mergePorts returns a new sorted set of reserved ∪ add.
func mergePorts(reserved, add []int) []int {
	out := make([]int, 0, len(reserved)+len(add))
	out = append(out, reserved...)
	out = append(out, add...)
	slices.Sort(out)
	return slices.Compact(out)
}
