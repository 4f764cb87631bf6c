package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// failStarts makes every task still coming up stop without reaching
// RUNNING, as a task whose image cannot start does.
func (f *fixture) failStarts(tdArn string) {
	for i := range f.tasks {
		t := &f.tasks[i]
		if t.TaskDefinitionArn == tdArn && t.LastStatus != ecs.TaskStopped && t.LastStatus != ecs.TaskRunning {
			t.LastStatus, t.DesiredStatus, t.StopCode, t.StoppedReason = ecs.TaskStopped, ecs.TaskStopped, ecs.StopTaskFailedToStart, "CannotPullContainerError"
			t.StoppedAt = ecs.At(f.now)
			t.Version++
			f.insts[f.instIndex(t.ContainerInstanceArn)].Groups[t.Group]--
		}
	}
}

func TestSteadyStateEvents(t *testing.T) {
	f := newReplica(t, "web", 3, taskDef(1, 256, 256, false), nil)
	var events []Event
	for range 10 {
		p := f.reconcile(t)
		if !p.Changed {
			break
		}
		events = append(events, p.Events...)
		f.commit(p)
		f.runAll()
		f.now = f.now.Add(time.Minute)
	}
	d := f.svc.Deployments[0]
	if d.RolloutState != ecs.RolloutCompleted || d.RolloutStateReason != CompletedReason(d.ID) || f.svc.RunningCount != 3 {
		t.Fatalf("deployment %+v, running %d", d, f.svc.RunningCount)
	}
	if e := hasEvent(events, DeploymentCompleted); e == nil || e.Reason != CompletedReason(d.ID) || e.DetailType != DetailDeploymentStateChange {
		t.Fatalf("no SERVICE_DEPLOYMENT_COMPLETED in %+v", events)
	}
	if hasEvent(events, ServiceSteadyState) == nil || f.svc.Events[0].Message != SteadyStateMessage("web") {
		t.Fatalf("steady state not reported: %+v", f.svc.Events)
	}
	started := 0
	for _, e := range f.svc.Events {
		if strings.HasPrefix(e.Message, "service web has started 3 tasks: task ") {
			started++
		}
	}
	if started != 1 {
		t.Fatalf("events %+v", f.svc.Events)
	}
	// Quiet while steady; the message repeats after six hours.
	f.now = f.now.Add(5 * time.Hour)
	if p := f.reconcile(t); p.Changed {
		t.Fatalf("a steady service changed after 5 h: %+v", p.Service.Events[0])
	}
	f.now = f.now.Add(2 * time.Hour)
	p := f.reconcile(t)
	if !p.Changed || p.Service.Events[0].Message != SteadyStateMessage("web") || hasEvent(p.Events, ServiceSteadyState) == nil {
		t.Fatalf("steady state not repeated after 7 h: %+v", p.Events)
	}
	// Scaling leaves the steady state; reaching it again reports it again.
	f.commit(p)
	f.update(t, UpdateRequest{DesiredCount: intp(4)})
	f.now = f.now.Add(time.Minute)
	f.settle(t, 10)
	n := 0
	for _, e := range f.svc.Events {
		if e.Message == SteadyStateMessage("web") {
			n++
		}
	}
	if n != 3 || f.svc.Deployments[0].ID != d.ID {
		t.Fatalf("%d steady-state messages, deployments %+v", n, f.svc.Deployments)
	}
}

func TestServiceEventsKeepLatest100(t *testing.T) {
	f := newReplica(t, "web", 1, taskDef(1, 256, 256, false), nil)
	for i := range 150 {
		f.svc.Events = append([]ecs.ServiceEvent{{ID: "old", Message: "old message", CreatedAt: ecs.At(t0.Add(-time.Duration(i) * time.Hour))}}, f.svc.Events...)
	}
	p := f.reconcile(t)
	if len(p.Service.Events) != MaxServiceEvents || !strings.HasPrefix(p.Service.Events[0].Message, "service web has started 1 tasks") {
		t.Fatalf("%d events, first %q", len(p.Service.Events), p.Service.Events[0].Message)
	}
}

