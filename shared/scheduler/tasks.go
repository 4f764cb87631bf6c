package scheduler

import (
	"slices"
	"strings"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// NoHealthCheckWarmup is how long a task without an essential container
// health check must be RUNNING before it counts as healthy (reference §5.2).
const NoHealthCheckWarmup = 40 * time.Second

// taskView is one task as this pass sees it.
type taskView struct {
	t    *ecs.Task // never modified
	id   string
	dep  string // the deployment that started it (startedBy)
	inst int    // index into Input.Instances; -1 when the instance is unknown
	td   *ecs.TaskDefinition
	// since is when the task reached RUNNING (or, failing that, was created).
	since time.Time
	hasHC bool // an essential container has a health check

	active    bool // desired RUNNING and not past RUNNING: counts toward the deployment
	pending   bool // active, not yet RUNNING
	running   bool // active and RUNNING
	healthy   bool // counts toward minimumHealthyPercent
	unhealthy bool // failed its health checks after the grace period: replace it
}

func (p *pass) indexTasks() {
	grace := time.Duration(0)
	if g := p.svc.HealthCheckGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	p.tasks = make([]*taskView, 0, len(p.in.Tasks))
	views := make([]taskView, len(p.in.Tasks))
	for i := range p.in.Tasks {
		t := &p.in.Tasks[i]
		if !strings.HasPrefix(t.StartedBy, deploymentPrefix) {
			// Not started by a deployment (a RunTask given the group):
			// the scheduler neither counts nor stops it.
			continue
		}
		v := &views[i]
		p.view(v, t, grace)
		p.tasks = append(p.tasks, v)
	}
}

// deploymentPrefix begins every deployment ID, hence every service task's startedBy.
const deploymentPrefix = "ecs-svc/"

func (p *pass) view(v *taskView, t *ecs.Task, grace time.Duration) {
	v.t, v.id, v.dep, v.inst = t, t.ID(), t.StartedBy, -1
	if i, ok := p.byInst[t.ContainerInstanceArn]; ok {
		v.inst = i
	}
	v.td = p.in.TaskDefinitions[t.TaskDefinitionArn]
	v.hasHC = hasHealthCheck(v.td, t)
	v.since = t.StartedAt.Time
	if v.since.IsZero() {
		v.since = t.CreatedAt.Time
	}
	order := ecs.TaskStatusOrder(t.LastStatus)
	v.active = t.DesiredStatus != ecs.TaskStopped && order <= ecs.TaskStatusOrder(ecs.TaskRunning)
	if !v.active {
		return
	}
	v.running = t.LastStatus == ecs.TaskRunning
	v.pending = !v.running
	if !v.running {
		return
	}
	switch {
	case v.hasHC && t.HealthStatus == ecs.HealthHealthy:
		v.healthy = true
	case v.hasHC && t.HealthStatus == ecs.HealthUnhealthy:
		if end := v.since.Add(grace); p.now.Before(end) {
			p.wakeAt(end)
		} else {
			v.unhealthy = true
		}
	case !v.hasHC:
		if end := v.since.Add(NoHealthCheckWarmup); p.now.Before(end) {
			p.wakeAt(end)
		} else {
			v.healthy = true
		}
	}
}

// hasHealthCheck reports whether an essential container of the task's
// definition has a health check. Without the definition, a task that
// reported a health status has one.
func hasHealthCheck(td *ecs.TaskDefinition, t *ecs.Task) bool {
	if td == nil {
		return t.HealthStatus == ecs.HealthHealthy || t.HealthStatus == ecs.HealthUnhealthy
	}
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.IsEssential() && c.HealthCheck != nil {
			return true
		}
	}
	return false
}

// needs is what a task of td reserves, cached per definition.
func (p *pass) needs(td *ecs.TaskDefinition) ecs.Requirements {
	if n, ok := p.tdNeeds[td.TaskDefinitionArn]; ok {
		return n
	}
	n := ecs.TaskRequirements(td, nil)
	p.tdNeeds[td.TaskDefinitionArn] = n
	return n
}

// failure classifies a stopped task for the throttle and the circuit breaker.
type failure int

const (
	notFailed     failure = iota
	failedStart           // stopped without reaching RUNNING
	failedHealth          // stopped by the scheduler for failing its health checks
	failedRunning         // exited after RUNNING before it was ever healthy
)

// failureOf decides whether a stopped task failed. Deliberate stops (by a
// user, the scheduler, spot or termination notices, infrastructure) do not
// count, except the scheduler's stops of unhealthy tasks.
func failureOf(v *taskView) failure {
	t := v.t
	switch t.StopCode {
	case ecs.StopUserInitiated, ecs.StopSpotInterruption, ecs.StopTerminationNotice, ecs.StopInfrastructureHealth:
		return notFailed
	case ecs.StopServiceSchedulerInitiated:
		if t.StoppedReason == StoppedUnhealthy {
			return failedHealth
		}
		return notFailed
	}
	if t.StartedAt.IsZero() {
		return failedStart
	}
	if v.hasHC {
		if t.HealthStatus == ecs.HealthHealthy {
			return notFailed
		}
		return failedRunning
	}
	if stoppedAt(t).Sub(t.StartedAt.Time) >= NoHealthCheckWarmup {
		return notFailed
	}
	return failedRunning
}

