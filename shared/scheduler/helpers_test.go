package scheduler

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/default"

func intp(n int) *int { return &n }

// taskDef is a one-container task definition; withHC gives it a health check.
func taskDef(rev, cpu, mem int, withHC bool) *ecs.TaskDefinition {
	c := ecs.ContainerDefinition{Name: "app", Image: "app:latest", CPU: cpu, Memory: intp(mem)}
	if withHC {
		c.HealthCheck = &ecs.HealthCheck{Command: []string{"CMD", "true"}}
	}
	return &ecs.TaskDefinition{
		TaskDefinitionArn:    fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/app:%d", rev),
		Family:               "app",
		Revision:             rev,
		ContainerDefinitions: []ecs.ContainerDefinition{c},
		NetworkMode:          ecs.NetworkBridge,
	}
}

func instance(id, az string, cpu, mem int) placement.Instance {
	return placement.Instance{
		ARN:            "arn:aws:ecs:us-east-1:123456789012:container-instance/default/" + id,
		ID:             id,
		Status:         ecs.InstanceActive,
		AgentConnected: true,
		Attributes:     map[string]string{"ecs.availability-zone": az},
		Remaining:      placement.Resources{CPU: cpu, Memory: mem},
		Groups:         map[string]int{},
	}
}

func instances(n int) []placement.Instance {
	out := make([]placement.Instance, n)
	for i := range out {
		out[i] = instance(fmt.Sprintf("i%02d", i), fmt.Sprintf("az-%d", i%3), 4096, 8192)
	}
	return out
}

// fixture is a service with its tasks, instances and task definitions.
type fixture struct {
	svc   ecs.Service
	state json.RawMessage
	tasks []ecs.Task
	insts []placement.Instance
	tds   map[string]*ecs.TaskDefinition
	seq   int
	now   time.Time
}

// newReplica creates a replica service of td through Create.
func newReplica(t *testing.T, name string, desired int, td *ecs.TaskDefinition, dc *ecs.DeploymentConfiguration) *fixture {
	t.Helper()
	res, err := Create(CreateRequest{
		Base:                    ecs.Service{ServiceName: name, ClusterArn: cluster, ServiceArn: "arn:aws:ecs:us-east-1:123456789012:service/default/" + name, LaunchType: ecs.LaunchEC2},
		TaskDefinition:          td,
		DesiredCount:            &desired,
		DeploymentConfiguration: dc,
	}, Env{Now: t0, Seed: 1})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return &fixture{svc: res.Service, state: res.State, insts: instances(6), tds: map[string]*ecs.TaskDefinition{td.TaskDefinitionArn: td}, now: t0}
}

func (f *fixture) input() Input {
	f.seq++
	return Input{Now: f.now, Seed: int64(f.seq), Service: f.svc, State: f.state, Tasks: f.tasks, Instances: f.insts, TaskDefinitions: f.tds}
}

func (f *fixture) reconcile(t *testing.T) Plan {
	t.Helper()
	p, err := Reconcile(f.input())
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return p
}

// addTask puts a task of deployment dep on instance i in the given state.
func (f *fixture) addTask(dep, tdArn string, i int, status, health string, startedAgo time.Duration) *ecs.Task {
	f.seq++
	id := fmt.Sprintf("%032x", f.seq)
	t := ecs.Task{
		TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/default/" + id, ClusterArn: cluster,
		ContainerInstanceArn: f.insts[i].ARN, TaskDefinitionArn: tdArn, StartedBy: dep, Group: "service:" + f.svc.ServiceName,
		DesiredStatus: ecs.TaskRunning, LastStatus: status, HealthStatus: health, Version: 1,
		CreatedAt: ecs.At(f.now.Add(-startedAgo - time.Second)),
	}
	if status == ecs.TaskRunning {
		t.StartedAt = ecs.At(f.now.Add(-startedAgo))
	}
	f.tasks = append(f.tasks, t)
	f.insts[i].Groups[t.Group]++
	return &f.tasks[len(f.tasks)-1]
}

