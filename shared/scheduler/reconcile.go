package scheduler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
)

// Input is everything one reconcile pass of one service reads.
type Input struct {
	Now  time.Time
	Seed int64 // fresh randomness per pass: placement's random strategy and new IDs
	// Service is the service as stored, State its scheduler state
	// (store.ServiceState.Scheduler).
	Service ecs.Service
	State   json.RawMessage
	// Tasks are all tasks of the group service:<name>, recently stopped
	// ones included, each with its version.
	Tasks []ecs.Task
	// Instances are the cluster's container instances, with Groups counting
	// their unstopped tasks per task group.
	Instances []placement.Instance
	// TaskDefinitions holds, by ARN, the task definitions of the service's
	// deployments and of its rollback target (see TaskDefinitionsNeeded).
	// The PRIMARY deployment's is required while the service is ACTIVE.
	TaskDefinitions map[string]*ecs.TaskDefinition
	// AlarmStates holds the state (OK, ALARM, INSUFFICIENT_DATA) of each
	// alarm AlarmsToRead names; a missing alarm counts as not in ALARM.
	AlarmStates map[string]string
	// DaemonGroups are the task groups of the cluster's DAEMON services: a
	// daemon task on a DRAINING instance waits only for the other tasks.
	DaemonGroups map[string]bool
	Options      Options
}

// Options tune a pass; the zero value is ECS's behaviour within one
// DynamoDB transaction.
type Options struct {
	// CircuitBreakerMinimum is the smallest circuit-breaker threshold
	// (default 3, as the current API reference; older guides said 10).
	CircuitBreakerMinimum int
	// MaxLaunches caps the tasks one pass starts (default 30).
	MaxLaunches int
	// MaxStops caps the tasks one pass stops (default 25).
	MaxStops int
	// MaxItems is the size of the transaction a plan must fit (default
	// 100): 1 for the service, 1 per stopped task, 3 per started task (the
	// task, its pointer and, at worst, its instance).
	MaxItems int
}

func (o Options) withDefaults() Options {
	if o.MaxLaunches <= 0 {
		o.MaxLaunches = 30
	}
	if o.MaxStops <= 0 {
		o.MaxStops = 25
	}
	if o.MaxItems <= 0 {
		o.MaxItems = 100
	}
	return o
}

// Plan is what one pass decided. The control layer commits it in one
// conditional transaction: the service (ECS shape, State, Events appended to
// the outbox) under the version it was read at, each Stop under the task's
// version, each Launch as a new task reserving Needs on its instance under
// the instance's version. On a conflict it re-reads and reconciles again.
type Plan struct {
	// Changed is false when committing would write nothing new: there is
	// nothing to do until something changes or NextCheck comes.
	Changed bool
	Service ecs.Service
	State   json.RawMessage
	Events  []Event
	Launch  []Launch
	Stop    []Stop
	// More is set when a pass left work it could do at once (a cap on
	// launches or stops, or a rollback needing its task definition):
	// commit, then reconcile again without waiting.
	More bool
	// NextCheck is when a pass should run even if nothing changes (a task
	// becoming healthy by age, a grace period or throttle ending, a bake
	// time, the periodic steady-state event); zero when there is none.
	NextCheck time.Time
	// Priority orders services within a cluster: DAEMON services (0) are
	// reconciled before REPLICA services (1), so daemon tasks are placed
	// first on new instances.
	Priority int
}

// Launch is a task to start.
type Launch struct {
	// TaskID is a fresh ID for the task (32 hex digits).
	TaskID string
	// Deployment is the deployment starting it: the task's startedBy and
	// store.TaskState.Deployment.
	Deployment     string
	TaskDefinition string
	Group          string // service:<name>
	// Instance is the index in Input.Instances of the instance chosen.
	Instance    int
	InstanceARN string
	// Needs is what the task reserves on the instance.
	Needs ecs.Requirements
}

// Stop is a task to stop: desiredStatus STOPPED with this reason and code.
type Stop struct {
	TaskArn       string
	Version       int64 // the task's version as read
	StoppedReason string
	StopCode      string
}

// Priority is the reconcile order of a service in its cluster: DAEMON
// services (0) before REPLICA ones (1).
func Priority(svc *ecs.Service) int {
	if isDaemon(svc) {
		return 0
	}
	return 1
}

