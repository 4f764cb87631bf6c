package scheduler

import (
	"slices"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
)

// Ranks order the outgoing tasks: the ones not healthy go first (stopping
// them costs no health), then healthy ones that must leave their instance,
// then old revisions, then the surplus of a scale-in.
const (
	rankPending = iota
	rankNotHealthy
	rankEvacuate
	rankOldRevision
	rankSurplus
)

// outgoing is a task to replace, with why.
type outgoing struct {
	v       *taskView
	rank    int
	reason  string
	surplus bool // beyond desiredCount: not bound by the total budget
	ordered bool // already in stop order (trimSurplus chose it as a victim)
}

// rollout is one pass's view of a service's tasks against its bounds.
type rollout struct {
	desired, maxTotal, minHealthy int
	retain                        []*taskView // tasks that stay
	out                           []outgoing  // tasks to replace, within the bounds
	want                          int         // tasks (or instances) still lacking one
	boundedStops                  int
	room                          int
	blockedByPlacement            bool
	throttled                     bool
}

func (p *pass) newRollout(desired int) *rollout {
	maxPct, minPct := percents(&p.svc)
	return &rollout{desired: desired, maxTotal: MaxTotal(desired, maxPct), minHealthy: MinHealthy(desired, minPct)}
}

// instance states as the scheduler sees them.
const (
	instOK       = iota // ACTIVE (connected or not: its tasks stay as they are)
	instDraining        // DRAINING: no placements, its service tasks leave
	instGone            // unknown, INACTIVE, deregistering: its tasks leave
)

func (p *pass) instanceState(v *taskView) int {
	if v.inst < 0 {
		return instGone
	}
	switch p.in.Instances[v.inst].Status {
	case ecs.InstanceActive:
		return instOK
	case ecs.InstanceDraining:
		return instDraining
	}
	return instGone
}