// commit applies a plan the way the control layer would, with the agents
// acknowledging nothing yet.
func (f *fixture) commit(p Plan) {
	f.svc, f.state = p.Service, p.State
	stop := map[string]Stop{}
	for _, s := range p.Stop {
		stop[s.TaskArn] = s
	}
	for i := range f.tasks {
		if s, ok := stop[f.tasks[i].TaskArn]; ok {
			f.tasks[i].DesiredStatus, f.tasks[i].StoppedReason, f.tasks[i].StopCode = ecs.TaskStopped, s.StoppedReason, s.StopCode
			f.tasks[i].Version++
		}
	}
	for _, l := range p.Launch {
		f.tasks = append(f.tasks, ecs.Task{
			TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/default/" + l.TaskID, ClusterArn: cluster,
			ContainerInstanceArn: l.InstanceARN, TaskDefinitionArn: l.TaskDefinition, StartedBy: l.Deployment, Group: l.Group,
			DesiredStatus: ecs.TaskRunning, LastStatus: ecs.TaskProvisioning, Version: 1, CreatedAt: ecs.At(f.now),
		})
		f.insts[l.Instance].Groups[l.Group]++
	}
}

// runAll makes every task that should run RUNNING (healthy when it has a
// health check) and every task asked to stop STOPPED.
func (f *fixture) runAll() {
	for i := range f.tasks {
		t := &f.tasks[i]
		switch {
		case t.LastStatus == ecs.TaskStopped:
		case t.DesiredStatus == ecs.TaskStopped:
			t.LastStatus, t.StoppedAt = ecs.TaskStopped, ecs.At(f.now)
			f.insts[f.instIndex(t.ContainerInstanceArn)].Groups[t.Group]--
		case t.LastStatus != ecs.TaskRunning:
			t.LastStatus, t.StartedAt = ecs.TaskRunning, ecs.At(f.now)
			if hasHealthCheck(f.tds[t.TaskDefinitionArn], t) {
				t.HealthStatus = ecs.HealthHealthy
			}
		}
		t.Version++
	}
}

// settled reports whether the agents have nothing left to do.
func (f *fixture) settled() bool {
	for _, t := range f.tasks {
		if t.LastStatus != ecs.TaskStopped && (t.DesiredStatus == ecs.TaskStopped || t.LastStatus != ecs.TaskRunning) {
			return false
		}
	}
	return true
}

func (f *fixture) instIndex(arn string) int {
	for i := range f.insts {
		if f.insts[i].ARN == arn {
			return i
		}
	}
	return -1
}

func (f *fixture) update(t *testing.T, req UpdateRequest) Result {
	t.Helper()
	res, err := Update(f.svc, f.state, req, Env{Now: f.now, Seed: int64(f.now.Unix())})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	f.svc, f.state = res.Service, res.State
	return res
}

// settle runs passes, agents completing everything between them, until a
// pass changes nothing; it fails the test after limit passes.
func (f *fixture) settle(t *testing.T, limit int) {
	t.Helper()
	for range limit {
		f.runAll()
		p := f.reconcile(t)
		if !p.Changed && f.settled() {
			return
		}
		f.commit(p)
		f.now = f.now.Add(time.Minute)
	}
	t.Fatalf("service %s did not settle in %d passes", f.svc.ServiceName, limit)
}

func countActive(tasks []ecs.Task, dep string) int {
	n := 0
	for _, t := range tasks {
		if (dep == "" || t.StartedBy == dep) && t.DesiredStatus == ecs.TaskRunning && t.LastStatus != ecs.TaskStopped {
			n++
		}
	}
	return n
}

func hasEvent(events []Event, name string) *Event {
	for i := range events {
		if events[i].EventName == name {
			return &events[i]
		}
	}
	return nil
}

func hasMessage(svc ecs.Service, msg string) bool {
	for _, e := range svc.Events {
		if e.Message == msg {
			return true
		}
	}
	return false
}