// TaskDefinitionsNeeded lists the task definitions a pass over svc needs in
// Input.TaskDefinitions: its deployments' and its rollback target's.
func TaskDefinitionsNeeded(svc *ecs.Service, state json.RawMessage) ([]string, error) {
	st, err := DecodeState(state)
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(arn string) {
		if arn != "" && !slices.Contains(out, arn) {
			out = append(out, arn)
		}
	}
	add(svc.TaskDefinition)
	for _, d := range svc.Deployments {
		add(d.TaskDefinition)
	}
	if st.LastCompleted != nil {
		add(st.LastCompleted.TaskDefinition)
	}
	return out, nil
}

// AlarmsToRead lists the deployment alarms whose states a pass over svc
// needs in Input.AlarmStates: none unless alarms are enabled and a
// deployment is in progress.
func AlarmsToRead(svc *ecs.Service) []string {
	a := alarmsWatched(svc)
	p := primaryOf(svc.Deployments)
	if a == nil || p == nil || p.RolloutState != ecs.RolloutInProgress || svc.Status != ecs.ServiceActive {
		return nil
	}
	return slices.Clone(a.AlarmNames)
}

// Reconcile runs one scheduler pass over a service. It never mutates its
// input. An error means the input breaks the contract (undecodable state,
// the PRIMARY deployment's task definition missing); the service is left
// as it is.
func Reconcile(in Input) (Plan, error) {
	p, err := newPass(&in)
	if err != nil {
		return Plan{}, fmt.Errorf("reconcile service %s: %w", in.Service.ServiceName, err)
	}
	p.observe()
	switch p.svc.Status {
	case ecs.ServiceActive:
		p.watchPrimary()
		if p.daemon {
			p.runDaemon()
		} else {
			p.runReplica()
		}
	case ecs.ServiceDraining:
		p.runDelete()
	}
	p.settle()
	return p.finish()
}

// pass is one Reconcile call's working state.
type pass struct {
	in     *Input
	opt    Options
	now    time.Time
	ids    *ids
	svc    ecs.Service // the service being rewritten
	st     State
	name   string
	group  string
	daemon bool

	tasks    []*taskView
	byInst   map[string]int // instance ARN → index into in.Instances
	tdNeeds  map[string]ecs.Requirements
	primary  *ecs.Deployment // points into svc.Deployments
	holding  []string        // condition messages that hold in this pass
	events   []Event
	launches []Launch
	stops    []Stop
	stopped  map[*taskView]bool
	more     bool
	noLaunch bool               // the PRIMARY's task definition is not at hand yet
	lastKind map[string]failure // per deployment: the kind of its latest counted failure
	next     time.Time
	steady   bool // set by the rollout: the service is at its target
	newEvts  []ecs.ServiceEvent
	srcState []byte // the input state, re-encoded, for Changed
}

func newPass(in *Input) (*pass, error) {
	st, err := DecodeState(in.State)
	if err != nil {
		return nil, err
	}
	src, err := st.Encode()
	if err != nil {
		return nil, err
	}
	// A second decode gives the pass its own copy to change.
	st, _ = DecodeState(src)
	p := &pass{
		in: in, opt: in.Options.withDefaults(), now: in.Now, ids: newIDs(in.Seed, in.Now),
		svc: in.Service, st: st, name: in.Service.ServiceName, group: "service:" + in.Service.ServiceName,
		daemon: isDaemon(&in.Service), tdNeeds: map[string]ecs.Requirements{}, stopped: map[*taskView]bool{},
		srcState: src,
	}
	p.svc.Deployments = cloneDeployments(in.Service.Deployments)
	p.primary = primaryOf(p.svc.Deployments)
	if p.svc.Status == ecs.ServiceActive {
		if p.primary == nil {
			return nil, fmt.Errorf("service is ACTIVE without a PRIMARY deployment")
		}
		if in.TaskDefinitions[p.primary.TaskDefinition] == nil {
			return nil, fmt.Errorf("task definition %s of the PRIMARY deployment was not provided", p.primary.TaskDefinition)
		}
	}
	p.byInst = make(map[string]int, len(in.Instances))
	for i := range in.Instances {
		p.byInst[in.Instances[i].ARN] = i
	}
	p.indexTasks()
	return p, nil
}

