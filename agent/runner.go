package agent

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// ReasonContainerLost explains a container that vanished from the host
// (removed behind the agent's back, or lost with the host's state).
const ReasonContainerLost = "ContainerLost: the container is no longer on the host"

// actionRetry is how soon a failed driver call or report is retried.
const actionRetry = time.Second

// slot is one container of a task as the runner knows it.
type slot struct {
	name string
	def  *ecs.ContainerDefinition // nil for containers of unknown tasks
	id   string
	// state is the driver's latest word on the container.
	state ContainerState
	// failed is why the container could not be created or started.
	failed string
	// lost is set when the container vanished; everStarted tells whether it
	// had run (it then counts as exited, else as failed).
	lost        string
	everStarted bool
}

func (s *slot) phase() Phase {
	switch {
	case s.failed != "":
		return PhaseFailed
	case s.lost != "":
		if s.everStarted {
			return PhaseExited
		}
		return PhaseFailed
	case s.id == "":
		return PhaseAbsent
	}
	switch s.state.Status {
	case StatusRunning:
		return PhaseRunning
	case StatusExited:
		if s.state.StartedAt.IsZero() {
			return PhaseFailed
		}
		return PhaseExited
	default:
		return PhaseCreated
	}
}

func (s *slot) reason() string {
	return firstOf(s.failed, s.lost, s.state.Reason)
}

// runner converges one task: it creates and starts its containers in
// dependency order, stops them when the task must stop, reports each
// change, and removes the containers once they have been kept long enough.
// Its decisions are Decide's; it only observes and acts.
type runner struct {
	a   *Agent
	arn string
	log *slog.Logger

	mu     sync.Mutex
	task   *AgentTask
	td     *ecs.TaskDefinition
	absent bool
	wake   chan struct{}
	halt   chan struct{} // closed once the task must stop: cancels creates and starts
	halted bool

	// Owned by the runner's goroutine.
	slots        []*slot // the definition's containers, in order
	loose        []*slot // containers with no place in the definition
	built        bool
	cause        *StopCause
	seq          seqCounter
	sent         string // essence of the last report the server took
	sentStatus   string
	sentStopped  bool
	stoppedAt    time.Time // when the control plane took the STOPPED report
	pullStarted  time.Time
	pullStopped  time.Time
	waitingSince time.Time
	retryAt      time.Time
	retryDelay   time.Duration
}

func newRunner(a *Agent, arn string, t *AgentTask, td *ecs.TaskDefinition, existing []ContainerState) *runner {
	r := &runner{a: a, arn: arn, log: a.log.With("task", arn), wake: make(chan struct{}, 1), halt: make(chan struct{})}
	for _, st := range existing {
		s := &slot{name: st.ContainerName, id: st.ID, state: st, everStarted: !st.StartedAt.IsZero()}
		r.loose = append(r.loose, s)
		a.own(st.ID, arn)
	}
	if t != nil {
		r.setDesired(*t, *td)
	} else {
		r.setAbsent()
	}
	return r
}

// setDesired hands the runner its task's latest desired state.
func (r *runner) setDesired(t AgentTask, td ecs.TaskDefinition) {
	r.mu.Lock()
	if r.absent && r.halted && t.DesiredStatus != ecs.TaskStopped {
		// Taken for an orphan, the task turned out to be desired after all.
		r.halt, r.halted = make(chan struct{}), false
	}
	r.task, r.td, r.absent = &t, &td, false
	if t.DesiredStatus == ecs.TaskStopped {
		r.haltLocked()
	}
	r.mu.Unlock()
	r.poke()
}

func (r *runner) haltChan() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.halt
}

// setAbsent tells the runner its task is no longer desired: it stops and
// removes the task's containers.
func (r *runner) setAbsent() {
	r.mu.Lock()
	r.absent = true
	r.haltLocked()
	r.mu.Unlock()
	r.poke()
}

func (r *runner) haltLocked() {
	if !r.halted {
		r.halted = true
		close(r.halt)
	}
}

func (r *runner) haltNow() {
	r.mu.Lock()
	r.haltLocked()
	r.mu.Unlock()
}

