package control_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

// clock is a test clock the control plane reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var timings = control.AgentTimings{PollInterval: time.Second, HeartbeatWrite: time.Second, DisconnectAfter: 10 * time.Second, LostAfter: 30 * time.Second}

type env struct {
	c     *control.Control
	clock *clock
	ctx   context.Context
}

func newEnv(t *testing.T) env {
	t.Helper()
	b, err := bolt.Open(t.TempDir() + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	clk := &clock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	n := 0
	db := store.NewDB(b, ecs.Account{Region: "us-east-1", ID: "000000000000"}, clk.Now, func() string { n++; return fmt.Sprintf("%032x", n) })
	return env{c: control.New(db, control.Options{Now: clk.Now, Seed: func() int64 { return 7 }, Timings: timings}), clock: clk, ctx: context.Background()}
}

func ok[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func intp(v int) *int { return &v }

// setup makes a cluster with one instance and one running-desired task on it.
func (e env) setup(t *testing.T) (instance, task string) {
	ok(e.c.CreateCluster(e.ctx, &control.CreateClusterInput{ClusterName: "web"}))(t)
	ok(e.c.RegisterTaskDefinition(e.ctx, &control.RegisterTaskDefinitionInput{Family: "web",
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "x", Memory: intp(256)}}}))(t)
	reg := ok(e.c.RegisterContainerInstance(e.ctx, &control.RegisterContainerInstanceInput{Cluster: "web",
		TotalResources: []ecs.Resource{{Name: "CPU", Type: "INTEGER", IntegerValue: 1024}, {Name: "MEMORY", Type: "INTEGER", IntegerValue: 1024}}}))(t)
	instance = reg.ContainerInstance.ContainerInstanceArn
	run := ok(e.c.RunTask(e.ctx, &control.RunTaskInput{Cluster: "web", TaskDefinition: "web"}))(t)
	return instance, run.Tasks[0].TaskArn
}

func (e env) tick(t *testing.T) {
	t.Helper()
	if err := e.c.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
}

func (e env) instance(t *testing.T, arn string) ecs.ContainerInstance {
	out := ok(e.c.DescribeContainerInstances(e.ctx, &control.DescribeContainerInstancesInput{Cluster: "web", ContainerInstances: []string{arn}}))(t)
	return out.ContainerInstances[0]
}

func (e env) task(t *testing.T, arn string) ecs.Task {
	out := ok(e.c.DescribeTasks(e.ctx, &control.DescribeTasksInput{Cluster: "web", Tasks: []string{arn}}))(t)
	return out.Tasks[0]
}

func remainingMemory(ci ecs.ContainerInstance) int {
	c, _ := ecs.CapacityOf("remainingResources", ci.RemainingResources)
	return c.Memory
}

func TestSilentAgentIsDisconnectedThenItsHostLost(t *testing.T) {
	e := newEnv(t)
	instance, task := e.setup(t)
	ok(e.c.Poll(e.ctx, &control.PollInput{ProtocolVersion: 1, Cluster: "web", ContainerInstanceArn: instance}))(t)

	e.clock.Advance(5 * time.Second)
	e.tick(t)
	if !e.instance(t, instance).AgentConnected {
		t.Fatal("an agent silent for less than DisconnectAfter was disconnected")
	}

	e.clock.Advance(10 * time.Second)
	e.tick(t)
	if e.instance(t, instance).AgentConnected {
		t.Fatal("an agent silent past DisconnectAfter is still connected")
	}
	if e.task(t, task).LastStatus == ecs.TaskStopped {
		t.Fatal("a disconnected (not yet lost) host's task was stopped")
	}
	run := ok(e.c.RunTask(e.ctx, &control.RunTaskInput{Cluster: "web", TaskDefinition: "web"}))(t)
	if len(run.Tasks) != 0 || len(run.Failures) != 1 || run.Failures[0].Reason != ecs.ReasonAgent {
		t.Errorf("placing on a disconnected instance: %+v", run)
	}

	e.clock.Advance(30 * time.Second)
	e.tick(t)
	stopped := e.task(t, task)
	if stopped.LastStatus != ecs.TaskStopped || stopped.DesiredStatus != ecs.TaskStopped || !strings.Contains(stopped.StoppedReason, "Host lost") || stopped.StoppedAt.IsZero() {
		t.Errorf("task on a lost host = %+v", stopped)
	}
	if got := remainingMemory(e.instance(t, instance)); got != 1024 {
		t.Errorf("resources of the lost host's task not released: remaining memory %d", got)
	}

	poll := ok(e.c.Poll(e.ctx, &control.PollInput{ProtocolVersion: 1, Cluster: "web", ContainerInstanceArn: instance}))(t)
	if !e.instance(t, instance).AgentConnected || len(poll.Tasks) != 0 {
		t.Errorf("a returning agent: connected=%v, told to run %d tasks", e.instance(t, instance).AgentConnected, len(poll.Tasks))
	}
}

func TestDrainingInstanceReceivesNoTasks(t *testing.T) {
	e := newEnv(t)
	instance, _ := e.setup(t)
	ok(e.c.UpdateContainerInstancesState(e.ctx, &control.UpdateContainerInstancesStateInput{Cluster: "web", ContainerInstances: []string{instance}, Status: ecs.InstanceDraining}))(t)
	run := ok(e.c.RunTask(e.ctx, &control.RunTaskInput{Cluster: "web", TaskDefinition: "web"}))(t)
	if len(run.Tasks) != 0 || len(run.Failures) != 1 || run.Failures[0].Reason != ecs.ReasonInactive {
		t.Errorf("placing on a DRAINING instance: %+v", run)
	}
}

func TestStopTaskOnDeregisteredInstanceStopsAtOnce(t *testing.T) {
	e := newEnv(t)
	instance, task := e.setup(t)
	ok(e.c.DeregisterContainerInstance(e.ctx, &control.DeregisterContainerInstanceInput{Cluster: "web", ContainerInstance: instance, Force: func() *bool { b := true; return &b }()}))(t)
	out := ok(e.c.StopTask(e.ctx, &control.StopTaskInput{Cluster: "web", Task: task}))(t)
	if out.Task.LastStatus != ecs.TaskStopped || out.Task.StopCode != ecs.StopUserInitiated || out.Task.StoppedReason != "Task stopped by user" {
		t.Errorf("stop on a deregistered instance = %+v", out.Task)
	}
}
