package scheduler

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
	"pgregory.net/rapid"
)

// The simulation: a cluster of instances whose agents start, crash and stop
// tasks; reconcilers that run at arbitrary points, on stale snapshots and
// two at a time, committing only when the versions they read still hold,
// as store.CommitPlan does; faults (drains, lost and returning agents,
// failing and unhealthy tasks, alarms) and user actions (scaling, new
// deployments). Every step checks design §9's invariants; once the faults
// stop, every service must reach a steady state within a bounded number of
// passes.

const (
	simReplica = 0
	simDaemon  = 1
	simPort    = 9100 // the daemon's static host port
)

type simInst struct {
	id, arn, az string
	status      string
	connected   bool
	role        string
	cpu, mem    int
	version     int64
}

type simTask struct {
	ecs.Task
	inst  int
	needs ecs.Requirements
	fate  int    // while faults last: 0 fails to start, 1 crashes, 2 turns unhealthy, else fine
	cause string // why it stopped: agent, host-lost
}

type simSvc struct {
	svc     ecs.Service
	state   json.RawMessage
	version int64
	good    []string // task definitions whose tasks work
}

type snapshot struct {
	svc          int
	in           Input
	svcVersion   int64
	instVersions []int64
}

type world struct {
	now      time.Time
	insts    []*simInst
	tasks    []*simTask
	byArn    map[string]*simTask
	svcs     []*simSvc
	tds      map[string]*ecs.TaskDefinition
	bad      map[string]bool
	faults   bool
	alarm    string
	snaps    []snapshot
	seed     int64
	commits  int
	launches int
}

func simTaskDef(family string, rev, cpu, mem int, hc bool, port int) *ecs.TaskDefinition {
	c := ecs.ContainerDefinition{Name: "main", Image: family, CPU: cpu, Memory: intp(mem)}
	if hc {
		c.HealthCheck = &ecs.HealthCheck{Command: []string{"CMD", "true"}}
	}
	if port > 0 {
		c.PortMappings = []ecs.PortMapping{{ContainerPort: intp(port), HostPort: intp(port)}}
	}
	return &ecs.TaskDefinition{
		TaskDefinitionArn:    fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/%s:%d", family, rev),
		Family:               family,
		Revision:             rev,
		NetworkMode:          ecs.NetworkBridge,
		ContainerDefinitions: []ecs.ContainerDefinition{c},
	}
}

