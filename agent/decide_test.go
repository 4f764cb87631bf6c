package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/berth-run/berth/shared/ecs"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func code(n int) *int { return &n }

func dep(name, cond string) ecs.ContainerDependency {
	return ecs.ContainerDependency{ContainerName: name, Condition: cond}
}

// cv builds a container view; essential unless told otherwise.
func cv(name string, phase Phase, opts ...func(*ContainerView)) ContainerView {
	c := ContainerView{Name: name, Essential: true, Phase: phase, Health: ecs.HealthUnknown, StartTimeout: 3 * time.Minute}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func nonEssential(c *ContainerView) { c.Essential = false }
func checked(c *ContainerView)      { c.HasHealthCheck = true }
func healthy(c *ContainerView)      { c.HasHealthCheck, c.Health = true, ecs.HealthHealthy }
func unhealthy(c *ContainerView)    { c.HasHealthCheck, c.Health = true, ecs.HealthUnhealthy }
func exit(n int) func(*ContainerView) {
	return func(c *ContainerView) { c.ExitCode = code(n) }
}
func dependsOn(deps ...ecs.ContainerDependency) func(*ContainerView) {
	return func(c *ContainerView) { c.DependsOn = deps }
}
func reason(r string) func(*ContainerView) { return func(c *ContainerView) { c.Reason = r } }

func TestDependencyVerdict(t *testing.T) {
	cases := []struct {
		name   string
		cond   string
		dep    ContainerView
		waited time.Duration
		want   int
		why    string
	}{
		{"START waits for a created container", ecs.DependStart, cv("d", PhaseCreated), 0, DependencyWaiting, ""},
		{"START is met by a running container", ecs.DependStart, cv("d", PhaseRunning), 0, DependencyMet, ""},
		{"START is met by one that ran and exited", ecs.DependStart, cv("d", PhaseExited, exit(1)), 0, DependencyMet, ""},
		{"START can never be met by one that failed", ecs.DependStart, cv("d", PhaseFailed, reason("CannotPullContainerError: nope")), 0, DependencyNever, "CannotPullContainerError"},
		{"COMPLETE waits while it runs", ecs.DependComplete, cv("d", PhaseRunning), 0, DependencyWaiting, ""},
		{"COMPLETE is met by any exit", ecs.DependComplete, cv("d", PhaseExited, exit(7)), 0, DependencyMet, ""},
		{"SUCCESS is met by exit 0", ecs.DependSuccess, cv("d", PhaseExited, exit(0)), 0, DependencyMet, ""},
		{"SUCCESS can never be met after exit 1", ecs.DependSuccess, cv("d", PhaseExited, exit(1)), 0, DependencyNever, "exit code 1"},
		{"SUCCESS can never be met by an unknown exit", ecs.DependSuccess, cv("d", PhaseExited), 0, DependencyNever, "unknown exit code"},
		{"HEALTHY waits while health is unknown", ecs.DependHealthy, cv("d", PhaseRunning, checked), 0, DependencyWaiting, ""},
		{"HEALTHY waits while unhealthy (it may recover)", ecs.DependHealthy, cv("d", PhaseRunning, unhealthy), 0, DependencyWaiting, ""},
		{"HEALTHY is met by a healthy running container", ecs.DependHealthy, cv("d", PhaseRunning, healthy), 0, DependencyMet, ""},
		{"HEALTHY needs a health check", ecs.DependHealthy, cv("d", PhaseRunning), 0, DependencyNever, "no health check"},
		{"HEALTHY can never be met once it exited", ecs.DependHealthy, cv("d", PhaseExited, checked, exit(0)), 0, DependencyNever, "exited before"},
		{"a wait past the start timeout gives up", ecs.DependHealthy, cv("d", PhaseRunning, checked), 3 * time.Minute, DependencyNever, "start timeout"},
		{"a met condition does not time out", ecs.DependStart, cv("d", PhaseRunning), time.Hour, DependencyMet, ""},
		{"an unknown condition can never be met", "SOMETIME", cv("d", PhaseRunning), 0, DependencyNever, "unknown condition"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, why := DependencyVerdict(c.cond, c.dep, c.waited)
			if got != c.want || !strings.Contains(why, c.why) {
				t.Fatalf("DependencyVerdict = %d %q; want %d containing %q", got, why, c.want, c.why)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name      string
		view      TaskView
		start     []string
		create    []string
		stop      []string
		blocked   []string
		status    string
		code      string
		reasonHas string
	}{
		{
			name:   "a new task starts every container without dependencies",
			view:   TaskView{Containers: []ContainerView{cv("a", PhaseAbsent), cv("b", PhaseAbsent, nonEssential)}},
			start:  []string{"a", "b"},
			status: ecs.TaskPending,
		},
		{
			name: "a dependent container is created ahead and waits",
			view: TaskView{Containers: []ContainerView{
				cv("db", PhaseAbsent), cv("app", PhaseAbsent, dependsOn(dep("db", ecs.DependStart))),
			}},
			start: []string{"db"}, create: []string{"app"}, status: ecs.TaskPending,
		},
		{
			name: "it starts once the dependency has started",
			view: TaskView{Containers: []ContainerView{
				cv("db", PhaseRunning), cv("app", PhaseCreated, dependsOn(dep("db", ecs.DependStart))),
			}},
			start: []string{"app"}, status: ecs.TaskPending,
		},
		{
			name: "all started: RUNNING",
			view: TaskView{Containers: []ContainerView{
				cv("db", PhaseRunning), cv("app", PhaseRunning, dependsOn(dep("db", ecs.DependStart))),
			}},
			status: ecs.TaskRunning,
		},
		{
			name: "a finished non-essential init container leaves the task RUNNING",
			view: TaskView{Containers: []ContainerView{
				cv("init", PhaseExited, nonEssential, exit(0)), cv("app", PhaseRunning, dependsOn(dep("init", ecs.DependSuccess))),
			}},
			status: ecs.TaskRunning,
		},
		{
			name: "an essential container's exit stops the others",
			view: TaskView{Containers: []ContainerView{
				cv("app", PhaseExited, exit(137)), cv("side", PhaseRunning, nonEssential),
			}},
			stop: []string{"side"}, status: ecs.TaskStopping,
			code: ecs.StopEssentialContainerExited, reasonHas: ReasonEssentialExited,
		},
		{
			name: "a non-essential container's exit changes nothing",
			view: TaskView{Containers: []ContainerView{
				cv("app", PhaseRunning), cv("side", PhaseExited, nonEssential, exit(1)),
			}},
			status: ecs.TaskRunning,
		},
		{
			name: "an essential container that cannot be pulled fails the task",
			view: TaskView{Containers: []ContainerView{
				cv("app", PhaseFailed, reason("CannotPullContainerError: pull access denied")), cv("side", PhaseRunning, nonEssential),
			}},
			stop: []string{"side"}, status: ecs.TaskStopping,
			code: ecs.StopTaskFailedToStart, reasonHas: "CannotPullContainerError",
		},
		{
			name: "an unmeetable dependency of an essential container fails the task",
			view: TaskView{Containers: []ContainerView{
				cv("init", PhaseExited, nonEssential, exit(3)), cv("app", PhaseCreated, dependsOn(dep("init", ecs.DependSuccess))),
			}},
			blocked: []string{"app"}, status: ecs.TaskStopped,
			code: ecs.StopTaskFailedToStart, reasonHas: "exit code 3",
		},
		{
			name: "an unmeetable dependency of a non-essential container only blocks it",
			view: TaskView{Containers: []ContainerView{
				cv("app", PhaseRunning), cv("helper", PhaseAbsent, nonEssential, dependsOn(dep("app", ecs.DependHealthy))),
			}},
			blocked: []string{"helper"}, status: ecs.TaskPending,
		},
		{
			name: "a dependency on a container not in the task fails it",
			view: TaskView{Containers: []ContainerView{
				cv("app", PhaseAbsent, dependsOn(dep("ghost", ecs.DependStart))),
			}},
			blocked: []string{"app"}, status: ecs.TaskStopped, code: ecs.StopTaskFailedToStart, reasonHas: "not in the task",
		},
		{
			name: "desired STOPPED stops dependents before their dependencies",
			view: TaskView{DesiredStopped: true, Containers: []ContainerView{
				cv("db", PhaseRunning), cv("cache", PhaseRunning),
				cv("app", PhaseRunning, dependsOn(dep("db", ecs.DependHealthy))),
			}},
			stop: []string{"cache", "app"}, status: ecs.TaskStopping,
		},
		{
			name: "desired STOPPED before anything ran: STOPPED at once",
			view: TaskView{DesiredStopped: true, Containers: []ContainerView{
				cv("app", PhaseAbsent), cv("db", PhaseCreated),
			}},
			status: ecs.TaskStopped,
		},
		{
			name: "a stop cause sticks even if the desired status does not say so",
			view: TaskView{Cause: &StopCause{Code: ecs.StopEssentialContainerExited, Reason: "x"}, Containers: []ContainerView{
				cv("app", PhaseCreated),
			}},
			status: ecs.TaskStopped, code: ecs.StopEssentialContainerExited, reasonHas: "x",
		},
		{
			name:   "a task without containers fails to start",
			view:   TaskView{},
			status: ecs.TaskStopped, code: ecs.StopTaskFailedToStart, reasonHas: "no containers",
		},
		{
			name: "a dependency cycle still stops",
			view: TaskView{DesiredStopped: true, Containers: []ContainerView{
				cv("a", PhaseRunning, dependsOn(dep("b", ecs.DependStart))),
				cv("b", PhaseRunning, dependsOn(dep("a", ecs.DependStart))),
			}},
			stop: []string{"a", "b"}, status: ecs.TaskStopping,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.view.Now, c.view.WaitingSince = t0, t0
			p := Decide(c.view)
			if !slices.Equal(p.Start, c.start) || !slices.Equal(p.Create, c.create) || !slices.Equal(p.Stop, c.stop) {
				t.Errorf("start %v create %v stop %v; want start %v create %v stop %v", p.Start, p.Create, p.Stop, c.start, c.create, c.stop)
			}
			var blocked []string
			for name := range p.Blocked {
				blocked = append(blocked, name)
			}
			slices.Sort(blocked)
			if !slices.Equal(blocked, c.blocked) {
				t.Errorf("blocked %v; want %v", p.Blocked, c.blocked)
			}
			if p.Status != c.status {
				t.Errorf("status %s; want %s", p.Status, c.status)
			}
			switch {
			case c.code == "" && c.reasonHas == "" && !c.view.DesiredStopped && p.Cause != nil:
				t.Errorf("cause %+v; want none", *p.Cause)
			case c.code != "" && (p.Cause == nil || p.Cause.Code != c.code || !strings.Contains(p.Cause.Reason, c.reasonHas)):
				t.Errorf("cause %+v; want code %s with reason containing %q", p.Cause, c.code, c.reasonHas)
			}
		})
	}
}

func TestDecideSchedulesTheDependencyTimeout(t *testing.T) {
	db := cv("db", PhaseRunning, checked)
	db.StartTimeout = 30 * time.Second
	view := TaskView{
		Containers:   []ContainerView{db, cv("app", PhaseCreated, dependsOn(dep("db", ecs.DependHealthy)))},
		WaitingSince: t0, Now: t0.Add(10 * time.Second),
	}
	if p := Decide(view); !p.WakeAt.Equal(t0.Add(30*time.Second)) || len(p.Start) > 0 {
		t.Fatalf("WakeAt %v start %v; want a wake at the timeout and no start", p.WakeAt, p.Start)
	}
	view.Now = t0.Add(30 * time.Second)
	p := Decide(view)
	if p.Cause == nil || p.Cause.Code != ecs.StopTaskFailedToStart || !strings.Contains(p.Cause.Reason, "start timeout") {
		t.Fatalf("after the timeout cause = %+v; want TaskFailedToStart naming the start timeout", p.Cause)
	}
}

func TestTaskHealth(t *testing.T) {
	cases := []struct {
		name string
		cs   []ContainerView
		want string
	}{
		{"no health checks", []ContainerView{cv("a", PhaseRunning)}, ecs.HealthUnknown},
		{"all checked essentials healthy", []ContainerView{cv("a", PhaseRunning, healthy), cv("b", PhaseRunning, healthy)}, ecs.HealthHealthy},
		{"one essential still being evaluated", []ContainerView{cv("a", PhaseRunning, healthy), cv("b", PhaseRunning, checked)}, ecs.HealthUnknown},
		{"one essential unhealthy", []ContainerView{cv("a", PhaseRunning, healthy), cv("b", PhaseRunning, unhealthy)}, ecs.HealthUnhealthy},
		{"only non-essential containers have checks", []ContainerView{cv("a", PhaseRunning), cv("b", PhaseRunning, nonEssential, unhealthy)}, ecs.HealthUnknown},
		{"non-essential health is ignored", []ContainerView{cv("a", PhaseRunning, healthy), cv("b", PhaseRunning, nonEssential, unhealthy)}, ecs.HealthHealthy},
		{"unchecked essentials do not count", []ContainerView{cv("a", PhaseRunning, healthy), cv("b", PhaseRunning)}, ecs.HealthHealthy},
	}
	for _, c := range cases {
		if got := TaskHealth(c.cs); got != c.want {
			t.Errorf("%s: TaskHealth = %s; want %s", c.name, got, c.want)
		}
	}
}

func TestContainerStatus(t *testing.T) {
	cases := []struct {
		p    Phase
		task string
		want string
	}{
		{PhaseAbsent, ecs.TaskPending, ecs.ContainerPending},
		{PhaseCreated, ecs.TaskRunning, ecs.ContainerPending},
		{PhaseCreated, ecs.TaskStopped, ecs.ContainerStopped},
		{PhaseRunning, ecs.TaskStopping, ecs.ContainerRunning},
		{PhaseExited, ecs.TaskRunning, ecs.ContainerStopped},
		{PhaseFailed, ecs.TaskPending, ecs.ContainerStopped},
	}
	for _, c := range cases {
		if got := ContainerStatus(c.p, c.task); got != c.want {
			t.Errorf("ContainerStatus(%v, %s) = %s; want %s", c.p, c.task, got, c.want)
		}
	}
}

// genTask draws a task of up to five containers with dependencies on
// earlier ones, in any phase.
func genTask(t *rapid.T) TaskView {
	n := rapid.IntRange(1, 5).Draw(t, "containers")
	conds := []string{ecs.DependStart, ecs.DependComplete, ecs.DependSuccess, ecs.DependHealthy}
	var cs []ContainerView
	for i := range n {
		c := ContainerView{
			Name:           string(rune('a' + i)),
			Essential:      rapid.Bool().Draw(t, "essential"),
			HasHealthCheck: rapid.Bool().Draw(t, "checked"),
			Phase:          Phase(rapid.IntRange(0, 4).Draw(t, "phase")),
			Health:         rapid.SampledFrom([]string{ecs.HealthUnknown, ecs.HealthHealthy, ecs.HealthUnhealthy}).Draw(t, "health"),
			StartTimeout:   time.Minute,
		}
		if c.Phase == PhaseExited {
			c.ExitCode = code(rapid.IntRange(0, 2).Draw(t, "exit"))
		}
		for j := range i {
			if rapid.Bool().Draw(t, "depends") {
				c.DependsOn = append(c.DependsOn, dep(string(rune('a'+j)), rapid.SampledFrom(conds).Draw(t, "cond")))
			}
		}
		cs = append(cs, c)
	}
	return TaskView{
		DesiredStopped: rapid.Bool().Draw(t, "desiredStopped"),
		Containers:     cs,
		WaitingSince:   t0,
		Now:            t0.Add(time.Duration(rapid.IntRange(0, 120).Draw(t, "waited")) * time.Second),
	}
}

// TestDecideInvariants: whatever was observed, Decide starts nothing whose
// dependencies are unmet and nothing once the task stops, stops a container
// only after those depending on it, and never calls a task with a running
// container STOPPED.
func TestDecideInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genTask(t)
		p := Decide(v)
		byName := map[string]ContainerView{}
		for _, c := range v.Containers {
			byName[c.Name] = c
		}
		if p.Cause != nil && len(p.Start)+len(p.Create) > 0 {
			t.Fatalf("a stopping task starts %v / creates %v", p.Start, p.Create)
		}
		for _, name := range p.Start {
			for _, d := range byName[name].DependsOn {
				if verdict, _ := DependencyVerdict(d.Condition, byName[d.ContainerName], v.Now.Sub(v.WaitingSince)); verdict != DependencyMet {
					t.Fatalf("%s starts though its dependency on %s (%s) is not met", name, d.ContainerName, d.Condition)
				}
			}
		}
		neededBy := func(name string) string {
			for _, c := range v.Containers {
				if c.Phase == PhaseRunning && slices.ContainsFunc(c.DependsOn, func(d ecs.ContainerDependency) bool { return d.ContainerName == name }) {
					return c.Name
				}
			}
			return ""
		}
		// Dependencies are on earlier containers only, so there is no cycle:
		// a container is stopped only once no running one depends on it.
		for _, name := range p.Stop {
			if byName[name].Phase != PhaseRunning {
				t.Fatalf("stops %s, which does not run", name)
			}
			if by := neededBy(name); by != "" {
				t.Fatalf("stops %s while %s, which depends on it, still runs", name, by)
			}
		}
		running := slices.ContainsFunc(v.Containers, func(c ContainerView) bool { return c.Phase == PhaseRunning })
		if p.Status == ecs.TaskStopped && running {
			t.Fatalf("STOPPED with a running container")
		}
		if p.Cause != nil && running && len(p.Stop) == 0 {
			t.Fatalf("a stopping task with running containers stops none")
		}
		if v.DesiredStopped && p.Cause == nil {
			t.Fatalf("desired STOPPED but no stop cause")
		}
	})
}