// poke wakes the runner to look again.
func (r *runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *runner) snapshot() (*AgentTask, *ecs.TaskDefinition, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.task, r.td, r.absent
}

// run steps the task until it is done (its containers removed and the task
// not desired) or ctx ends.
func (r *runner) run(ctx context.Context) {
	for ctx.Err() == nil {
		again, wakeAt, done := r.step(ctx)
		if done {
			return
		}
		if again {
			continue
		}
		r.wait(ctx, wakeAt)
	}
}

// wait blocks until the runner is poked, wakeAt (if set) passes, or ctx ends.
func (r *runner) wait(ctx context.Context, wakeAt time.Time) {
	var timer <-chan time.Time
	if !wakeAt.IsZero() {
		t := time.NewTimer(max(wakeAt.Sub(r.a.now()), 0))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-r.wake:
	case <-timer:
	}
}

// step observes, decides, reports and acts once. again asks for another
// step at once (something changed); wakeAt for one at that time at the latest.
func (r *runner) step(ctx context.Context) (again bool, wakeAt time.Time, done bool) {
	task, td, absent := r.snapshot()
	if task != nil {
		r.seq.observe(task.Seq)
		if !r.built {
			r.build(task, td)
		}
	}
	r.observe(ctx)
	if absent || task == nil {
		return r.retire(ctx)
	}
	now := r.a.now()
	plan := Decide(TaskView{
		DesiredStopped: task.DesiredStatus == ecs.TaskStopped,
		Containers:     r.views(),
		Cause:          r.cause,
		WaitingSince:   r.waitingSince,
		Now:            now,
	})
	if plan.Cause != nil && r.cause == nil {
		r.cause = plan.Cause
		r.haltNow()
		r.log.Info("stopping task", "stopCode", plan.Cause.Code, "reason", plan.Cause.Reason, "desired", plan.Cause.Desired)
	}
	if len(plan.Blocked) > 0 {
		for _, s := range r.slots {
			if why, ok := plan.Blocked[s.name]; ok {
				s.failed = why
				r.log.Warn("container can never start", "container", s.name, "reason", why)
			}
		}
		return true, time.Time{}, false
	}
	r.report(ctx, plan)
	acted, failed := r.act(ctx, plan)
	wakeAt = earliest(plan.WakeAt, r.retryAt)
	if failed {
		wakeAt = earliest(wakeAt, now.Add(actionRetry))
	}
	if r.sentStopped && r.hasContainers() {
		due := r.cleanupDue()
		if !now.Before(due) {
			r.removeAll(ctx)
		} else {
			wakeAt = earliest(wakeAt, due)
		}
	}
	// After a failure, wait a moment rather than retrying at once.
	return acted && !failed, wakeAt, false
}

// build lays out the definition's containers, adopting those found on the
// host (the first with each name; the rest are loose and get removed).
func (r *runner) build(task *AgentTask, td *ecs.TaskDefinition) {
	r.built = true
	r.waitingSince = r.a.now()
	if ecs.TaskStatusOrder(task.LastStatus) >= ecs.TaskStatusOrder(ecs.TaskStopping) {
		// The control plane already knows the task is stopping (an earlier
		// agent said so): carry on stopping.
		r.cause = &StopCause{Desired: true}
	}
	r.sentStatus = task.LastStatus
	r.sent = serverEssence(task)
	server := map[string]ecs.Container{}
	for _, c := range task.Containers {
		server[c.Name] = c
	}
	defs := Containers(td, task.Overrides)
	for i := range defs {
		d := defs[i]
		s := r.takeLoose(d.Name)
		if s == nil {
			s = &slot{name: d.Name}
			if st := server[d.Name].LastStatus; st == ecs.ContainerRunning || st == ecs.ContainerStopped {
				s.lost, s.everStarted = ReasonContainerLost, true
			}
		}
		s.def = &d
		r.slots = append(r.slots, s)
	}
}

