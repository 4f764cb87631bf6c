package scheduler

import (
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

func newDaemon(t *testing.T, td *ecs.TaskDefinition, constraints []ecs.PlacementConstraint) *fixture {
	t.Helper()
	res, err := Create(CreateRequest{
		Base:                 ecs.Service{ServiceName: "agent", ClusterArn: cluster, LaunchType: ecs.LaunchEC2},
		TaskDefinition:       td,
		SchedulingStrategy:   ecs.SchedulingDaemon,
		PlacementConstraints: constraints,
	}, Env{Now: t0, Seed: 1})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	f := &fixture{svc: res.Service, state: res.State, insts: instances(4), tds: map[string]*ecs.TaskDefinition{td.TaskDefinitionArn: td}, now: t0}
	f.insts[3].Attributes["role"] = "batch"
	return f
}

func perInstance(f *fixture) map[string]int {
	out := map[string]int{}
	for _, x := range f.tasks {
		if x.LastStatus != ecs.TaskStopped {
			out[x.ContainerInstanceArn]++
		}
	}
	return out
}

func TestDaemonOnePerEligibleInstance(t *testing.T) {
	f := newDaemon(t, taskDef(1, 128, 128, false), []ecs.PlacementConstraint{{Type: "memberOf", Expression: "not(attribute:role == batch)"}})
	p := f.reconcile(t)
	if len(p.Launch) != 3 || p.Service.DesiredCount != 3 || hasEvent(p.Events, ServiceDesiredCountUpdated) == nil || p.Priority != 0 {
		t.Fatalf("%d launches, desired %d, events %+v", len(p.Launch), p.Service.DesiredCount, p.Events)
	}
	seen := map[int]bool{}
	for _, l := range p.Launch {
		if seen[l.Instance] || l.Instance == 3 {
			t.Fatalf("launch on instance %d", l.Instance)
		}
		seen[l.Instance] = true
	}
	f.commit(p)
	f.settle(t, 10)
	if f.svc.Deployments[0].RolloutState != ecs.RolloutCompleted || !hasMessage(f.svc, SteadyStateMessage("agent")) {
		t.Fatalf("not steady: %+v", f.svc.Deployments[0])
	}

	// A new instance is covered.
	f.insts = append(f.insts, instance("new", "az-2", 4096, 8192))
	p = f.reconcile(t)
	if len(p.Launch) != 1 || p.Launch[0].Instance != 4 || p.Service.DesiredCount != 4 {
		t.Fatalf("new instance: %+v, desired %d", p.Launch, p.Service.DesiredCount)
	}
	f.commit(p)
	f.settle(t, 10)

	// An instance that stops meeting the constraints loses its task.
	f.insts[0].Attributes["role"] = "batch"
	p = f.reconcile(t)
	e := hasEvent(p.Events, ServiceDaemonPlacementConstraintViolated)
	if len(p.Stop) != 1 || e == nil || len(e.Instances) != 1 || e.Instances[0] != f.insts[0].ARN || p.Service.DesiredCount != 3 {
		t.Fatalf("constraint violated: stops %+v events %+v", p.Stop, p.Events)
	}
	f.commit(p)
	f.settle(t, 10)
	for arn, n := range perInstance(f) {
		if n > 1 || arn == f.insts[0].ARN || arn == f.insts[3].ARN {
			t.Fatalf("instance %s runs %d daemon tasks", arn, n)
		}
	}
}

func TestDaemonStopsLastOnDraining(t *testing.T) {
	f := newDaemon(t, taskDef(1, 128, 128, false), nil)
	f.settle(t, 10)
	f.insts[1].Status = ecs.InstanceDraining
	f.insts[1].Groups["service:web"] = 2
	f.insts[1].Groups["service:other-daemon"] = 1
	in := f.input()
	in.DaemonGroups = map[string]bool{"service:other-daemon": true, "service:agent": true}
	p, err := Reconcile(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stop) != 0 || p.Service.DesiredCount != 3 {
		t.Fatalf("daemon task stopped before the replica tasks left: %+v", p.Stop)
	}
	f.commit(p)
	delete(f.insts[1].Groups, "service:web")
	in = f.input()
	in.DaemonGroups = map[string]bool{"service:other-daemon": true}
	p, _ = Reconcile(in)
	if len(p.Stop) != 1 || p.Stop[0].StoppedReason != stoppedDraining(f.insts[1].ID) {
		t.Fatalf("daemon task on a drained instance: %+v", p.Stop)
	}
}

func TestDaemonRollingUpdate(t *testing.T) {
	td1, td2 := taskDef(1, 128, 128, false), taskDef(2, 128, 128, false)
	f := newDaemon(t, td1, nil)
	f.settle(t, 10)
	f.now = f.now.Add(time.Minute)
	f.tds[td2.TaskDefinitionArn] = td2
	f.update(t, UpdateRequest{TaskDefinition: td2})
	// Default 0/100: stop every old task first; an instance gets its new
	// task only once the old one is STOPPED.
	p := f.reconcile(t)
	if len(p.Stop) != 4 || len(p.Launch) != 0 {
		t.Fatalf("first step: %d stops %d launches", len(p.Stop), len(p.Launch))
	}
	f.commit(p)
	if p := f.reconcile(t); len(p.Launch) != 0 {
		t.Fatalf("launched beside a stopping task: %+v", p.Launch)
	}
	f.settle(t, 10)
	for arn, n := range perInstance(f) {
		if n != 1 {
			t.Fatalf("instance %s runs %d tasks", arn, n)
		}
	}
	if d := f.svc.Deployments; len(d) != 1 || d[0].TaskDefinition != td2.TaskDefinitionArn || d[0].RolloutState != ecs.RolloutCompleted {
		t.Fatalf("deployments %+v", d)
	}
}

func TestDaemonMinimum100IsBlocked(t *testing.T) {
	td1, td2 := taskDef(1, 128, 128, false), taskDef(2, 128, 128, false)
	f := newDaemon(t, td1, nil)
	f.settle(t, 10)
	f.now = f.now.Add(time.Minute)
	f.tds[td2.TaskDefinitionArn] = td2
	f.update(t, UpdateRequest{TaskDefinition: td2, DeploymentConfiguration: &ecs.DeploymentConfiguration{MinimumHealthyPercent: intp(100)}})
	p := f.reconcile(t)
	if len(p.Stop) != 0 || len(p.Launch) != 0 || !hasMessage(p.Service, DeploymentConfigurationMessage("agent")) {
		t.Fatalf("%d stops %d launches, events %+v", len(p.Stop), len(p.Launch), p.Service.Events)
	}
}

func TestDaemonPlacementFailure(t *testing.T) {
	f := newDaemon(t, taskDef(1, 128, 6000, false), nil)
	f.insts[2].Remaining.Memory = 1000
	p := f.reconcile(t)
	e := hasEvent(p.Events, ServiceTaskPlacementFailure)
	if len(p.Launch) != 3 || e == nil || e.Reason != "RESOURCE:MEMORY" || e.Instances[0] != f.insts[2].ARN {
		t.Fatalf("%d launches, event %+v", len(p.Launch), e)
	}
}