func TestCircuitBreakerRollsBack(t *testing.T) {
	td1, td2 := taskDef(1, 256, 256, false), taskDef(2, 256, 256, false)
	f := newReplica(t, "web", 2, td1, &ecs.DeploymentConfiguration{DeploymentCircuitBreaker: &ecs.DeploymentCircuitBreaker{Enable: true, Rollback: true}})
	f.settle(t, 10)
	good := f.svc.Deployments[0].ID
	f.tds[td2.TaskDefinitionArn] = td2
	f.update(t, UpdateRequest{TaskDefinition: td2})
	bad := f.svc.Deployments[0].ID
	var failedEvent, rollbackEvent *Event
	for pass := 0; pass < 40 && failedEvent == nil; pass++ {
		p := f.reconcile(t)
		f.commit(p)
		failedEvent, rollbackEvent = hasEvent(p.Events, DeploymentFailed), hasEvent(p.Events, DeploymentInProgress)
		f.failStarts(td2.TaskDefinitionArn)
		f.now = f.now.Add(5 * time.Minute) // past any throttle delay
	}
	if failedEvent == nil || failedEvent.Reason != CircuitBreakerStartFailure || failedEvent.DeploymentID != bad || failedEvent.EventType != EventError {
		t.Fatalf("no failure: %+v", failedEvent)
	}
	if rollbackEvent == nil || rollbackEvent.Reason != RollbackReason(false, good) {
		t.Fatalf("no rollback: %+v", rollbackEvent)
	}
	// The failed deployment has no task left, so it is no longer listed;
	// the last completed one keeps its tasks until the rollback replaces them.
	if d := f.svc.Deployments; len(d) != 2 || d[0].TaskDefinition != td1.TaskDefinitionArn || d[0].RolloutStateReason != RollbackReason(false, good) ||
		d[0].Status != ecs.DeploymentPrimary || d[1].ID != good || d[1].Status != ecs.DeploymentActive {
		t.Fatalf("deployments after rollback: %+v", d)
	}
	// The old tasks never stopped (min 100 %) and the rollback completes.
	f.settle(t, 20)
	if d := f.svc.Deployments; len(d) != 1 || d[0].RolloutState != ecs.RolloutCompleted || f.svc.TaskDefinition != td1.TaskDefinitionArn || countActive(f.tasks, "") != 2 {
		t.Fatalf("after the rollback: %+v", d)
	}
}

func TestCircuitBreakerWithoutRollbackFreezes(t *testing.T) {
	td1, td2 := taskDef(1, 256, 256, false), taskDef(2, 256, 256, false)
	f := newReplica(t, "web", 2, td1, &ecs.DeploymentConfiguration{DeploymentCircuitBreaker: &ecs.DeploymentCircuitBreaker{Enable: true}})
	f.settle(t, 10)
	f.tds[td2.TaskDefinitionArn] = td2
	f.update(t, UpdateRequest{TaskDefinition: td2})
	for range 30 {
		p := f.reconcile(t)
		f.commit(p)
		f.failStarts(td2.TaskDefinitionArn)
		f.now = f.now.Add(5 * time.Minute)
	}
	d := f.svc.Deployments
	if len(d) != 2 || d[0].RolloutState != ecs.RolloutFailed || d[0].Status != ecs.DeploymentPrimary || countActive(f.tasks, d[1].ID) != 2 {
		t.Fatalf("deployments %+v", d)
	}
	if p := f.reconcile(t); len(p.Launch) != 0 || len(p.Stop) != 0 {
		t.Fatalf("a FAILED deployment launched %d and stopped %d", len(p.Launch), len(p.Stop))
	}
}