// finish assembles the plan and decides whether it changes anything.
func (p *pass) finish() (Plan, error) {
	p.recordStops()
	p.st.Holding = p.holding
	if len(p.newEvts) > 0 {
		evs := make([]ecs.ServiceEvent, 0, min(len(p.newEvts)+len(p.svc.Events), MaxServiceEvents))
		for i := len(p.newEvts) - 1; i >= 0 && len(evs) < MaxServiceEvents; i-- {
			evs = append(evs, p.newEvts[i])
		}
		for _, e := range p.svc.Events {
			if len(evs) == MaxServiceEvents {
				break
			}
			evs = append(evs, e)
		}
		p.svc.Events = evs
	}
	p.svc.Events = nonNil(p.svc.Events)
	raw, err := p.st.Encode()
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{
		Service: p.svc, State: raw, Events: p.events, Launch: p.launches, Stop: p.stops,
		More: p.more, NextCheck: p.next, Priority: Priority(&p.svc),
	}
	plan.Changed = len(p.events) > 0 || len(p.launches) > 0 || len(p.stops) > 0 || !bytes.Equal(raw, p.srcState)
	if !plan.Changed {
		before, err1 := json.Marshal(&p.in.Service)
		after, err2 := json.Marshal(&plan.Service)
		if err1 != nil || err2 != nil {
			return Plan{}, fmt.Errorf("compare service: %w", errors.Join(err1, err2))
		}
		plan.Changed = !bytes.Equal(before, after)
	}
	return plan, nil
}

// maxTasksPerMessage bounds the task IDs one service event lists, so the
// 100 events a service keeps stay small.
const maxTasksPerMessage = 10

// recordTasks records msg for ids, maxTasksPerMessage at a time.
func (p *pass) recordTasks(msg func(service string, ids []string) string, ids []string) {
	for len(ids) > 0 {
		n := min(len(ids), maxTasksPerMessage)
		p.record(msg(p.name, ids[:n]))
		ids = ids[n:]
	}
}

// recordStops reports the RUNNING tasks this pass stopped.
func (p *pass) recordStops() {
	var ids []string
	for _, v := range p.tasks {
		if p.stopped[v] && v.t.LastStatus == ecs.TaskRunning {
			ids = append(ids, v.id)
		}
	}
	p.recordTasks(StoppedTasksMessage, ids)
}

// wakeAt asks for a pass at t at the latest.
func (p *pass) wakeAt(t time.Time) {
	if !t.After(p.now) {
		return
	}
	if p.next.IsZero() || t.Before(p.next) {
		p.next = t
	}
}

// record adds a one-off service event.
func (p *pass) record(msg string) {
	p.newEvts = append(p.newEvts, ecs.ServiceEvent{ID: p.ids.eventID(), CreatedAt: ecs.At(p.now), Message: msg})
}

// holds notes that the condition behind msg holds; the message is recorded
// unless it was already holding and recorded less than EventRepeat ago.
// It reports whether the message was recorded now.
func (p *pass) holds(msg string) bool {
	if slices.Contains(p.holding, msg) {
		return false
	}
	p.holding = append(p.holding, msg)
	last := lastRecorded(p.in.Service.Events, msg)
	if slices.Contains(p.st.Holding, msg) && !last.IsZero() && p.now.Sub(last) < EventRepeat {
		p.wakeAt(last.Add(EventRepeat))
		return false
	}
	p.record(msg)
	p.wakeAt(p.now.Add(EventRepeat))
	return true
}

func lastRecorded(events []ecs.ServiceEvent, msg string) time.Time {
	var last time.Time
	for _, e := range events {
		if e.Message == msg && e.CreatedAt.After(last) {
			last = e.CreatedAt.Time
		}
	}
	return last
}

func (p *pass) emit(e Event) {
	e.At = ecs.At(p.now)
	p.events = append(p.events, e)
}

func (p *pass) serviceAction(eventType, name, reason string, instances ...string) {
	p.emit(Event{DetailType: DetailServiceAction, EventType: eventType, EventName: name, Reason: reason, Instances: instances})
}