func (p *pass) instanceID(v *taskView) string {
	if v.inst >= 0 {
		return p.in.Instances[v.inst].ID
	}
	arn := v.t.ContainerInstanceArn
	if i := lastSlash(arn); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// frozen is true when the PRIMARY deployment failed without a rollback:
// nothing is launched, and the old deployments keep their tasks.
func (p *pass) frozen() bool { return p.primary.RolloutState == ecs.RolloutFailed }

// runReplica keeps desiredCount tasks of the PRIMARY deployment, replacing
// old-revision, unhealthy and draining-instance tasks within the bounds
// (reference §5.2, §5.3, §5.8).
func (p *pass) runReplica() {
	r := p.newRollout(p.svc.DesiredCount)
	frozen := p.frozen()
	for _, v := range p.tasks {
		if !v.active {
			continue
		}
		switch p.instanceState(v) {
		case instDraining, instGone:
			reason := stoppedDraining(p.instanceID(v))
			if p.instanceState(v) == instGone {
				reason = stoppedInstanceGone(p.instanceID(v))
			}
			if v.pending {
				// PENDING tasks on a DRAINING instance stop at once.
				p.stop(v, reason)
				continue
			}
			r.out = append(r.out, outgoing{v: v, rank: rankByHealth(v, rankEvacuate), reason: reason})
		default:
			switch {
			case v.unhealthy:
				r.out = append(r.out, outgoing{v: v, rank: rankNotHealthy, reason: StoppedUnhealthy})
			case v.dep == p.primary.ID || frozen && p.listed(v.dep):
				r.retain = append(r.retain, v)
			default:
				r.out = append(r.out, outgoing{v: v, rank: rankByHealth(v, rankOldRevision), reason: stoppedScaling(p.primary.ID)})
			}
		}
	}
	p.trimSurplus(r)
	r.want = r.desired - len(r.retain)
	p.rollStops(r)
	if !frozen {
		p.startReplicas(r)
	}
	p.checkBlocked(r, frozen)
	p.steady = len(r.out) == 0 && len(r.retain) == r.desired && allHealthy(r.retain)
}

func rankByHealth(v *taskView, healthyRank int) int {
	switch {
	case v.healthy:
		return healthyRank
	case v.pending:
		return rankPending
	}
	return rankNotHealthy
}

func allHealthy(vs []*taskView) bool {
	for _, v := range vs {
		if !v.healthy {
			return false
		}
	}
	return true
}

// trimSurplus moves the retained tasks beyond desiredCount to the outgoing
// ones: the not-yet-running first, then the not-yet-healthy, then healthy
// ones as the placement strategies choose (reference §4.2 scale-in).
func (p *pass) trimSurplus(r *rollout) {
	excess := len(r.retain) - r.desired
	if excess <= 0 {
		return
	}
	var classes [3][]*taskView
	for _, v := range r.retain {
		switch {
		case v.pending:
			classes[0] = append(classes[0], v)
		case !v.healthy:
			classes[1] = append(classes[1], v)
		default:
			classes[2] = append(classes[2], v)
		}
	}
	ranks := [3]int{rankPending, rankNotHealthy, rankSurplus}
	gone := map[*taskView]bool{}
	for c := range classes {
		if excess == 0 {
			break
		}
		for _, i := range p.victims(classes[c], min(excess, len(classes[c]))) {
			v := classes[c][i]
			r.out = append(r.out, outgoing{v: v, rank: ranks[c], reason: stoppedScaling(p.primary.ID), surplus: true, ordered: true})
			gone[v] = true
			excess--
		}
	}
	r.retain = slices.DeleteFunc(r.retain, func(v *taskView) bool { return gone[v] })
}

// rollStops stops outgoing tasks within the bounds, rank by rank. A stop
// must leave enough tasks that minHealthy are healthy once the retained
// tasks in flight are (total − minHealthy − retained-not-healthy), and a
// healthy task's stop must leave minHealthy healthy ones. Surplus tasks
// that are not healthy leave at once.
func (p *pass) rollStops(r *rollout) {
	healthy, inFlight := 0, 0
	for _, v := range r.retain {
		if v.healthy {
			healthy++
		} else {
			inFlight++
		}
	}
	for _, o := range r.out {
		if o.v.healthy {
			healthy++
		}
	}
	b := stopBudget{
		total:   len(r.retain) + len(r.out) - r.minHealthy - inFlight,
		healthy: healthy - r.minHealthy,
	}
	slices.SortStableFunc(r.out, func(a, b outgoing) int { return a.rank - b.rank })
	for start := 0; start < len(r.out); {
		end := start
		for end < len(r.out) && r.out[end].rank == r.out[start].rank {
			end++
		}
		if !p.stopRank(r, r.out[start:end], &b) {
			return
		}
		start = end
	}
}

// stopBudget is how many more tasks, and healthy tasks, may stop.
type stopBudget struct{ total, healthy int }

// stopRank stops what the budget allows of one rank of outgoing tasks (all
// healthy or all not); false when the pass reached its stop cap.
func (p *pass) stopRank(r *rollout, group []outgoing, b *stopBudget) bool {
	var bounded []outgoing
	ordered := true
	for _, o := range group {
		if o.surplus && !o.v.healthy {
			if !p.stopWithin(o.v, o.reason) {
				return false
			}
			b.total--
			continue
		}
		bounded = append(bounded, o)
		ordered = ordered && o.ordered
	}
	allowed := min(b.total, len(bounded))
	if group[0].v.healthy {
		allowed = min(allowed, b.healthy)
	}
	if room := p.opt.MaxStops - len(p.stops); allowed > room {
		allowed, p.more = room, true
	}
	if allowed <= 0 {
		return true
	}
	var order []int
	if !ordered {
		vs := make([]*taskView, len(bounded))
		for i, o := range bounded {
			vs[i] = o.v
		}
		order = p.victims(vs, allowed)
	}
	for i := range allowed {
		o := bounded[i]
		if order != nil {
			o = bounded[order[i]]
		}
		if !p.stopWithin(o.v, o.reason) {
			return false
		}
		r.boundedStops++
		b.total--
		if o.v.healthy {
			b.healthy--
		}
	}
	return true
}

// stopWithin stops v unless the pass reached its stop cap, in which case
// it asks for another pass.
func (p *pass) stopWithin(v *taskView, reason string) bool {
	if len(p.stops) >= p.opt.MaxStops {
		p.more = true
		return false
	}
	p.stop(v, reason)
	return true
}

// stop asks for v to stop (desiredStatus STOPPED, ServiceSchedulerInitiated).
func (p *pass) stop(v *taskView, reason string) {
	if p.stopped[v] {
		return
	}
	p.stopped[v] = true
	p.stops = append(p.stops, Stop{TaskArn: v.t.TaskArn, Version: v.t.Version, StoppedReason: reason, StopCode: ecs.StopServiceSchedulerInitiated})
}

// launchCap is how many tasks this pass may still start: the launch cap,
// and what the transaction has room for.
func (p *pass) launchCap() int {
	return max(0, min(p.opt.MaxLaunches-len(p.launches), (p.opt.MaxItems-1-len(p.stops))/3))
}

// startReplicas starts PRIMARY tasks: min(D − retained, maxTotal − tasks
// left), unless throttled. When maximumPercent allows no start, one
// unhealthy task is stopped first (one by one, reference §5.2).
func (p *pass) startReplicas(r *rollout) {
	r.room = r.maxTotal - p.remaining(r)
	if r.want > 0 && r.room <= 0 && p.stopOneUnhealthy(r) {
		r.room++
	}
	n := min(r.want, r.room)
	if n <= 0 || p.throttle(r) || p.noLaunch {
		return
	}
	if c := p.launchCap(); n > c {
		n, p.more = c, true
	}
	if n <= 0 {
		return
	}
	td := p.in.TaskDefinitions[p.primary.TaskDefinition]
	strategies := p.svc.PlacementStrategy
	if len(strategies) == 0 {
		strategies = placement.ServiceDefaultStrategies()
	}
	res, err := placement.Place(p.in.Instances, placement.Request{
		Count: n, Needs: p.needs(td), Group: p.group,
		Constraints: p.svc.PlacementConstraints, TaskDefinitionConstraints: td.PlacementConstraints,
		Strategies: strategies, RequiresAttributes: td.RequiresAttributes, Seed: p.in.Seed,
	})
	if err != nil {
		p.configurationFailure(err)
		r.blockedByPlacement = true
		return
	}
	var started []string
	for _, pl := range res.Placements {
		started = append(started, p.launch(pl.Index, td).TaskID)
	}
	p.recordTasks(StartedTasksMessage, started)
	if res.Unplaced > 0 {
		p.placementFailure(res)
		r.blockedByPlacement = true
	}
}

// remaining counts the tasks of the rollout this pass leaves running or pending.
func (p *pass) remaining(r *rollout) int {
	n := len(r.retain)
	for _, o := range r.out {
		if !p.stopped[o.v] {
			n++
		}
	}
	return n
}

func firstUnhealthy(out []outgoing, stopped map[*taskView]bool) *taskView {
	for _, o := range out {
		if o.v.unhealthy && !stopped[o.v] {
			return o.v
		}
	}
	return nil
}

// inFlight reports whether a retained task is still coming up.
func (p *pass) inFlight(vs []*taskView) bool {
	for _, v := range vs {
		if !v.healthy {
			return true
		}
	}
	return false
}

// throttle reports whether the start throttle holds launches back now,
// recording the impaired-start condition when it has lasted.
func (p *pass) throttle(r *rollout) bool {
	th := p.st.Throttle
	if th.Failures >= ThrottleImpairedAfter && p.holds(StartImpairedMessage(p.name)) {
		p.serviceAction(EventWarn, ServiceTaskStartImpaired, "")
	}
	until := th.Until()
	if until.IsZero() || !p.now.Before(until) {
		return false
	}
	p.wakeAt(until)
	r.throttled = true
	return true
}

func (p *pass) launch(inst int, td *ecs.TaskDefinition) Launch {
	l := Launch{
		TaskID: p.ids.taskID(), Deployment: p.primary.ID, TaskDefinition: td.TaskDefinitionArn, Group: p.group,
		Instance: inst, InstanceARN: p.in.Instances[inst].ARN, Needs: p.needs(td),
	}
	p.launches = append(p.launches, l)
	return l
}

// placementFailure records that a task fit nowhere: the service event
// naming the closest instance and a SERVICE_TASK_PLACEMENT_FAILURE event.
func (p *pass) placementFailure(res placement.Result) {
	if !p.holds(placement.UnableToPlaceMessage(p.name, res)) {
		return
	}
	var reason string
	var instances []string
	if res.Closest != nil {
		reason, instances = res.Closest.Reason, []string{res.Closest.ARN}
	}
	p.serviceAction(EventError, ServiceTaskPlacementFailure, reason, instances...)
}

// configurationFailure records a placement request the engine refused
// (constraints that no longer compile together, for instance).
func (p *pass) configurationFailure(err error) {
	msg := err.Error()
	if e, ok := ecs.AsError(err); ok {
		msg = e.Message
	}
	if p.holds("service " + p.name + " was unable to place a task because its configuration is invalid: " + msg) {
		p.serviceAction(EventError, ServiceTaskConfigurationFailure, msg)
	}
}

// checkBlocked records the deployment-configuration event when there is
// work (tasks missing, or tasks to replace) that maximumPercent and
// minimumHealthyPercent together allow neither to start nor to stop, and
// nothing is coming up that could change it.
func (p *pass) checkBlocked(r *rollout, frozen bool) {
	if frozen || r.throttled || r.blockedByPlacement || p.noLaunch || len(p.stops) > 0 || len(p.launches) > 0 {
		return
	}
	missing := r.want > 0 && r.room <= 0
	if !missing && len(r.out) == 0 || p.inFlight(r.retain) {
		return
	}
	for _, o := range r.out {
		if !o.v.healthy && !o.v.unhealthy {
			return
		}
	}
	p.holds(DeploymentConfigurationMessage(p.name))
}

// stopOneUnhealthy stops one unhealthy task when the bounds allowed no stop
// and nothing is coming up: ECS then replaces unhealthy tasks one by one.
func (p *pass) stopOneUnhealthy(r *rollout) bool {
	if r.boundedStops > 0 || p.inFlight(r.retain) {
		return false
	}
	v := firstUnhealthy(r.out, p.stopped)
	if v == nil || !p.stopWithin(v, StoppedUnhealthy) {
		return false
	}
	r.boundedStops++
	return true
}

// runDelete stops every task of a DRAINING (deleted) service and makes it
// INACTIVE once all its tasks are STOPPING or STOPPED.
func (p *pass) runDelete() {
	done := true
	for _, v := range p.tasks {
		if v.active {
			p.stopWithin(v, stoppedServiceDeleted(p.name))
		}
		if ecs.TaskStatusOrder(v.t.LastStatus) < ecs.TaskStatusOrder(ecs.TaskStopping) {
			done = false
		}
	}
	if done {
		p.svc.Status = ecs.ServiceInactive
	}
}
