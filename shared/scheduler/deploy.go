package scheduler

import (
	"slices"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// watchPrimary fails the PRIMARY deployment while it is in progress when
// its circuit breaker's count reaches the threshold or a watched alarm
// entered ALARM (reference §5.4, §5.5), and rolls back when configured.
func (p *pass) watchPrimary() {
	d := p.primary
	if d.RolloutState != ecs.RolloutInProgress {
		return
	}
	ds := p.st.deployment(d.ID)
	if cb := circuitBreaker(&p.svc); cb != nil && cb.Enable {
		threshold := CircuitBreakerThreshold(p.svc.DesiredCount, cb, p.opt.CircuitBreakerMinimum)
		if ds.Failures >= threshold {
			reason := CircuitBreakerStartFailure
			if p.lastKind[d.ID] == failedHealth {
				reason = CircuitBreakerHealthFailure
			}
			p.fail(reason, cb.Rollback, false)
			return
		}
	}
	if a := alarmsWatched(&p.svc); a != nil {
		var inAlarm []string
		for _, name := range a.AlarmNames {
			if p.in.AlarmStates[name] == "ALARM" {
				inAlarm = append(inAlarm, name)
			}
		}
		if !ds.AlarmsSeen {
			// Alarms already in ALARM when the deployment starts are
			// ignored for the whole deployment.
			ds.AlarmsSeen, ds.AlarmBaseline = true, inAlarm
			return
		}
		fired := slices.DeleteFunc(inAlarm, func(n string) bool { return slices.Contains(ds.AlarmBaseline, n) })
		if len(fired) > 0 {
			p.fail(AlarmFailureReason(fired), a.Rollback, true)
		}
	}
}

// fail marks the PRIMARY deployment FAILED (it launches no more tasks) and,
// with rollback, starts a deployment of the last COMPLETED one's task
// definition. A rollback deployment is never rolled back itself.
func (p *pass) fail(reason string, rollback, byAlarm bool) {
	d := p.primary
	at := ecs.At(p.now)
	d.RolloutState, d.RolloutStateReason, d.UpdatedAt = ecs.RolloutFailed, reason, at
	p.emit(Event{DetailType: DetailDeploymentStateChange, EventType: EventError, EventName: DeploymentFailed, Reason: reason, DeploymentID: d.ID})
	target := p.st.LastCompleted
	if !rollback || target == nil || p.st.deployment(d.ID).Rollback {
		return
	}
	nd := startDeployment(&p.svc, &p.st, freshDeploymentID(&p.svc, p.ids), target.TaskDefinition, p.now)
	nd.RolloutStateReason = RollbackReason(byAlarm, target.ID)
	p.st.deployment(nd.ID).Rollback = true
	p.primary = nd
	p.emit(inProgressEvent(*nd, p.now))
	if p.in.TaskDefinitions[target.TaskDefinition] == nil {
		// The caller could not know it would be needed: launch next pass.
		p.noLaunch, p.more = true, true
	}
}

// counts are one deployment's (or the service's) task counts.
type counts struct{ running, pending, active int }

// settle recomputes every count from the tasks and this pass's decisions,
// drops old deployments with no tasks left, completes the PRIMARY
// deployment at its target and records the steady state.
func (p *pass) settle() {
	byDep := map[string]*counts{}
	var total counts
	get := func(id string) *counts {
		c := byDep[id]
		if c == nil {
			c = &counts{}
			byDep[id] = c
		}
		return c
	}
	for _, v := range p.tasks {
		c := get(v.dep)
		switch {
		case v.t.LastStatus == ecs.TaskRunning:
			c.running++
			total.running++
		case v.t.LastStatus != ecs.TaskStopped && ecs.TaskStatusOrder(v.t.LastStatus) < ecs.TaskStatusOrder(ecs.TaskRunning):
			c.pending++
			total.pending++
		}
		if v.active && !p.stopped[v] {
			c.active++
		}
	}
	for _, l := range p.launches {
		c := get(l.Deployment)
		c.pending++
		c.active++
		total.pending++
	}
	p.svc.RunningCount, p.svc.PendingCount = total.running, total.pending
	p.dropEmptyDeployments(byDep)
	for i := range p.svc.Deployments {
		d := &p.svc.Deployments[i]
		c := get(d.ID)
		desired := c.active
		if d.Status == ecs.DeploymentPrimary {
			desired = p.svc.DesiredCount
		}
		failed := p.st.deployment(d.ID).Failures
		if d.DesiredCount != desired || d.RunningCount != c.running || d.PendingCount != c.pending || d.FailedTasks != failed {
			d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks = desired, c.running, c.pending, failed
			d.UpdatedAt = ecs.At(p.now)
		}
	}
	p.st.keepDeployments(p.listed)
	if p.svc.Status == ecs.ServiceActive {
		p.completeAndReport()
	}
}

// dropEmptyDeployments removes the non-PRIMARY deployments left with no
// task that counts toward them (ECS marks them INACTIVE and stops listing them).
func (p *pass) dropEmptyDeployments(byDep map[string]*counts) {
	primaryID := ""
	if p.primary != nil {
		primaryID = p.primary.ID
	}
	p.svc.Deployments = slices.DeleteFunc(p.svc.Deployments, func(d ecs.Deployment) bool {
		c := byDep[d.ID]
		return d.Status != ecs.DeploymentPrimary && (c == nil || c.active == 0)
	})
	p.primary = nil
	for i := range p.svc.Deployments {
		if p.svc.Deployments[i].ID == primaryID {
			p.primary = &p.svc.Deployments[i]
		}
	}
}

// completeAndReport completes an in-progress PRIMARY deployment that holds
// its target (after the bake time when alarms watch it) and records the
// steady state: exactly one deployment, runningCount == desiredCount, every
// task healthy and nothing started or stopped.
func (p *pass) completeAndReport() {
	d := p.primary
	steady := p.steady && len(p.svc.Deployments) == 1 && p.svc.RunningCount == p.svc.DesiredCount &&
		d.RolloutState != ecs.RolloutFailed && len(p.launches) == 0 && len(p.stops) == 0
	ds := p.st.deployment(d.ID)
	if !steady {
		ds.SteadySince = time.Time{}
		return
	}
	if d.RolloutState == ecs.RolloutInProgress {
		if ds.SteadySince.IsZero() {
			ds.SteadySince = p.now
		}
		if end := ds.SteadySince.Add(p.bakeTime()); p.now.Before(end) {
			p.wakeAt(end)
			return
		}
		d.RolloutState, d.RolloutStateReason, d.UpdatedAt = ecs.RolloutCompleted, CompletedReason(d.ID), ecs.At(p.now)
		p.emit(Event{DetailType: DetailDeploymentStateChange, EventType: EventInfo, EventName: DeploymentCompleted, Reason: d.RolloutStateReason, DeploymentID: d.ID})
		p.st.LastCompleted = &DeploymentRef{ID: d.ID, TaskDefinition: d.TaskDefinition}
	}
	if p.holds(SteadyStateMessage(p.name)) {
		p.serviceAction(EventInfo, ServiceSteadyState, "")
	}
}

// bakeTime is how long a deployment watched by alarms must hold its target
// before it completes: bakeTimeInMinutes, when set. ECS derives a default
// from the alarms' configuration, which Berth does not see.
func (p *pass) bakeTime() time.Duration {
	dc := p.svc.DeploymentConfiguration
	if alarmsWatched(&p.svc) == nil || dc.BakeTimeInMinutes == nil {
		return 0
	}
	return time.Duration(*dc.BakeTimeInMinutes) * time.Minute
}