func newWorld(t *rapid.T) *world {
	w := &world{now: t0, byArn: map[string]*simTask{}, tds: map[string]*ecs.TaskDefinition{}, bad: map[string]bool{}, faults: true, alarm: "OK"}
	for range rapid.IntRange(3, 5).Draw(t, "instances") {
		w.addInstance()
	}
	web := []*ecs.TaskDefinition{simTaskDef("web", 1, 256, 512, false, 0), simTaskDef("web", 2, 256, 512, true, 0), simTaskDef("web", 3, 256, 512, false, 0)}
	agent := []*ecs.TaskDefinition{simTaskDef("agent", 1, 128, 128, false, simPort), simTaskDef("agent", 2, 128, 128, true, simPort), simTaskDef("agent", 3, 128, 128, false, simPort)}
	for _, td := range append(web, agent...) {
		w.tds[td.TaskDefinitionArn] = td
	}
	w.bad[web[2].TaskDefinitionArn], w.bad[agent[2].TaskDefinitionArn] = true, true

	minPct := rapid.SampledFrom([]int{0, 50, 100}).Draw(t, "minimumHealthyPercent")
	maxPct := rapid.SampledFrom([]int{100, 150, 200}).Draw(t, "maximumPercent")
	if minPct == 100 && maxPct == 100 {
		maxPct = 200
	}
	dc := &ecs.DeploymentConfiguration{MinimumHealthyPercent: &minPct, MaximumPercent: &maxPct}
	if rapid.Bool().Draw(t, "circuitBreaker") {
		dc.DeploymentCircuitBreaker = &ecs.DeploymentCircuitBreaker{Enable: true, Rollback: rapid.Bool().Draw(t, "rollback")}
	}
	if rapid.Bool().Draw(t, "alarms") {
		dc.Alarms = &ecs.DeploymentAlarms{Enable: true, Rollback: rapid.Bool().Draw(t, "alarmRollback"), AlarmNames: []string{"a1"}}
	}
	desired := rapid.IntRange(0, 5).Draw(t, "desiredCount")
	res, err := Create(CreateRequest{
		Base:           ecs.Service{ServiceName: "web", ClusterArn: cluster, LaunchType: ecs.LaunchEC2},
		TaskDefinition: web[rapid.IntRange(0, 1).Draw(t, "webTaskDefinition")], DesiredCount: &desired,
		DeploymentConfiguration: dc,
	}, Env{Now: w.now, Seed: 1})
	if err != nil {
		t.Fatalf("create web: %v", err)
	}
	w.svcs = append(w.svcs, &simSvc{svc: res.Service, state: res.State, version: 1, good: []string{web[0].TaskDefinitionArn, web[1].TaskDefinitionArn}})
	daemonMin := rapid.SampledFrom([]int{0, 50}).Draw(t, "daemonMinimumHealthyPercent")
	res, err = Create(CreateRequest{
		Base:                    ecs.Service{ServiceName: "agent", ClusterArn: cluster, LaunchType: ecs.LaunchEC2},
		TaskDefinition:          agent[0],
		SchedulingStrategy:      ecs.SchedulingDaemon,
		DeploymentConfiguration: &ecs.DeploymentConfiguration{MinimumHealthyPercent: &daemonMin},
		PlacementConstraints:    []ecs.PlacementConstraint{{Type: ecs.ConstraintMemberOf, Expression: "not(attribute:role == batch)"}},
	}, Env{Now: w.now, Seed: 2})
	if err != nil {
		t.Fatalf("create agent: %v", err)
	}
	w.svcs = append(w.svcs, &simSvc{svc: res.Service, state: res.State, version: 1, good: []string{agent[0].TaskDefinitionArn, agent[1].TaskDefinitionArn}})
	return w
}

func (w *world) addInstance() {
	n := len(w.insts)
	id := fmt.Sprintf("inst%02d", n)
	w.insts = append(w.insts, &simInst{
		id: id, arn: "arn:aws:ecs:us-east-1:123456789012:container-instance/default/" + id, az: fmt.Sprintf("az-%d", n%3),
		status: ecs.InstanceActive, connected: true, cpu: 2048, mem: 4096, version: 1,
	})
}

// placementInstances renders the instances as the control layer would:
// remaining resources and groups from the unstopped tasks on them.
func (w *world) placementInstances() []placement.Instance {
	out := make([]placement.Instance, len(w.insts))
	for i, in := range w.insts {
		out[i] = placement.Instance{
			ARN: in.arn, ID: in.id, Status: in.status, AgentConnected: in.connected,
			Attributes: map[string]string{"ecs.availability-zone": in.az},
			Remaining:  placement.Resources{CPU: in.cpu, Memory: in.mem, Ports: []int{22}},
			Groups:     map[string]int{},
		}
		if in.role != "" {
			out[i].Attributes["role"] = in.role
		}
	}
	for _, t := range w.tasks {
		if t.LastStatus == ecs.TaskStopped {
			continue
		}
		p := &out[t.inst]
		p.Remaining.CPU -= t.needs.CPU
		p.Remaining.Memory -= t.needs.Memory
		p.Remaining.Ports = append(p.Remaining.Ports, t.needs.Ports...)
		p.Groups[t.Group]++
		if t.LastStatus == ecs.TaskRunning {
			p.RunningTasksCount++
		}
	}
	return out
}