func TestCircuitBreakerHealthChecks(t *testing.T) {
	td1, td2 := taskDef(1, 256, 256, true), taskDef(2, 256, 256, true)
	f := newReplica(t, "web", 1, td1, &ecs.DeploymentConfiguration{DeploymentCircuitBreaker: &ecs.DeploymentCircuitBreaker{Enable: true, Rollback: true}})
	f.settle(t, 10)
	f.tds[td2.TaskDefinitionArn] = td2
	f.update(t, UpdateRequest{TaskDefinition: td2})
	var failed *Event
	for pass := 0; pass < 40 && failed == nil; pass++ {
		p := f.reconcile(t)
		f.commit(p)
		failed = hasEvent(p.Events, DeploymentFailed)
		// New tasks start, then fail their health checks; stopped ones stop.
		for i := range f.tasks {
			x := &f.tasks[i]
			switch {
			case x.LastStatus == ecs.TaskStopped:
			case x.DesiredStatus == ecs.TaskStopped:
				x.LastStatus, x.StoppedAt = ecs.TaskStopped, ecs.At(f.now)
			case x.TaskDefinitionArn == td2.TaskDefinitionArn && x.LastStatus == ecs.TaskRunning:
				x.HealthStatus = ecs.HealthUnhealthy
			case x.TaskDefinitionArn == td2.TaskDefinitionArn:
				x.LastStatus, x.StartedAt, x.HealthStatus = ecs.TaskRunning, ecs.At(f.now), ecs.HealthUnknown
			}
			x.Version++
		}
		f.now = f.now.Add(time.Minute)
	}
	if failed == nil || failed.Reason != CircuitBreakerHealthFailure {
		t.Fatalf("no health-check failure: %+v", failed)
	}
	unhealthyStops := 0
	for _, x := range f.tasks {
		if x.TaskDefinitionArn == td2.TaskDefinitionArn && x.StoppedReason == StoppedUnhealthy {
			unhealthyStops++
		}
	}
	if unhealthyStops < CircuitBreakerThreshold(1, nil, 0) {
		t.Fatalf("%d tasks stopped for failing health checks", unhealthyStops)
	}
}

func TestThrottle(t *testing.T) {
	td1 := taskDef(1, 256, 256, false)
	f := newReplica(t, "web", 1, td1, nil)
	var launchTimes []time.Time
	var impaired bool
	for range 200 {
		p := f.reconcile(t)
		if len(p.Launch) > 0 {
			launchTimes = append(launchTimes, f.now)
		}
		if hasEvent(p.Events, ServiceTaskStartImpaired) != nil {
			impaired = true
		}
		f.commit(p)
		f.failStarts(td1.TaskDefinitionArn)
		f.now = f.now.Add(5 * time.Second)
	}
	if len(launchTimes) < 6 {
		t.Fatalf("launches at %v", launchTimes)
	}
	for i := 2; i < len(launchTimes); i++ {
		gap, prev := launchTimes[i].Sub(launchTimes[i-1]), launchTimes[i-1].Sub(launchTimes[i-2])
		if gap < prev && gap < ThrottleMax {
			t.Fatalf("back-off shrank: gaps %v then %v", prev, gap)
		}
	}
	if !impaired || !hasMessage(f.svc, StartImpairedMessage("web")) {
		t.Fatal("start impaired not reported")
	}
	// A new deployment resets the throttle: it launches at once.
	f.update(t, UpdateRequest{ForceNewDeployment: true})
	if p := f.reconcile(t); len(p.Launch) != 1 {
		t.Fatalf("after a new deployment: %d launches", len(p.Launch))
	}
	if throttleDelay(1) != ThrottleBase || throttleDelay(2) != 2*ThrottleBase || throttleDelay(30) != ThrottleMax {
		t.Fatal("throttle delays")
	}
}