// takeLoose removes the best loose container named name from the loose
// list: a running one, else a started one, else any.
func (r *runner) takeLoose(name string) *slot {
	best := -1
	for i, s := range r.loose {
		if s.name != name {
			continue
		}
		if best < 0 || rank(s) > rank(r.loose[best]) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	s := r.loose[best]
	r.loose = slices.Delete(r.loose, best, best+1)
	return s
}

func rank(s *slot) int {
	switch {
	case s.state.Status == StatusRunning:
		return 2
	case s.everStarted:
		return 1
	}
	return 0
}

// observe inspects every container the runner knows.
func (r *runner) observe(ctx context.Context) {
	for _, s := range r.all() {
		if s.id == "" || s.lost != "" {
			continue
		}
		st, err := r.a.driver.Inspect(ctx, s.id)
		switch {
		case errors.Is(err, ErrNotFound):
			s.lost = ReasonContainerLost
			r.a.disown(s.id)
		case err != nil:
			if ctx.Err() == nil {
				r.log.Warn("inspect container", "container", s.name, "id", s.id, "error", err)
			}
		default:
			s.state = st
			if st.Status == StatusRunning || !st.StartedAt.IsZero() {
				s.everStarted = true
			}
		}
	}
}

func (r *runner) all() []*slot {
	return append(slices.Clone(r.slots), r.loose...)
}

// views are the definition's containers as Decide sees them.
func (r *runner) views() []ContainerView {
	out := make([]ContainerView, len(r.slots))
	for i, s := range r.slots {
		out[i] = ContainerView{
			Name:           s.name,
			Essential:      s.def.IsEssential(),
			DependsOn:      s.def.DependsOn,
			HasHealthCheck: s.def.HealthCheck != nil,
			StartTimeout:   StartTimeoutOf(*s.def, r.a.cfg.StartTimeout),
			Phase:          s.phase(),
			ExitCode:       s.state.ExitCode,
			Health:         healthOr(s.state.HealthStatus),
			Reason:         s.reason(),
		}
		if s.lost != "" {
			out[i].ExitCode = nil
		}
	}
	return out
}

func healthOr(h string) string {
	if h == "" {
		return ecs.HealthUnknown
	}
	return h
}

// act carries out a plan: stops, creates and starts run concurrently.
// acted tells whether anything was done, failed whether a call failed
// without changing what the runner knows (a stop or removal to retry).
func (r *runner) act(ctx context.Context, plan Plan) (acted, failed bool) {
	startCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	halt := r.haltChan()
	go func() {
		select {
		case <-halt:
			cancel()
		case <-startCtx.Done():
		}
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	result := func(ok bool) {
		mu.Lock()
		defer mu.Unlock()
		acted = true
		failed = failed || !ok
	}
	byName := map[string]*slot{}
	for _, s := range r.slots {
		byName[s.name] = s
	}
	for _, name := range plan.Stop {
		s := byName[name]
		wg.Go(func() { result(r.stopContainer(ctx, s)) })
	}
	// A create or start that fails records why on the container (or was
	// cut short by a stop): either way the next step has news.
	for _, name := range plan.Create {
		s := byName[name]
		wg.Go(func() {
			r.createContainer(startCtx, s, &mu)
			result(true)
		})
	}
	for _, name := range plan.Start {
		s := byName[name]
		wg.Go(func() {
			if s.id == "" {
				r.createContainer(startCtx, s, &mu)
			}
			if s.id != "" && s.failed == "" {
				r.startContainer(startCtx, s)
			}
			result(true)
		})
	}
	for _, s := range r.loose {
		if s.id != "" {
			wg.Go(func() { result(r.remove(ctx, s)) })
		}
	}
	wg.Wait()
	r.loose = slices.DeleteFunc(r.loose, func(s *slot) bool { return s.id == "" })
	return acted, failed
}

// createContainer creates a container, pulling its image; a failure other
// than the task being stopped meanwhile marks the container failed.
func (r *runner) createContainer(ctx context.Context, s *slot, mu *sync.Mutex) {
	task, td, _ := r.snapshot()
	defs := Containers(td, task.Overrides)
	spec, err := ContainerSpecFor(SpecInput{
		TaskArn: r.arn, Cluster: r.a.cfg.Cluster, TD: td, Def: *s.def,
		GPUIDs: AssignGPUs(defs, task.GPUIDs)[s.name], StopTimeout: r.a.cfg.StopTimeout,
		HealthCheckScale: r.a.cfg.HealthCheckScale,
	})
	if err != nil {
		s.failed = err.Error()
		return
	}
	mu.Lock()
	if r.pullStarted.IsZero() {
		r.pullStarted = r.a.now()
	}
	mu.Unlock()
	id, err := r.a.driver.Create(ctx, spec)
	mu.Lock()
	r.pullStopped = r.a.now()
	mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			s.failed = err.Error()
			r.log.Warn("container could not be created", "container", s.name, "error", err)
		}
		return
	}
	s.id = id
	r.a.own(id, r.arn)
	if st, err := r.a.driver.Inspect(ctx, id); err == nil {
		s.state = st
	}
}