func (w *world) snapshot(k int) snapshot {
	s := w.svcs[k]
	group := "service:" + s.svc.ServiceName
	var tasks []ecs.Task
	for _, t := range w.tasks {
		if t.Group != group || t.LastStatus == ecs.TaskStopped && w.now.Sub(t.StoppedAt.Time) > time.Hour {
			continue // stopped tasks expire after an hour
		}
		tasks = append(tasks, t.Task)
	}
	versions := make([]int64, len(w.insts))
	for i, in := range w.insts {
		versions[i] = in.version
	}
	w.seed++
	return snapshot{
		svc: k, svcVersion: s.version, instVersions: versions,
		in: Input{
			Now: w.now, Seed: w.seed, Service: s.svc, State: slices.Clone(s.state), Tasks: tasks,
			Instances: w.placementInstances(), TaskDefinitions: w.tds,
			AlarmStates: map[string]string{"a1": w.alarm}, DaemonGroups: map[string]bool{"service:agent": true},
		},
	}
}

func (w *world) plan(t *rapid.T, snap snapshot) Plan {
	before, _ := json.Marshal(snap.in)
	p, err := Reconcile(snap.in)
	if err != nil {
		t.Fatalf("reconcile %s: %v", snap.in.Service.ServiceName, err)
	}
	if after, _ := json.Marshal(snap.in); string(before) != string(after) {
		t.Fatalf("Reconcile modified its input")
	}
	return p
}

// commit applies a plan if nothing it read has moved, as the store's
// conditional transaction does; it reports whether it committed.
func (w *world) commit(t *rapid.T, snap snapshot, p Plan) bool {
	if !p.Changed {
		if len(p.Launch)+len(p.Stop)+len(p.Events) > 0 {
			t.Fatalf("an unchanged plan launches %d, stops %d, emits %d", len(p.Launch), len(p.Stop), len(p.Events))
		}
		return false
	}
	s := w.svcs[snap.svc]
	if s.version != snap.svcVersion {
		return false
	}
	snapTasks := map[string]ecs.Task{}
	for _, x := range snap.in.Tasks {
		snapTasks[x.TaskArn] = x
	}
	for _, st := range p.Stop {
		x, ok := w.byArn[st.TaskArn]
		if !ok {
			t.Fatalf("plan stops unknown task %s", st.TaskArn)
		}
		if x.Version != st.Version {
			return false
		}
		if was := snapTasks[st.TaskArn]; was.DesiredStatus != ecs.TaskRunning || was.LastStatus == ecs.TaskStopped ||
			st.StopCode != ecs.StopServiceSchedulerInitiated || st.StoppedReason == "" {
			t.Fatalf("bad stop %+v of task %s/%s", st, was.DesiredStatus, was.LastStatus)
		}
	}
	for _, l := range p.Launch {
		if w.insts[l.Instance].version != snap.instVersions[l.Instance] {
			return false
		}
	}
	w.checkLaunches(t, snap, p)
	if snap.svc == simReplica && p.Service.Status == ecs.ServiceActive {
		w.checkMinHealthy(t, snap, p)
	}
	for _, st := range p.Stop {
		x := w.byArn[st.TaskArn]
		x.DesiredStatus, x.StopCode, x.StoppedReason = ecs.TaskStopped, st.StopCode, st.StoppedReason
		x.Version++
	}
	for _, l := range p.Launch {
		fate := 9
		if w.faults {
			fate = rapid.IntRange(0, 9).Draw(t, "fate")
		}
		x := &simTask{inst: l.Instance, needs: l.Needs, fate: fate, Task: ecs.Task{
			TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/default/" + l.TaskID, ClusterArn: cluster,
			ContainerInstanceArn: l.InstanceARN, TaskDefinitionArn: l.TaskDefinition, StartedBy: l.Deployment, Group: l.Group,
			DesiredStatus: ecs.TaskRunning, LastStatus: ecs.TaskProvisioning, Version: 1, CreatedAt: ecs.At(snap.in.Now),
		}}
		if w.byArn[x.TaskArn] != nil {
			t.Fatalf("task ID %s launched twice", l.TaskID)
		}
		w.tasks = append(w.tasks, x)
		w.byArn[x.TaskArn] = x
		w.insts[l.Instance].version++
		w.launches++
	}
	s.svc, s.state = p.Service, p.State
	s.version++
	w.commits++
	w.checkCapacity(t)
	if snap.svc == simReplica && p.Service.Status == ecs.ServiceActive {
		w.checkMaxTotal(t, p)
	}
	return true
}