func TestDeploymentAlarms(t *testing.T) {
	td1, td2 := taskDef(1, 256, 256, false), taskDef(2, 256, 256, false)
	f := newReplica(t, "web", 2, td1, &ecs.DeploymentConfiguration{Alarms: &ecs.DeploymentAlarms{Enable: true, Rollback: true, AlarmNames: []string{"already", "p99"}}})
	alarms := map[string]string{"already": "ALARM", "p99": "OK"}
	run := func() Plan {
		in := f.input()
		in.AlarmStates = alarms
		p, err := Reconcile(in)
		if err != nil {
			t.Fatal(err)
		}
		f.commit(p)
		f.runAll()
		f.now = f.now.Add(time.Minute)
		return p
	}
	for range 6 {
		run()
	}
	if f.svc.Deployments[0].RolloutState != ecs.RolloutCompleted {
		t.Fatalf("an alarm in ALARM before the deployment failed it: %+v", f.svc.Deployments[0])
	}
	if AlarmsToRead(&f.svc) != nil {
		t.Fatal("alarms read with no deployment in progress")
	}
	good := f.svc.Deployments[0].ID
	f.tds[td2.TaskDefinitionArn] = td2
	f.update(t, UpdateRequest{TaskDefinition: td2})
	if got := AlarmsToRead(&f.svc); len(got) != 2 {
		t.Fatalf("AlarmsToRead = %v", got)
	}
	run()
	alarms["p99"] = "ALARM"
	p := run()
	e := hasEvent(p.Events, DeploymentFailed)
	if e == nil || e.Reason != AlarmFailureReason([]string{"p99"}) {
		t.Fatalf("events %+v", p.Events)
	}
	if r := hasEvent(p.Events, DeploymentInProgress); r == nil || r.Reason != RollbackReason(true, good) {
		t.Fatalf("no alarm rollback: %+v", p.Events)
	}
}

func TestBakeTime(t *testing.T) {
	f := newReplica(t, "web", 1, taskDef(1, 256, 256, false), &ecs.DeploymentConfiguration{
		Alarms: &ecs.DeploymentAlarms{Enable: true, AlarmNames: []string{"a"}}, BakeTimeInMinutes: intp(10),
	})
	var completedAt time.Time
	var steadyAt time.Time
	for range 30 {
		p := f.reconcile(t)
		f.commit(p)
		if steadyAt.IsZero() && f.svc.RunningCount == 1 && len(p.Launch) == 0 && f.now.Sub(f.tasks[0].StartedAt.Time) >= NoHealthCheckWarmup {
			steadyAt = f.now
		}
		if hasEvent(p.Events, DeploymentCompleted) != nil {
			completedAt = f.now
		}
		f.runAll()
		f.now = f.now.Add(time.Minute)
	}
	if completedAt.IsZero() || completedAt.Sub(steadyAt) < 10*time.Minute {
		t.Fatalf("steady at %v, completed at %v", steadyAt, completedAt)
	}
}

func TestUnhealthyReplacedStartFirst(t *testing.T) {
	td := taskDef(1, 256, 256, true)
	f := newReplica(t, "web", 2, td, nil)
	f.svc.HealthCheckGracePeriodSeconds = intp(120)
	f.settle(t, 10)
	f.tasks[0].HealthStatus = ecs.HealthUnhealthy
	f.tasks[0].StartedAt = ecs.At(f.now.Add(-time.Minute)) // still in its grace period
	if p := f.reconcile(t); len(p.Launch) != 0 || len(p.Stop) != 0 {
		t.Fatalf("grace period ignored: %d launches %d stops", len(p.Launch), len(p.Stop))
	} else if p.NextCheck.IsZero() || p.NextCheck.After(f.now.Add(time.Minute)) {
		t.Fatalf("no wake-up at the end of the grace period: %v", p.NextCheck)
	}
	f.now = f.now.Add(2 * time.Minute)
	p := f.reconcile(t)
	if len(p.Launch) != 1 || len(p.Stop) != 0 {
		t.Fatalf("start first: %d launches %d stops", len(p.Launch), len(p.Stop))
	}
	f.commit(p)
	f.runAll()
	f.now = f.now.Add(time.Minute)
	p = f.reconcile(t)
	if len(p.Stop) != 1 || p.Stop[0].TaskArn != f.tasks[0].TaskArn || p.Stop[0].StoppedReason != StoppedUnhealthy {
		t.Fatalf("unhealthy task not stopped once its replacement is healthy: %+v", p.Stop)
	}
}

