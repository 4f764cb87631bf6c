package scheduler

import (
	"strings"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
	"github.com/berth-run/berth/shared/placement/cql"
)

// runDaemon keeps one task on every ACTIVE instance that meets the
// service's constraints (reference §5.1): it stops tasks on instances that
// no longer do (SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED), that are gone,
// or that are DRAINING once the instance's other service tasks are gone
// (daemon tasks stop last); it rolls new revisions within the bounds, where
// desiredCount is the number of instances the daemon should run on; and it
// covers newly registered instances.
func (p *pass) runDaemon() {
	td := p.in.TaskDefinitions[p.primary.TaskDefinition]
	eligible := p.daemonEligible(td)
	frozen := p.frozen()
	perInst := map[int][]*taskView{}
	unstopped := map[int]bool{}
	var violated []string
	held := 0
	for _, v := range p.tasks {
		if v.t.LastStatus != ecs.TaskStopped && v.inst >= 0 {
			unstopped[v.inst] = true
		}
		if !v.active {
			continue
		}
		switch {
		case p.instanceState(v) == instGone:
			p.stop(v, stoppedInstanceGone(p.instanceID(v)))
		case p.instanceState(v) == instDraining:
			if p.serviceTasksBesides(v.inst) {
				held++
				continue
			}
			p.stop(v, stoppedDraining(p.instanceID(v)))
		case !eligible[v.inst]:
			p.stop(v, stoppedConstraintViolated(p.instanceID(v)))
			violated = append(violated, p.in.Instances[v.inst].ARN)
		default:
			perInst[v.inst] = append(perInst[v.inst], v)
		}
	}
	if len(violated) > 0 {
		p.serviceAction(EventError, ServiceDaemonPlacementConstraintViolated, "", violated...)
	}
	r := p.daemonRollout(eligible, perInst, frozen)
	p.rollStops(r)
	p.stopOneUnhealthy(r)
	if !frozen {
		p.startDaemons(r, td, eligible, unstopped)
	}
	p.checkBlocked(r, frozen)
	p.steady = held == 0 && len(r.out) == 0 && r.want == 0 && len(r.retain) == r.desired && allHealthy(r.retain)
}

// daemonRollout sorts the tasks on eligible instances into retained and
// outgoing ones (one task per instance is kept; extra ones leave at once)
// and sets desiredCount to the instances the daemon should run on.
func (p *pass) daemonRollout(eligible []bool, perInst map[int][]*taskView, frozen bool) *rollout {
	desired, want := 0, 0
	for i, ok := range eligible {
		if !ok {
			continue
		}
		has := len(perInst[i]) > 0
		if has || p.in.Instances[i].AgentConnected {
			desired++
		}
		if !has && p.in.Instances[i].AgentConnected {
			want++
		}
	}
	p.setDaemonDesired(desired)
	r := p.newRollout(desired)
	r.want = want
	for i := range p.in.Instances {
		ts := perInst[i]
		if len(ts) == 0 {
			continue
		}
		keep := p.bestOf(ts)
		for _, v := range ts {
			if v != keep {
				p.stop(v, stoppedDuplicate(p.in.Instances[i].ID))
			}
		}
		switch {
		case keep.unhealthy:
			r.out = append(r.out, outgoing{v: keep, rank: rankNotHealthy, reason: StoppedUnhealthy})
		case keep.dep == p.primary.ID || frozen && p.listed(keep.dep):
			r.retain = append(r.retain, keep)
		default:
			r.out = append(r.out, outgoing{v: keep, rank: rankByHealth(keep, rankOldRevision), reason: stoppedScaling(p.primary.ID)})
		}
	}
	return r
}

// bestOf picks the task to keep among several on one instance: the
// PRIMARY's over older ones, healthy over not, running over pending.
func (p *pass) bestOf(ts []*taskView) *taskView {
	score := func(v *taskView) int {
		s := 0
		if v.dep == p.primary.ID {
			s += 4
		}
		if v.healthy {
			s += 2
		}
		if v.running {
			s++
		}
		return s
	}
	best := ts[0]
	for _, v := range ts[1:] {
		if score(v) > score(best) {
			best = v
		}
	}
	return best
}

// setDaemonDesired records a daemon's computed desiredCount; a change is a
// SERVICE_DESIRED_COUNT_UPDATED event.
func (p *pass) setDaemonDesired(n int) {
	if p.svc.DesiredCount == n {
		return
	}
	p.svc.DesiredCount = n
	p.serviceAction(EventInfo, ServiceDesiredCountUpdated, "")
}

// daemonEligible marks the ACTIVE instances that meet the service's and
// the task definition's constraints and required attributes. Resources are
// not part of it: an eligible instance without room is a placement failure.
func (p *pass) daemonEligible(td *ecs.TaskDefinition) []bool {
	var exprs []*cql.Expr
	bad := false
	add := func(typ, expr string) {
		if typ != ecs.ConstraintMemberOf {
			return
		}
		e, err := cql.Compile(expr)
		if err != nil {
			bad = true
			return
		}
		exprs = append(exprs, e)
	}
	for _, c := range p.svc.PlacementConstraints {
		add(c.Type, c.Expression)
	}
	for _, c := range td.PlacementConstraints {
		add(c.Type, c.Expression)
	}
	out := make([]bool, len(p.in.Instances))
	if bad {
		// Validated at create and update; a constraint that no longer
		// compiles places nothing rather than everywhere.
		return out
	}
	for i := range p.in.Instances {
		in := &p.in.Instances[i]
		out[i] = in.Status == ecs.InstanceActive && hasAttributes(in, td.RequiresAttributes) && allHold(exprs, in)
	}
	return out
}