// checkLaunches: a launch is of the PRIMARY deployment, on an ACTIVE
// instance whose agent is connected.
func (w *world) checkLaunches(t *rapid.T, snap snapshot, p Plan) {
	for _, l := range p.Launch {
		prim := primaryOf(p.Service.Deployments)
		in := snap.in.Instances[l.Instance]
		if prim == nil || l.Deployment != prim.ID || l.TaskDefinition != prim.TaskDefinition || prim.RolloutState == ecs.RolloutFailed {
			t.Fatalf("launch %+v is not of a live PRIMARY deployment (%+v)", l, prim)
		}
		if in.Status != ecs.InstanceActive || !in.AgentConnected || in.ARN != l.InstanceARN {
			t.Fatalf("launch on instance %s (%s, connected %v)", in.ID, in.Status, in.AgentConnected)
		}
	}
}

// healthy is design §5.2's rule, written independently of the package.
func (w *world) healthy(x *ecs.Task, now time.Time) bool {
	if x.DesiredStatus != ecs.TaskRunning || x.LastStatus != ecs.TaskRunning {
		return false
	}
	if w.tds[x.TaskDefinitionArn].ContainerDefinitions[0].HealthCheck != nil {
		return x.HealthStatus == ecs.HealthHealthy
	}
	return now.Sub(x.StartedAt.Time) >= 40*time.Second
}

// checkMaxTotal: a rollout that starts tasks never exceeds maximumPercent.
func (w *world) checkMaxTotal(t *rapid.T, p Plan) {
	if len(p.Launch) == 0 {
		return
	}
	d, maxPct := p.Service.DesiredCount, *p.Service.DeploymentConfiguration.MaximumPercent
	active := 0
	for _, x := range w.tasks {
		if x.Group == "service:web" && x.DesiredStatus == ecs.TaskRunning && ecs.TaskStatusOrder(x.LastStatus) <= ecs.TaskStatusOrder(ecs.TaskRunning) {
			active++
		}
	}
	if active > MaxTotal(d, maxPct) {
		t.Fatalf("%d tasks running or pending after launching; maximumPercent %d of %d allows %d", active, maxPct, d, MaxTotal(d, maxPct))
	}
}

// checkMinHealthy: a plan that stops a healthy task leaves at least
// minHealthy healthy tasks, as the tasks were when it was made (a task
// crashing meanwhile is a fault no plan can foresee).
func (w *world) checkMinHealthy(t *rapid.T, snap snapshot, p Plan) {
	stopped := map[string]bool{}
	for _, st := range p.Stop {
		stopped[st.TaskArn] = true
	}
	healthyStopped, healthyLeft := false, 0
	for i := range snap.in.Tasks {
		x := &snap.in.Tasks[i]
		switch {
		case !w.healthy(x, snap.in.Now):
		case stopped[x.TaskArn]:
			healthyStopped = true
		default:
			healthyLeft++
		}
	}
	d, minPct := p.Service.DesiredCount, *p.Service.DeploymentConfiguration.MinimumHealthyPercent
	if healthyStopped && healthyLeft < MinHealthy(d, minPct) {
		t.Fatalf("a healthy task was stopped leaving %d healthy; minimumHealthyPercent %d of %d needs %d", healthyLeft, minPct, d, MinHealthy(d, minPct))
	}
}

