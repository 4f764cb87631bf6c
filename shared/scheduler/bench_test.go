package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
)

// bigService is a 5,000-task replica service on 500 instances, every task
// RUNNING and healthy, its deployment completed.
func bigService(b *testing.B) *fixture {
	b.Helper()
	const tasks, nInst = 5000, 500
	td := taskDef(1, 64, 128, false)
	res, err := Create(CreateRequest{
		Base:           ecs.Service{ServiceName: "big", ClusterArn: cluster, LaunchType: ecs.LaunchEC2},
		TaskDefinition: td, DesiredCount: intp(tasks),
	}, Env{Now: t0, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{svc: res.Service, state: res.State, tds: map[string]*ecs.TaskDefinition{td.TaskDefinitionArn: td}, now: t0.Add(time.Hour)}
	f.insts = make([]placement.Instance, nInst)
	for i := range f.insts {
		f.insts[i] = instance(fmt.Sprintf("i%04d", i), fmt.Sprintf("az-%d", i%3), 4096, 16384)
	}
	dep := f.svc.Deployments[0].ID
	for i := range tasks {
		f.addTask(dep, td.TaskDefinitionArn, i%nInst, ecs.TaskRunning, "", 10*time.Minute)
	}
	for i := range f.insts {
		f.insts[i].Remaining.CPU -= 10 * 64
		f.insts[i].Remaining.Memory -= 10 * 128
	}
	// Settle once so the deployment is COMPLETED and the events are there.
	p, err := Reconcile(f.input())
	if err != nil {
		b.Fatal(err)
	}
	f.commit(p)
	return f
}

func benchReconcile(b *testing.B, in Input, check func(Plan)) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := Reconcile(in)
		if err != nil {
			b.Fatal(err)
		}
		check(p)
	}
}

// BenchmarkReconcile5000Steady: nothing to do.
func BenchmarkReconcile5000Steady(b *testing.B) {
	f := bigService(b)
	benchReconcile(b, f.input(), func(p Plan) {
		if p.Changed {
			b.Fatal("a steady service changed")
		}
	})
}

// BenchmarkReconcile5000Rolling: a new deployment halfway through, old
// tasks to stop and new ones to place.
func BenchmarkReconcile5000Rolling(b *testing.B) {
	f := bigService(b)
	td2 := taskDef(2, 64, 128, false)
	f.tds[td2.TaskDefinitionArn] = td2
	f.update(&testing.T{}, UpdateRequest{TaskDefinition: td2, DeploymentConfiguration: &ecs.DeploymentConfiguration{MinimumHealthyPercent: intp(50)}})
	benchReconcile(b, f.input(), func(p Plan) {
		if len(p.Stop) == 0 || len(p.Launch) == 0 || !p.More {
			b.Fatalf("rolling pass: %d stops %d launches", len(p.Stop), len(p.Launch))
		}
	})
}

// BenchmarkReconcile5000Replace: 30 tasks crashed and need replacing.
func BenchmarkReconcile5000Replace(b *testing.B) {
	f := bigService(b)
	for i := range 30 {
		t := &f.tasks[i*100]
		t.LastStatus, t.DesiredStatus, t.StopCode, t.StoppedAt = ecs.TaskStopped, ecs.TaskStopped, ecs.StopEssentialContainerExited, ecs.At(f.now)
	}
	benchReconcile(b, f.input(), func(p Plan) {
		if len(p.Launch) != 30 {
			b.Fatalf("%d launches", len(p.Launch))
		}
	})
}

// BenchmarkReconcile5000ScaleIn: desiredCount drops from 5,000 to 2,000.
func BenchmarkReconcile5000ScaleIn(b *testing.B) {
	f := bigService(b)
	f.update(&testing.T{}, UpdateRequest{DesiredCount: intp(2000)})
	benchReconcile(b, f.input(), func(p Plan) {
		if len(p.Stop) != 25 || !p.More {
			b.Fatalf("scale-in pass: %d stops", len(p.Stop))
		}
	})
}
