package scheduler

import (
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

func TestBoundsArithmetic(t *testing.T) {
	cases := []struct {
		desired, maxPct, minPct int
		maxTotal, minHealthy    int
	}{
		{4, 200, 50, 8, 2},  // 50% of 4: may stop 2 first; 200% of 4: may start 4
		{2, 200, 75, 4, 2},  // 75% of 2 = ceil(1.5) = 2: cannot stop any
		{3, 125, 100, 3, 3}, // 125% of 3 = floor(3.75) = 3: cannot start any
		{4, 100, 100, 4, 4}, // 100/100: neither
		{0, 200, 100, 0, 0}, // nothing to run
		{7, 150, 33, 10, 3}, // floor(10.5), ceil(2.31)
		{5000, 200, 100, 10000, 5000},
	}
	for _, c := range cases {
		if got := MaxTotal(c.desired, c.maxPct); got != c.maxTotal {
			t.Errorf("MaxTotal(%d, %d) = %d, want %d", c.desired, c.maxPct, got, c.maxTotal)
		}
		if got := MinHealthy(c.desired, c.minPct); got != c.minHealthy {
			t.Errorf("MinHealthy(%d, %d) = %d, want %d", c.desired, c.minPct, got, c.minHealthy)
		}
	}
}

// steadyService creates a replica service of D tasks of td1 and settles it.
func steadyService(t *testing.T, desired, minPct, maxPct int) *fixture {
	t.Helper()
	td1 := taskDef(1, 256, 256, false)
	f := newReplica(t, "web", desired, td1, &ecs.DeploymentConfiguration{MinimumHealthyPercent: &minPct, MaximumPercent: &maxPct})
	f.settle(t, 20)
	f.now = f.now.Add(time.Minute) // every task well past its 40 s warm-up
	if countActive(f.tasks, "") != desired || f.svc.Deployments[0].RolloutState != ecs.RolloutCompleted {
		t.Fatalf("setup: %d tasks, rollout %s", countActive(f.tasks, ""), f.svc.Deployments[0].RolloutState)
	}
	return f
}

func TestRollingUpdateFirstStep(t *testing.T) {
	cases := []struct {
		name                   string
		desired, minPct, maxPc int
		stops, starts          int
		blocked                bool
	}{
		{"50/200 of 4 stops 2 and starts 4", 4, 50, 200, 2, 4, false},
		{"100/200 of 4 starts 4 first", 4, 100, 200, 0, 4, false},
		{"75% of 2 cannot stop any", 2, 75, 200, 0, 2, false},
		{"125% of 3 cannot start any (min 100: stuck)", 3, 100, 125, 0, 0, true},
		{"125% of 3 with min 50 stops 1 then starts 1", 3, 50, 125, 1, 1, false},
		{"100/100 is stuck", 4, 100, 100, 0, 0, true},
		{"0/100 stops all then starts all", 4, 0, 100, 4, 4, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := steadyService(t, c.desired, c.minPct, c.maxPc)
			td2 := taskDef(2, 256, 256, false)
			f.tds[td2.TaskDefinitionArn] = td2
			f.update(t, UpdateRequest{TaskDefinition: td2})
			p := f.reconcile(t)
			if len(p.Stop) != c.stops || len(p.Launch) != c.starts {
				t.Fatalf("stops %d starts %d, want %d and %d", len(p.Stop), len(p.Launch), c.stops, c.starts)
			}
			for _, l := range p.Launch {
				if l.TaskDefinition != td2.TaskDefinitionArn || l.Deployment != p.Service.Deployments[0].ID {
					t.Errorf("launch %+v is not of the new PRIMARY deployment", l)
				}
			}
			if c.stops > 0 {
				ids := make([]string, 0, len(p.Stop))
				for _, s := range p.Stop {
					ids = append(ids, s.TaskArn[len(s.TaskArn)-32:])
				}
				if !hasMessage(p.Service, StoppedTasksMessage("web", ids)) {
					t.Errorf("no stopped-tasks event in %+v", p.Service.Events)
				}
			}
			msg := DeploymentConfigurationMessage("web")
			if got := hasMessage(p.Service, msg); got != c.blocked {
				t.Errorf("deployment configuration event recorded = %v, want %v", got, c.blocked)
			}
			if c.blocked {
				// The event is not repeated while the condition holds.
				f.commit(p)
				f.now = f.now.Add(time.Minute)
				again := f.reconcile(t)
				if again.Changed {
					t.Errorf("a blocked service's second pass changed it: %d events", len(again.Service.Events))
				}
			}
		})
	}
}

