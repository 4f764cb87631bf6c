package agent

import (
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// The decisions of the task runner are pure functions of what was observed:
// Decide takes a TaskView (the task's containers as the driver shows them,
// the desired status, the clock) and returns a Plan (what to start, what to
// stop, which status to report). The runner does the I/O around them.

// Phase is where one container of a task is, as observed.
type Phase int

// Container phases, in the only order a container moves through them.
const (
	// PhaseAbsent: not created yet.
	PhaseAbsent Phase = iota
	// PhaseCreated: created, not started.
	PhaseCreated
	// PhaseRunning: started and running.
	PhaseRunning
	// PhaseExited: ran, then exited.
	PhaseExited
	// PhaseFailed: could not be created or started, will never start, or
	// vanished before it ran.
	PhaseFailed
)

func (p Phase) String() string {
	switch p {
	case PhaseAbsent:
		return "absent"
	case PhaseCreated:
		return "created"
	case PhaseRunning:
		return "running"
	case PhaseExited:
		return "exited"
	case PhaseFailed:
		return "failed"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// started reports whether the container ever ran.
func (p Phase) started() bool { return p == PhaseRunning || p == PhaseExited }

// done reports whether the container will never run again.
func (p Phase) done() bool { return p == PhaseExited || p == PhaseFailed }

// ContainerView is one container of a task as the decisions see it.
type ContainerView struct {
	Name      string
	Essential bool
	DependsOn []ecs.ContainerDependency
	// HasHealthCheck is true when the definition has a health check.
	HasHealthCheck bool
	// StartTimeout is how long a dependent waits for this container to meet
	// its condition before giving up.
	StartTimeout time.Duration

	Phase    Phase
	ExitCode *int
	// Health is ecs.HealthHealthy, ecs.HealthUnhealthy or ecs.HealthUnknown.
	Health string
	// Reason explains a failure or an abnormal exit.
	Reason string
}

// StopCause is why a task is being stopped. Desired means the control
// plane asked (it records its own stop code and reason); otherwise Code and
// Reason are the agent's.
type StopCause struct {
	Desired bool
	Code    string
	Reason  string
}

// TaskView is everything Decide looks at.
type TaskView struct {
	DesiredStopped bool
	// Containers are in task-definition order.
	Containers []ContainerView
	// Cause is the stop cause decided earlier, if any: once a task stops,
	// it stays stopping.
	Cause *StopCause
	// WaitingSince is when the task began waiting for its containers'
	// dependencies (when the runner took it up).
	WaitingSince time.Time
	Now          time.Time
}

// Plan is what Decide asks the runner to do.
type Plan struct {
	// Cause is the task's stop cause (new or carried over); nil while it
	// should run.
	Cause *StopCause
	// Create lists containers to create ahead of their start (pulling
	// their images while their dependencies come up).
	Create []string
	// Start lists containers whose dependencies are met: create them if
	// absent, then start them.
	Start []string
	// Stop lists running containers to stop now; containers that others
	// depend on wait until those have stopped.
	Stop []string
	// Blocked maps containers that can never start to the reason; the
	// runner records them as failed.
	Blocked map[string]string
	// Status is the task's lastStatus.
	Status string
	// Health is the task's healthStatus.
	Health string
	// WakeAt is when a dependency wait times out (zero if none does).
	WakeAt time.Time
}

// ReasonEssentialExited is ECS's stoppedReason for a task whose essential
// container exited.
const ReasonEssentialExited = "Essential container in task exited"

// ReasonNoContainers fails a task whose definition reached the agent
// without containers.
const ReasonNoContainers = "ResourceInitializationError: the task's definition has no containers (it did not reach the agent)"

// Decide plans the next step of a task.
func Decide(v TaskView) Plan {
	p := Plan{Cause: v.Cause, Blocked: map[string]string{}}
	if p.Cause == nil && v.DesiredStopped {
		p.Cause = &StopCause{Desired: true}
	}
	if p.Cause == nil && len(v.Containers) == 0 {
		p.Cause = &StopCause{Code: ecs.StopTaskFailedToStart, Reason: ReasonNoContainers}
	}
	if p.Cause == nil {
		p.Cause = essentialFailure(v.Containers)
	}
	if p.Cause == nil {
		planStarts(v, &p)
	}
	if p.Cause != nil {
		p.Stop = Stoppable(v.Containers)
	}
	p.Status = TaskStatus(p.Cause, v.Containers)
	p.Health = TaskHealth(v.Containers)
	return p
}

// essentialFailure is the stop cause an essential container's end gives
// the task: one that exited stops it with EssentialContainerExited, one
// that could not start with TaskFailedToStart and its reason.
func essentialFailure(cs []ContainerView) *StopCause {
	for _, c := range cs {
		if !c.Essential {
			continue
		}
		switch c.Phase {
		case PhaseExited:
			return &StopCause{Code: ecs.StopEssentialContainerExited, Reason: ReasonEssentialExited}
		case PhaseFailed:
			return &StopCause{Code: ecs.StopTaskFailedToStart, Reason: failedReason(c)}
		}
	}
	return nil
}

func failedReason(c ContainerView) string {
	if c.Reason != "" {
		return c.Reason
	}
	return fmt.Sprintf("CannotStartContainerError: container %s could not start", c.Name)
}

// planStarts fills Create, Start, Blocked and WakeAt for a task that should
// run. A container that can never start blocks; if it is essential the
// whole task fails to start.
func planStarts(v TaskView, p *Plan) {
	byName := make(map[string]ContainerView, len(v.Containers))
	for _, c := range v.Containers {
		byName[c.Name] = c
	}
	waited := v.Now.Sub(v.WaitingSince)
	for _, c := range v.Containers {
		if c.Phase != PhaseAbsent && c.Phase != PhaseCreated {
			continue
		}
		ready, never, wakeAt := dependenciesOf(c, byName, v.WaitingSince, waited)
		switch {
		case never != "":
			p.Blocked[c.Name] = never
			if c.Essential && p.Cause == nil {
				p.Cause = &StopCause{Code: ecs.StopTaskFailedToStart, Reason: never}
			}
		case ready:
			p.Start = append(p.Start, c.Name)
		default:
			if c.Phase == PhaseAbsent {
				p.Create = append(p.Create, c.Name)
			}
			if !wakeAt.IsZero() && (p.WakeAt.IsZero() || wakeAt.Before(p.WakeAt)) {
				p.WakeAt = wakeAt
			}
		}
	}
	if p.Cause != nil {
		p.Create, p.Start, p.WakeAt = nil, nil, time.Time{}
	}
}

// dependenciesOf tells whether all of c's dependencies are met, or why
// they never will be, or else when the earliest wait times out.
func dependenciesOf(c ContainerView, byName map[string]ContainerView, since time.Time, waited time.Duration) (ready bool, never string, wakeAt time.Time) {
	ready = true
	for _, d := range c.DependsOn {
		dep, ok := byName[d.ContainerName]
		if !ok {
			return false, fmt.Sprintf("DependencyError: container %s depends on %s, which is not in the task", c.Name, d.ContainerName), time.Time{}
		}
		switch verdict, why := DependencyVerdict(d.Condition, dep, waited); verdict {
		case DependencyNever:
			return false, fmt.Sprintf("DependencyError: container %s depends on %s (%s), which %s", c.Name, dep.Name, d.Condition, why), time.Time{}
		case DependencyWaiting:
			ready = false
			if dep.StartTimeout > 0 {
				at := since.Add(dep.StartTimeout)
				if wakeAt.IsZero() || at.Before(wakeAt) {
					wakeAt = at
				}
			}
		}
	}
	return ready, "", wakeAt
}

// Verdicts on one dependency.
const (
	DependencyMet = iota
	DependencyWaiting
	DependencyNever
)

// DependencyVerdict judges one dependsOn condition against the dependency's
// state after waited: met, still possible (waiting), or never; for never it
// says why, as the end of a sentence about the dependency.
func DependencyVerdict(condition string, dep ContainerView, waited time.Duration) (int, string) {
	verdict, why := dependencyState(condition, dep)
	if verdict == DependencyWaiting && dep.StartTimeout > 0 && waited >= dep.StartTimeout {
		return DependencyNever, fmt.Sprintf("did not reach %s within its start timeout of %v", condition, dep.StartTimeout)
	}
	return verdict, why
}

func dependencyState(condition string, dep ContainerView) (int, string) {
	if dep.Phase == PhaseFailed {
		return DependencyNever, "failed to start: " + failedReason(dep)
	}
	switch condition {
	case ecs.DependStart:
		if dep.Phase.started() {
			return DependencyMet, ""
		}
	case ecs.DependComplete:
		if dep.Phase == PhaseExited {
			return DependencyMet, ""
		}
	case ecs.DependSuccess:
		if dep.Phase == PhaseExited {
			if dep.ExitCode != nil && *dep.ExitCode == 0 {
				return DependencyMet, ""
			}
			return DependencyNever, "exited with " + exitDescription(dep.ExitCode) + " instead of 0"
		}
	case ecs.DependHealthy:
		if !dep.HasHealthCheck {
			return DependencyNever, "has no health check"
		}
		if dep.Phase == PhaseRunning && dep.Health == ecs.HealthHealthy {
			return DependencyMet, ""
		}
		if dep.Phase == PhaseExited {
			return DependencyNever, "exited before it was healthy"
		}
	default:
		return DependencyNever, fmt.Sprintf("is awaited with the unknown condition %q", condition)
	}
	return DependencyWaiting, ""
}

func exitDescription(code *int) string {
	if code == nil {
		return "an unknown exit code"
	}
	return fmt.Sprintf("exit code %d", *code)
}

// Stoppable lists the running containers that may be stopped now: those no
// other running container depends on, so that a task stops in reverse
// dependency order. If a dependency cycle leaves none, all running ones are.
func Stoppable(cs []ContainerView) []string {
	needed := map[string]bool{}
	var running []string
	for _, c := range cs {
		if c.Phase != PhaseRunning {
			continue
		}
		running = append(running, c.Name)
		for _, d := range c.DependsOn {
			needed[d.ContainerName] = true
		}
	}
	var out []string
	for _, name := range running {
		if !needed[name] {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return running
	}
	return out
}

// TaskStatus is the task's lastStatus: STOPPING while a stopping task still
// runs containers, STOPPED once none runs; RUNNING once every container
// started (or, if not essential, is done); else PENDING.
func TaskStatus(cause *StopCause, cs []ContainerView) string {
	if cause != nil {
		for _, c := range cs {
			if c.Phase == PhaseRunning {
				return ecs.TaskStopping
			}
		}
		return ecs.TaskStopped
	}
	for _, c := range cs {
		if c.Phase == PhaseAbsent || c.Phase == PhaseCreated {
			return ecs.TaskPending
		}
	}
	return ecs.TaskRunning
}

// TaskHealth is ECS's task health: only essential containers with a health
// check count; UNHEALTHY if any of them is, HEALTHY if all of them are,
// else (none, or some still being evaluated) UNKNOWN.
func TaskHealth(cs []ContainerView) string {
	counted, healthy := 0, 0
	for _, c := range cs {
		if !c.Essential || !c.HasHealthCheck {
			continue
		}
		counted++
		switch c.Health {
		case ecs.HealthUnhealthy:
			return ecs.HealthUnhealthy
		case ecs.HealthHealthy:
			healthy++
		}
	}
	if counted > 0 && healthy == counted {
		return ecs.HealthHealthy
	}
	return ecs.HealthUnknown
}

// ContainerStatus is a container's status in a report: STOPPED once done,
// or when its task stopped before it ran.
func ContainerStatus(p Phase, taskStatus string) string {
	switch {
	case p == PhaseRunning:
		return ecs.ContainerRunning
	case p.done(), taskStatus == ecs.TaskStopped:
		return ecs.ContainerStopped
	default:
		return ecs.ContainerPending
	}
}