func TestUnhealthyOneByOneAt100(t *testing.T) {
	td := taskDef(1, 256, 256, true)
	f := newReplica(t, "web", 2, td, &ecs.DeploymentConfiguration{MaximumPercent: intp(100), MinimumHealthyPercent: intp(100)})
	f.settle(t, 10)
	for i := range f.tasks {
		f.tasks[i].HealthStatus = ecs.HealthUnhealthy
	}
	p := f.reconcile(t)
	if len(p.Stop) != 1 || len(p.Launch) != 1 {
		t.Fatalf("one by one: %d stops %d launches", len(p.Stop), len(p.Launch))
	}
	f.commit(p)
	if p := f.reconcile(t); len(p.Stop) != 0 {
		t.Fatalf("a second unhealthy task stopped before the replacement came up")
	}
}

func TestDrainingInstance(t *testing.T) {
	f := newReplica(t, "web", 4, taskDef(1, 256, 256, false), nil)
	f.settle(t, 10)
	f.now = f.now.Add(time.Minute)
	// One more task still PENDING on the instance about to drain.
	drained := f.instIndex(f.tasks[0].ContainerInstanceArn)
	pending := f.addTask(f.svc.Deployments[0].ID, f.svc.TaskDefinition, drained, ecs.TaskPending, "", 0)
	f.svc.DesiredCount = 5
	f.svc.Deployments[0].DesiredCount = 5
	f.insts[drained].Status = ecs.InstanceDraining
	onDrained := 0
	for _, x := range f.tasks {
		if x.ContainerInstanceArn == f.insts[drained].ARN && x.LastStatus == ecs.TaskRunning {
			onDrained++
		}
	}
	p := f.reconcile(t)
	stopped := map[string]bool{}
	for _, s := range p.Stop {
		stopped[s.TaskArn] = true
	}
	if !stopped[pending.TaskArn] || len(p.Stop) != 1 {
		t.Fatalf("PENDING task on the DRAINING instance not stopped at once (or running ones stopped first): %+v", p.Stop)
	}
	if len(p.Launch) != 1+onDrained {
		t.Fatalf("%d launches, want %d replacements", len(p.Launch), 1+onDrained)
	}
	for _, l := range p.Launch {
		if l.Instance == drained {
			t.Fatal("placed on a DRAINING instance")
		}
	}
	f.commit(p)
	f.runAll()
	f.now = f.now.Add(time.Minute)
	f.settle(t, 10)
	for _, x := range f.tasks {
		if x.ContainerInstanceArn == f.insts[drained].ARN && x.LastStatus != ecs.TaskStopped {
			t.Fatalf("task %s still on the drained instance", x.TaskArn)
		}
	}
	if countActive(f.tasks, "") != 5 {
		t.Fatalf("%d tasks after the drain", countActive(f.tasks, ""))
	}
}

func TestPlacementFailureEvents(t *testing.T) {
	f := newReplica(t, "web", 2, taskDef(1, 256, 6000, false), nil)
	f.insts = instances(2)
	f.insts[0].Remaining.Memory = 4000
	p := f.reconcile(t)
	if len(p.Launch) != 1 {
		t.Fatalf("%d launches", len(p.Launch))
	}
	e := hasEvent(p.Events, ServiceTaskPlacementFailure)
	if e == nil || e.Reason != "RESOURCE:MEMORY" || len(e.Instances) != 1 || e.EventType != EventError {
		t.Fatalf("placement failure event %+v", e)
	}
	if !strings.Contains(p.Service.Events[0].Message, "was unable to place a task because no container instance met all of its requirements. The closest matching container-instance") {
		t.Fatalf("service event %q", p.Service.Events[0].Message)
	}
	// The instance the task went to is now full too.
	f.commit(p)
	f.insts[1].Remaining.Memory = 2192
	f.now = f.now.Add(time.Minute)
	p = f.reconcile(t)
	if hasEvent(p.Events, ServiceTaskPlacementFailure) != nil || len(p.Launch) != 0 {
		t.Fatalf("repeated: %+v", p.Events)
	}
	f.commit(p)
	// Capacity arrives: the condition resolves.
	f.insts = append(f.insts, instance("big", "az-1", 4096, 16384))
	p = f.reconcile(t)
	if len(p.Launch) != 1 {
		t.Fatalf("%d launches once capacity came", len(p.Launch))
	}
	f.commit(p)
	if st, _ := DecodeState(f.state); len(st.Holding) != 0 {
		t.Fatalf("conditions still holding: %v", st.Holding)
	}
}