// checkCapacity: no instance is overcommitted, no host port used twice,
// no instance runs two tasks of the daemon.
func (w *world) checkCapacity(t *rapid.T) {
	for i, in := range w.insts {
		cpu, mem, daemons := 0, 0, 0
		ports := map[int]bool{}
		for _, x := range w.tasks {
			if x.inst != i || x.LastStatus == ecs.TaskStopped {
				continue
			}
			cpu += x.needs.CPU
			mem += x.needs.Memory
			for _, port := range x.needs.Ports {
				if ports[port] {
					t.Fatalf("instance %s: host port %d used twice", in.id, port)
				}
				ports[port] = true
			}
			if x.Group == "service:agent" {
				daemons++
			}
		}
		if cpu > in.cpu || mem > in.mem {
			t.Fatalf("instance %s overcommitted: cpu %d/%d memory %d/%d", in.id, cpu, in.cpu, mem, in.mem)
		}
		if daemons > 1 {
			t.Fatalf("instance %s runs %d tasks of the daemon service", in.id, daemons)
		}
	}
}

// checkTasks: nothing vanished, and every stopped task stopped for a
// reason the simulation knows (its agent saw it, or its host was lost).
func (w *world) checkTasks(t *rapid.T) {
	if len(w.byArn) != len(w.tasks) || w.launches != len(w.tasks) {
		t.Fatalf("%d tasks known, %d listed, %d launched", len(w.byArn), len(w.tasks), w.launches)
	}
	for _, x := range w.tasks {
		if x.LastStatus == ecs.TaskStopped && x.cause == "" {
			t.Fatalf("task %s stopped without a cause", x.TaskArn)
		}
	}
}

// agentStep moves the tasks on instance i one step along their lifecycle.
func (w *world) agentStep(i int) {
	in := w.insts[i]
	if !in.connected {
		return
	}
	for _, x := range w.tasks {
		if x.inst != i || x.LastStatus == ecs.TaskStopped {
			continue
		}
		hc := w.tds[x.TaskDefinitionArn].ContainerDefinitions[0].HealthCheck != nil
		switch {
		case x.DesiredStatus == ecs.TaskStopped:
			w.stopTask(x, "", "", "agent")
		case x.LastStatus == ecs.TaskProvisioning:
			x.LastStatus = ecs.TaskPending
		case x.LastStatus == ecs.TaskPending:
			if w.bad[x.TaskDefinitionArn] || w.faults && x.fate == 0 {
				w.stopTask(x, ecs.StopTaskFailedToStart, "CannotStartContainerError", "agent")
				continue
			}
			x.LastStatus, x.StartedAt = ecs.TaskRunning, ecs.At(w.now)
			if hc {
				x.HealthStatus = ecs.HealthUnknown
			}
		case x.LastStatus == ecs.TaskRunning:
			switch {
			case w.faults && x.fate == 1:
				w.stopTask(x, ecs.StopEssentialContainerExited, "Essential container in task exited", "agent")
				continue
			case hc && w.faults && x.fate == 2:
				x.HealthStatus = ecs.HealthUnhealthy
			case hc:
				x.HealthStatus = ecs.HealthHealthy
			}
		}
		x.Version++
	}
}

func (w *world) stopTask(x *simTask, code, reason, cause string) {
	x.LastStatus, x.DesiredStatus, x.StoppedAt, x.cause = ecs.TaskStopped, ecs.TaskStopped, ecs.At(w.now), cause
	if x.StopCode == "" {
		x.StopCode = code
	}
	if x.StoppedReason == "" {
		x.StoppedReason = reason
	}
	x.Version++
	w.insts[x.inst].version++ // its resources are released
}

func (w *world) update(k int, req UpdateRequest) {
	s := w.svcs[k]
	w.seed++
	res, err := Update(s.svc, s.state, req, Env{Now: w.now, Seed: w.seed})
	if err != nil {
		return
	}
	s.svc, s.state = res.Service, res.State
	s.version++
}

func (w *world) reconcileOnce(t *rapid.T, k int) bool {
	snap := w.snapshot(k)
	return w.commit(t, snap, w.plan(t, snap))
}