// startContainer starts a created container within the start timeout; a
// failure other than the task being stopped meanwhile marks it failed.
func (r *runner) startContainer(ctx context.Context, s *slot) {
	sctx, cancel := context.WithTimeout(ctx, r.a.cfg.StartTimeout)
	defer cancel()
	if err := r.a.driver.Start(sctx, s.id); err != nil && ctx.Err() == nil {
		s.failed = err.Error()
		r.log.Warn("container could not start", "container", s.name, "error", err)
	}
}

// stopContainer stops a container with its grace period (SIGTERM, then
// SIGKILL).
func (r *runner) stopContainer(ctx context.Context, s *slot) bool {
	timeout := r.a.cfg.StopTimeout
	if s.def != nil {
		timeout = StopTimeoutOf(*s.def, timeout)
	}
	if err := r.a.driver.Stop(ctx, s.id, timeout); err != nil && !errors.Is(err, ErrNotFound) {
		if ctx.Err() == nil {
			r.log.Warn("container could not be stopped", "container", s.name, "error", err)
		}
		return false
	}
	return true
}

func (r *runner) remove(ctx context.Context, s *slot) bool {
	if err := r.a.driver.Remove(ctx, s.id); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("container could not be removed", "container", s.name, "error", err)
		}
		return false
	}
	r.a.disown(s.id)
	s.id = ""
	return true
}

// retire handles a task that is not desired (stopped by the control plane,
// or unknown to it): stop what runs, then remove the containers, at once
// unless this agent reported the task STOPPED (then after the cleanup wait).
func (r *runner) retire(ctx context.Context) (again bool, wakeAt time.Time, done bool) {
	var running []*slot
	for _, s := range r.all() {
		if s.id != "" && s.lost == "" && s.state.Status == StatusRunning {
			running = append(running, s)
		}
	}
	if len(running) > 0 {
		var wg sync.WaitGroup
		var failed atomic.Bool
		for _, s := range running {
			wg.Go(func() {
				if !r.stopContainer(ctx, s) {
					failed.Store(true)
				}
			})
		}
		wg.Wait()
		if failed.Load() {
			return false, r.a.now().Add(actionRetry), false
		}
		return true, time.Time{}, false
	}
	if !r.hasContainers() {
		return false, time.Time{}, true
	}
	now := r.a.now()
	if r.sentStopped {
		if due := r.cleanupDue(); now.Before(due) {
			return false, due, false
		}
	}
	if !r.removeAll(ctx) {
		return false, now.Add(actionRetry), false
	}
	return false, time.Time{}, true
}

// cleanupDue is when a stopped task's containers may go: the cleanup wait
// after the task stopped (after its last container finished, or when the
// control plane took the STOPPED report).
func (r *runner) cleanupDue() time.Time {
	last := r.stoppedAt
	for _, s := range r.all() {
		if s.state.FinishedAt.After(last) {
			last = s.state.FinishedAt
		}
	}
	return last.Add(r.a.cfg.CleanupWait)
}

// hasContainers tells whether any container of the task is still on the host.
func (r *runner) hasContainers() bool {
	return slices.ContainsFunc(r.all(), func(s *slot) bool { return s.id != "" })
}

// removeAll removes every container of the task; it reports whether all went.
func (r *runner) removeAll(ctx context.Context) bool {
	ok := true
	for _, s := range r.all() {
		if s.id != "" && !r.remove(ctx, s) {
			ok = false
		}
	}
	return ok
}

func earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}