func TestNoInstancesPlacementFailure(t *testing.T) {
	f := newReplica(t, "web", 1, taskDef(1, 256, 256, false), nil)
	f.insts = nil
	p := f.reconcile(t)
	if e := hasEvent(p.Events, ServiceTaskPlacementFailure); e == nil || p.Service.Events[0].Message != "service web was unable to place a task because no container instance met all of its requirements." {
		t.Fatalf("events %+v / %+v", p.Events, p.Service.Events)
	}
}

func TestLaunchBatching(t *testing.T) {
	f := newReplica(t, "web", 100, taskDef(1, 16, 16, false), nil)
	p := f.reconcile(t)
	if len(p.Launch) != 30 || !p.More {
		t.Fatalf("%d launches, more %v", len(p.Launch), p.More)
	}
	if items := 1 + len(p.Stop) + 3*len(p.Launch); items > 100 {
		t.Fatalf("plan of %d items", items)
	}
	total := len(p.Launch)
	for range 10 {
		f.commit(p)
		p = f.reconcile(t)
		total += len(p.Launch)
		if !p.More {
			break
		}
	}
	if total != 100 || p.More {
		t.Fatalf("%d launched, more %v", total, p.More)
	}
}

func TestIdempotentPass(t *testing.T) {
	f := newReplica(t, "web", 3, taskDef(1, 256, 256, false), nil)
	f.settle(t, 10)
	in := f.input()
	a, err := Reconcile(in)
	if err != nil {
		t.Fatal(err)
	}
	if a.Changed {
		t.Fatal("settled service changed")
	}
	// Stale input: the same snapshot again gives the same decision.
	f.tasks[0].LastStatus, f.tasks[0].StopCode, f.tasks[0].StoppedAt = ecs.TaskStopped, ecs.StopEssentialContainerExited, ecs.At(f.now)
	in = f.input()
	b1, _ := Reconcile(in)
	b2, _ := Reconcile(in)
	if len(b1.Launch) != 1 || len(b2.Launch) != 1 || b1.Launch[0].TaskID != b2.Launch[0].TaskID || b1.Launch[0].Instance != b2.Launch[0].Instance {
		t.Fatalf("not deterministic: %+v vs %+v", b1.Launch, b2.Launch)
	}
}

func TestReconcileContractErrors(t *testing.T) {
	f := newReplica(t, "web", 1, taskDef(1, 256, 256, false), nil)
	in := f.input()
	in.TaskDefinitions = nil
	if _, err := Reconcile(in); err == nil || !strings.Contains(err.Error(), "task definition") {
		t.Fatalf("missing task definition: %v", err)
	}
	in = f.input()
	in.State = []byte("{")
	if _, err := Reconcile(in); err == nil {
		t.Fatal("undecodable state accepted")
	}
	need, err := TaskDefinitionsNeeded(&f.svc, f.state)
	if err != nil || len(need) != 1 || need[0] != f.svc.TaskDefinition {
		t.Fatalf("TaskDefinitionsNeeded = %v, %v", need, err)
	}
}

func TestForeignTasksInTheGroupAreLeftAlone(t *testing.T) {
	f := newReplica(t, "web", 1, taskDef(1, 256, 256, false), nil)
	f.settle(t, 10)
	foreign := f.addTask("", f.svc.TaskDefinition, 2, ecs.TaskRunning, "", time.Hour)
	foreign.StartedBy = "my-batch-job"
	p := f.reconcile(t)
	if p.Changed || len(p.Stop) != 0 || p.Service.RunningCount != 1 {
		t.Fatalf("a RunTask task in the service's group was touched: %+v, running %d", p.Stop, p.Service.RunningCount)
	}
}