func stoppedAt(t *ecs.Task) time.Time {
	for _, ts := range []ecs.Timestamp{t.StoppedAt, t.ExecutionStoppedAt, t.StoppingAt, t.CreatedAt} {
		if !ts.IsZero() {
			return ts.Time
		}
	}
	return time.Time{}
}

// observe counts the failures stopped tasks reveal, once each, into the
// start throttle and the deployments' circuit breakers, and applies the
// resets successes imply: any task reaching RUNNING after the last start
// failure ends the throttle; a healthy task of a deployment that started
// after its last failure resets the circuit breaker's count (unless it
// counts cumulatively). Success times are start times, so a task that
// started before a failure and turned healthy after it does not reset.
func (p *pass) observe() {
	counted, kept := p.stillVisible(p.st.Counted)
	var fresh []*taskView
	kinds := map[*taskView]failure{}
	for _, v := range p.tasks {
		if v.t.LastStatus != ecs.TaskStopped || counted[v.id] {
			continue
		}
		if k := failureOf(v); k != notFailed {
			fresh = append(fresh, v)
			kinds[v] = k
		}
	}
	slices.SortFunc(fresh, func(a, b *taskView) int {
		if c := stoppedAt(a.t).Compare(stoppedAt(b.t)); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	p.countThrottle(fresh, kinds)
	p.countDeployments(fresh, kinds)
	for _, v := range fresh {
		kept = append(kept, v.id)
	}
	if len(kept) > maxCounted {
		kept = kept[len(kept)-maxCounted:]
	}
	if len(kept) == 0 {
		kept = nil
	}
	p.st.Counted = kept
}

// stillVisible keeps the counted task IDs whose tasks are still in the
// input (the others expired), as a set and in order.
func (p *pass) stillVisible(ids []string) (map[string]bool, []string) {
	set := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return set, nil
	}
	visible := make(map[string]bool, len(p.tasks))
	for _, v := range p.tasks {
		visible[v.id] = true
	}
	var kept []string
	for _, id := range ids {
		if visible[id] && !set[id] {
			set[id] = true
			kept = append(kept, id)
		}
	}
	return set, kept
}

func (p *pass) countThrottle(fresh []*taskView, kinds map[*taskView]failure) {
	var lastStart time.Time
	for _, v := range p.tasks {
		if v.t.StartedAt.After(lastStart) {
			lastStart = v.t.StartedAt.Time
		}
	}
	th := &p.st.Throttle
	if th.Failures > 0 && lastStart.After(th.LastFailure) {
		*th = Throttle{}
	}
	for _, v := range fresh {
		if kinds[v] != failedStart {
			continue
		}
		at := stoppedAt(v.t)
		if at.After(lastStart) {
			th.Failures++
		}
		if at.After(th.LastFailure) {
			th.LastFailure = at
		}
	}
	if th.Failures == 0 {
		*th = Throttle{}
	}
}

func (p *pass) countDeployments(fresh []*taskView, kinds map[*taskView]failure) {
	p.lastKind = map[string]failure{}
	resets := resetsOnHealthyTask(circuitBreaker(&p.svc))
	for i := range p.svc.Deployments {
		d := &p.svc.Deployments[i]
		ds := p.st.deployment(d.ID)
		if d.RolloutState != ecs.RolloutInProgress {
			// A finished deployment's count is what it was when it finished.
			continue
		}
		var lastHealthy time.Time
		for _, v := range p.tasks {
			if v.dep != d.ID {
				continue
			}
			if !v.t.StartedAt.IsZero() {
				ds.Started = true
			}
			if v.healthy && v.t.StartedAt.After(lastHealthy) {
				lastHealthy = v.t.StartedAt.Time
			}
		}
		if resets && ds.Failures > 0 && lastHealthy.After(ds.LastFailure) {
			ds.Failures = 0
		}
		for _, v := range fresh {
			if v.dep != d.ID {
				continue
			}
			at := stoppedAt(v.t)
			if !resets || at.After(lastHealthy) {
				ds.Failures++
				p.lastKind[d.ID] = kinds[v]
			}
			if at.After(ds.LastFailure) {
				ds.LastFailure = at
			}
		}
	}
	p.st.keepDeployments(p.listed)
}

// listed reports whether the service lists deployment id.
func (p *pass) listed(id string) bool {
	for i := range p.svc.Deployments {
		if p.svc.Deployments[i].ID == id {
			return true
		}
	}
	return false
}