func hasAttributes(in *placement.Instance, want []ecs.Attribute) bool {
	for _, a := range want {
		v, ok := in.Attributes[a.Name]
		if !ok || a.Value != "" && v != a.Value {
			return false
		}
	}
	return true
}

func allHold(exprs []*cql.Expr, in *placement.Instance) bool {
	for _, e := range exprs {
		if !e.Eval(in.Subject()) {
			return false
		}
	}
	return true
}

// serviceTasksBesides reports whether instance i still runs tasks of
// replica services: a daemon task on a DRAINING instance waits for them.
func (p *pass) serviceTasksBesides(i int) bool {
	for g, n := range p.in.Instances[i].Groups {
		if n > 0 && g != p.group && strings.HasPrefix(g, "service:") && !p.in.DaemonGroups[g] {
			return true
		}
	}
	return false
}

// startDaemons places one task on each eligible, connected instance that
// has no unstopped task of the service (a stopping old revision blocks its
// instance until it is STOPPED), within maximumPercent.
func (p *pass) startDaemons(r *rollout, td *ecs.TaskDefinition, eligible []bool, unstopped map[int]bool) {
	r.room = r.maxTotal - p.remaining(r)
	var cands []int
	for i, ok := range eligible {
		if ok && p.in.Instances[i].AgentConnected && !unstopped[i] {
			cands = append(cands, i)
		}
	}
	n := min(len(cands), r.room)
	if n <= 0 || p.throttle(r) || p.noLaunch {
		return
	}
	if c := p.launchCap(); n > c {
		n, p.more = c, true
	}
	if n <= 0 {
		return
	}
	sub := make([]placement.Instance, len(cands))
	for k, i := range cands {
		sub[k] = p.in.Instances[i]
	}
	// Eligibility already applied the constraints; distinctInstance keeps
	// the placements one per instance.
	res, err := placement.Place(sub, placement.Request{
		Count: n, Needs: p.needs(td), Group: p.group,
		Constraints: []ecs.PlacementConstraint{{Type: ecs.ConstraintDistinctInstance}}, Seed: p.in.Seed,
	})
	if err != nil {
		p.configurationFailure(err)
		r.blockedByPlacement = true
		return
	}
	var started []string
	placed := map[int]bool{}
	for _, pl := range res.Placements {
		started = append(started, p.launch(cands[pl.Index], td).TaskID)
		placed[pl.Index] = true
	}
	p.recordTasks(StartedTasksMessage, started)
	if res.Unplaced > 0 {
		if closest := daemonClosest(res.Rejections, placed); closest != nil {
			p.placementFailure(placement.Result{Unplaced: res.Unplaced, Closest: closest})
			r.blockedByPlacement = true
		}
	}
}

// rejectionOrder is the placement filters' order: a later one is a closer match.
var rejectionOrder = []string{
	placement.ReasonInactive, placement.ReasonAgent, placement.ReasonCPU, placement.ReasonMemory, placement.ReasonGPU,
	placement.ReasonPorts, placement.ReasonPortsUDP, placement.ReasonAttribute, placement.ReasonMemberOf,
}

// daemonClosest is the closest rejection among the instances that did not
// get a task.
func daemonClosest(rs []placement.Rejection, placed map[int]bool) *placement.Rejection {
	var best *placement.Rejection
	stage := func(reason string) int {
		for i, r := range rejectionOrder {
			if r == reason {
				return i
			}
		}
		return -1
	}
	for i := range rs {
		if placed[rs[i].Index] || rs[i].Reason == placement.ReasonDistinctInstance {
			continue
		}
		if best == nil || stage(rs[i].Reason) > stage(best.Reason) {
			best = &rs[i]
		}
	}
	return best
}

// victims picks k of vs to stop, as indices into vs in stop order, as the
// service's placement strategies scale in (reference §4.2). A pass stops
// at most MaxStops tasks, so only that many are chosen by the strategies;
// the rest follow in input order (the next pass chooses again).
func (p *pass) victims(vs []*taskView, k int) []int {
	out := make([]int, 0, k)
	if k >= len(vs) {
		for i := range vs {
			out = append(out, i)
		}
		return out
	}
	strategies := p.svc.PlacementStrategy
	if len(strategies) == 0 && !p.daemon {
		strategies = placement.ServiceDefaultStrategies()
	}
	pts := make([]placement.Task, len(vs))
	for i, v := range vs {
		pts[i] = placement.Task{ARN: v.t.TaskArn, Instance: v.inst}
		if v.td != nil {
			n := p.needs(v.td)
			pts[i].CPU, pts[i].Memory = n.CPU, n.Memory
		}
	}
	idx, err := placement.SelectVictims(p.in.Instances, pts, strategies, min(k, p.opt.MaxStops), p.in.Seed)
	if err != nil {
		// The strategies were validated at create and update; fall back
		// to input order rather than stopping nothing.
		idx = nil
	}
	chosen := make([]bool, len(vs))
	for _, j := range idx {
		out = append(out, j)
		chosen[j] = true
	}
	for j := 0; len(out) < k; j++ {
		if !chosen[j] {
			out = append(out, j)
		}
	}
	return out
}