func (w *world) actions() map[string]func(*rapid.T) {
	inst := func(t *rapid.T) *simInst { return w.insts[rapid.IntRange(0, len(w.insts)-1).Draw(t, "instance")] }
	svc := func(t *rapid.T) int { return rapid.IntRange(0, len(w.svcs)-1).Draw(t, "service") }
	return map[string]func(*rapid.T){
		"": func(t *rapid.T) {
			w.checkCapacity(t)
			w.checkTasks(t)
		},
		"reconcile":  func(t *rapid.T) { w.reconcileOnce(t, svc(t)) },
		"reconcile2": func(t *rapid.T) { w.reconcileOnce(t, svc(t)) },
		"snapshot": func(t *rapid.T) {
			w.snaps = append(w.snaps, w.snapshot(svc(t)))
			if len(w.snaps) > 3 {
				w.snaps = w.snaps[1:]
			}
		},
		"stale": func(t *rapid.T) {
			if len(w.snaps) == 0 {
				t.Skip("no snapshot")
			}
			snap := w.snaps[rapid.IntRange(0, len(w.snaps)-1).Draw(t, "snapshot")]
			w.commit(t, snap, w.plan(t, snap))
		},
		"concurrent": func(t *rapid.T) {
			k := svc(t)
			a := w.snapshot(k)
			b := a
			b.in.Seed = a.in.Seed + 1000003
			pa, pb := w.plan(t, a), w.plan(t, b)
			if w.commit(t, a, pa) && pb.Changed && w.commit(t, b, pb) {
				t.Fatalf("two plans from one snapshot both committed")
			}
		},
		"agent":  func(t *rapid.T) { w.agentStep(rapid.IntRange(0, len(w.insts)-1).Draw(t, "instance")) },
		"agents": func(t *rapid.T) { w.agentsStep() },
		"tick": func(t *rapid.T) {
			w.now = w.now.Add(time.Duration(rapid.IntRange(1, 90).Draw(t, "seconds")) * time.Second)
		},
		"drain": func(t *rapid.T) {
			if in := inst(t); in.status == ecs.InstanceActive {
				in.status, in.version = ecs.InstanceDraining, in.version+1
			}
		},
		"activate": func(t *rapid.T) {
			if in := inst(t); in.status == ecs.InstanceDraining {
				in.status, in.version = ecs.InstanceActive, in.version+1
			}
		},
		"disconnect": func(t *rapid.T) { in := inst(t); in.connected, in.version = false, in.version+1 },
		"reconnect":  func(t *rapid.T) { in := inst(t); in.connected, in.version = true, in.version+1 },
		"hostLost": func(t *rapid.T) {
			i := rapid.IntRange(0, len(w.insts)-1).Draw(t, "instance")
			w.insts[i].connected = false
			w.insts[i].version++
			for _, x := range w.tasks {
				if x.inst == i && x.LastStatus != ecs.TaskStopped {
					w.stopTask(x, ecs.StopInfrastructureHealth, "Host lost", "host-lost")
				}
			}
		},
		"flipRole": func(t *rapid.T) {
			in := inst(t)
			if in.role == "" {
				in.role = "batch"
			} else {
				in.role = ""
			}
			in.version++
		},
		"newInstance": func(t *rapid.T) {
			if len(w.insts) >= 8 {
				t.Skip("enough instances")
			}
			w.addInstance()
		},
		"scale": func(t *rapid.T) {
			w.update(simReplica, UpdateRequest{DesiredCount: intp(rapid.IntRange(0, 6).Draw(t, "desired"))})
		},
		"deploy": func(t *rapid.T) {
			k := svc(t)
			fam := map[int]string{simReplica: "web", simDaemon: "agent"}[k]
			rev := rapid.IntRange(1, 3).Draw(t, "revision")
			td := w.tds[fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/%s:%d", fam, rev)]
			w.update(k, UpdateRequest{TaskDefinition: td, ForceNewDeployment: rapid.Bool().Draw(t, "force")})
		},
		"alarm": func(t *rapid.T) {
			w.alarm = rapid.SampledFrom([]string{"OK", "ALARM", "INSUFFICIENT_DATA"}).Draw(t, "alarmState")
		},
	}
}

func (w *world) agentsStep() {
	for i := range w.insts {
		w.agentStep(i)
	}
}

// converge stops the faults, undoes what a user would undo, and runs
// passes until every service is steady.
func (w *world) converge(t *rapid.T) {
	w.faults, w.alarm = false, "OK"
	for _, in := range w.insts {
		if in.status == ecs.InstanceDraining {
			in.status = ecs.InstanceActive
		}
		in.connected = true
		in.version++
	}
	for pass := range 400 {
		w.userFixes()
		w.agentsStep()
		w.now = w.now.Add(20 * time.Second)
		changed := false
		for k := range w.svcs {
			for w.reconcileOnce(t, k) {
				changed = true
			}
		}
		if !changed && w.converged() {
			if pass > 350 {
				t.Logf("converged after %d passes", pass)
			}
			return
		}
	}
	for _, s := range w.svcs {
		t.Logf("%s: desired %d running %d deployments %+v", s.svc.ServiceName, s.svc.DesiredCount, s.svc.RunningCount, s.svc.Deployments)
		for _, e := range s.svc.Events[:min(5, len(s.svc.Events))] {
			t.Logf("  %s", e.Message)
		}
	}
	t.Fatalf("services did not reach a steady state once the faults stopped")
}

// userFixes does what a user does about a failed deployment, or one of a
// task definition that cannot start (deploy a good revision), and about a
// deployment configuration under which ECS cannot replace tasks either
// (lower minimumHealthyPercent).
func (w *world) userFixes() {
	for k, s := range w.svcs {
		prim := primaryOf(s.svc.Deployments)
		if prim.RolloutState == ecs.RolloutFailed || w.bad[prim.TaskDefinition] {
			w.update(k, UpdateRequest{TaskDefinition: w.tds[s.good[0]], ForceNewDeployment: true})
		}
		dc, d := s.svc.DeploymentConfiguration, s.svc.DesiredCount
		if d > 0 && MaxTotal(d, *dc.MaximumPercent) <= d && MinHealthy(d, *dc.MinimumHealthyPercent) >= d {
			w.update(k, UpdateRequest{DeploymentConfiguration: &ecs.DeploymentConfiguration{MinimumHealthyPercent: intp(0)}})
		}
	}
}

func (w *world) converged() bool {
	for _, x := range w.tasks {
		if x.LastStatus != ecs.TaskStopped && (x.DesiredStatus == ecs.TaskStopped || x.LastStatus != ecs.TaskRunning) {
			return false
		}
	}
	for k, s := range w.svcs {
		d := s.svc.Deployments
		if len(d) != 1 || d[0].RolloutState != ecs.RolloutCompleted || s.svc.RunningCount != s.svc.DesiredCount {
			return false
		}
		group := "service:" + s.svc.ServiceName
		per := map[int]int{}
		n := 0
		for _, x := range w.tasks {
			if x.Group == group && x.LastStatus == ecs.TaskRunning {
				if !w.healthy(&x.Task, w.now) || x.StartedBy != d[0].ID {
					return false
				}
				per[x.inst]++
				n++
			}
		}
		if n != s.svc.DesiredCount {
			return false
		}
		if k == simDaemon {
			for i, in := range w.insts {
				eligible := in.status == ecs.InstanceActive && in.role != "batch"
				if eligible && per[i] != 1 || !eligible && per[i] != 0 {
					return false
				}
			}
		}
	}
	return true
}

func TestSimulation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := newWorld(t)
		t.Repeat(w.actions())
		w.converge(t)
		// Settled: another pass over each service changes nothing.
		for k := range w.svcs {
			if p := w.plan(t, w.snapshot(k)); p.Changed {
				t.Fatalf("%s changed after converging: %+v", w.svcs[k].svc.ServiceName, p.Events)
			}
		}
	})
}