// TestRollingUpdateCompletes walks each configuration to the end, checking
// the bounds after every commit.
func TestRollingUpdateCompletes(t *testing.T) {
	for _, c := range []struct{ desired, minPct, maxPct int }{{4, 50, 200}, {4, 100, 200}, {2, 75, 200}, {3, 50, 125}, {4, 0, 100}, {6, 50, 150}} {
		f := steadyService(t, c.desired, c.minPct, c.maxPct)
		td2 := taskDef(2, 256, 256, false)
		f.tds[td2.TaskDefinitionArn] = td2
		f.update(t, UpdateRequest{TaskDefinition: td2})
		newID := f.svc.Deployments[0].ID
		done := false
		for pass := 0; pass < 30 && !done; pass++ {
			p := f.reconcile(t)
			f.commit(p)
			if n := countActive(f.tasks, ""); n > MaxTotal(c.desired, c.maxPct) {
				t.Fatalf("%+v: %d tasks running or pending, above maximumPercent", c, n)
			}
			if h := healthyNow(f); h < MinHealthy(c.desired, c.minPct) && len(p.Stop) > 0 && stoppedHealthy(f, p) {
				t.Fatalf("%+v: a healthy task was stopped leaving %d healthy", c, h)
			}
			f.runAll()
			f.now = f.now.Add(time.Minute)
			done = len(f.svc.Deployments) == 1 && f.svc.Deployments[0].RolloutState == ecs.RolloutCompleted && f.svc.Deployments[0].ID == newID
		}
		if !done || countActive(f.tasks, newID) != c.desired {
			t.Fatalf("%+v: rollout did not complete: deployments %+v", c, f.svc.Deployments)
		}
	}
}

func healthyNow(f *fixture) int {
	n := 0
	for _, t := range f.tasks {
		if t.DesiredStatus == ecs.TaskRunning && t.LastStatus == ecs.TaskRunning && f.now.Sub(t.StartedAt.Time) >= NoHealthCheckWarmup {
			n++
		}
	}
	return n
}

func stoppedHealthy(f *fixture, p Plan) bool {
	for _, s := range p.Stop {
		for _, t := range f.tasks {
			if t.TaskArn == s.TaskArn && t.LastStatus == ecs.TaskRunning && f.now.Sub(t.StartedAt.Time) >= NoHealthCheckWarmup {
				return true
			}
		}
	}
	return false
}

func TestCircuitBreakerThreshold(t *testing.T) {
	cases := []struct{ desired, minimum, want int }{
		{1, 0, 3}, {25, 0, 13}, {400, 0, 200}, {800, 0, 200}, {0, 0, 3}, {6, 0, 3}, {7, 0, 4},
		{1, 10, 10}, {25, 10, 13}, // the older guide's minimum
	}
	for _, c := range cases {
		if got := CircuitBreakerThreshold(c.desired, &ecs.DeploymentCircuitBreaker{Enable: true}, c.minimum); got != c.want {
			t.Errorf("threshold(%d, min %d) = %d, want %d", c.desired, c.minimum, got, c.want)
		}
	}
	count := &ecs.DeploymentCircuitBreaker{ThresholdConfiguration: ecs.Raw(`{"type":"COUNT","value":5}`)}
	if got := CircuitBreakerThreshold(400, count, 0); got != 5 {
		t.Errorf("COUNT 5: threshold %d", got)
	}
	unbounded := &ecs.DeploymentCircuitBreaker{ThresholdConfiguration: ecs.Raw(`{"type":"UNBOUNDED_PERCENT","value":10}`)}
	if got := CircuitBreakerThreshold(4000, unbounded, 0); got != 400 {
		t.Errorf("UNBOUNDED_PERCENT 10 of 4000: threshold %d", got)
	}
}
