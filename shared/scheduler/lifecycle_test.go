package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

func createReq(mut func(*CreateRequest)) CreateRequest {
	r := CreateRequest{
		Base:           ecs.Service{ServiceName: "web", ClusterArn: cluster},
		TaskDefinition: taskDef(1, 256, 256, false),
		DesiredCount:   intp(2),
	}
	if mut != nil {
		mut(&r)
	}
	return r
}

func TestCreateDefaults(t *testing.T) {
	res, err := Create(createReq(nil), Env{Now: t0, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Service
	dc := s.DeploymentConfiguration
	if s.Status != ecs.ServiceActive || s.SchedulingStrategy != ecs.SchedulingReplica || s.DesiredCount != 2 ||
		*dc.MaximumPercent != 200 || *dc.MinimumHealthyPercent != 100 || s.DeploymentController.Type != "ECS" {
		t.Fatalf("service %+v, configuration %+v", s, dc)
	}
	if len(s.Deployments) != 1 {
		t.Fatalf("deployments %+v", s.Deployments)
	}
	d := s.Deployments[0]
	if d.Status != ecs.DeploymentPrimary || d.RolloutState != ecs.RolloutInProgress || d.DesiredCount != 2 ||
		d.TaskDefinition != s.TaskDefinition || !strings.HasPrefix(d.ID, "ecs-svc/") || d.RolloutStateReason != "ECS deployment "+d.ID+" in progress." {
		t.Fatalf("deployment %+v", d)
	}
	if len(res.Events) != 1 || res.Events[0].EventName != DeploymentInProgress || res.Events[0].DetailType != DetailDeploymentStateChange ||
		res.Events[0].Reason != d.RolloutStateReason || res.Events[0].DeploymentID != d.ID {
		t.Fatalf("events %+v", res.Events)
	}
	daemon, err := Create(createReq(func(r *CreateRequest) { r.SchedulingStrategy, r.DesiredCount = ecs.SchedulingDaemon, nil }), Env{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if dc := daemon.Service.DeploymentConfiguration; *dc.MaximumPercent != 100 || *dc.MinimumHealthyPercent != 0 {
		t.Fatalf("daemon configuration %+v", dc)
	}
}

func TestCreateRejects(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*CreateRequest)
		code string
		in   string // the message names this
	}{
		{"bad strategy", func(r *CreateRequest) { r.SchedulingStrategy = "BATCH" }, ecs.InvalidParameterException, "schedulingStrategy"},
		{"replica without count", func(r *CreateRequest) { r.DesiredCount = nil }, ecs.InvalidParameterException, "desiredCount"},
		{"negative count", func(r *CreateRequest) { r.DesiredCount = intp(-1) }, ecs.InvalidParameterException, "desiredCount"},
		{"count above quota", func(r *CreateRequest) { r.DesiredCount = intp(5001) }, ecs.LimitExceededException, "desiredCount"},
		{"daemon with count", func(r *CreateRequest) { r.SchedulingStrategy = ecs.SchedulingDaemon }, ecs.InvalidParameterException, "desiredCount"},
		{"daemon max 200", func(r *CreateRequest) {
			r.SchedulingStrategy, r.DesiredCount = ecs.SchedulingDaemon, nil
			r.DeploymentConfiguration = &ecs.DeploymentConfiguration{MaximumPercent: intp(200)}
		}, ecs.InvalidParameterException, "maximumPercent"},
		{"daemon with strategy", func(r *CreateRequest) {
			r.SchedulingStrategy, r.DesiredCount = ecs.SchedulingDaemon, nil
			r.PlacementStrategy = []ecs.PlacementStrategy{{Type: "random"}}
		}, ecs.InvalidParameterException, "placementStrategy"},
		{"min above 100", func(r *CreateRequest) {
			r.DeploymentConfiguration = &ecs.DeploymentConfiguration{MinimumHealthyPercent: intp(101)}
		}, ecs.InvalidParameterException, "minimumHealthyPercent"},
		{"max below 100", func(r *CreateRequest) {
			r.DeploymentConfiguration = &ecs.DeploymentConfiguration{MaximumPercent: intp(90)}
		}, ecs.InvalidParameterException, "maximumPercent"},
		{"threshold type", func(r *CreateRequest) {
			r.DeploymentConfiguration = &ecs.DeploymentConfiguration{DeploymentCircuitBreaker: &ecs.DeploymentCircuitBreaker{Enable: true, ThresholdConfiguration: ecs.Raw(`{"type":"SOMETIMES"}`)}}
		}, ecs.InvalidParameterException, "thresholdConfiguration"},
		{"alarms without names", func(r *CreateRequest) {
			r.DeploymentConfiguration = &ecs.DeploymentConfiguration{Alarms: &ecs.DeploymentAlarms{Enable: true}}
		}, ecs.InvalidParameterException, "alarms"},
		{"eleven constraints", func(r *CreateRequest) {
			for range 11 {
				r.PlacementConstraints = append(r.PlacementConstraints, ecs.PlacementConstraint{Type: "distinctInstance"})
			}
		}, ecs.InvalidParameterException, "placementConstraints"},
		{"ten plus the task definition's", func(r *CreateRequest) {
			for range 10 {
				r.PlacementConstraints = append(r.PlacementConstraints, ecs.PlacementConstraint{Type: "distinctInstance"})
			}
			r.TaskDefinition.PlacementConstraints = []ecs.TaskDefinitionPlacementConstraint{{Type: "memberOf", Expression: "attribute:x exists"}}
		}, ecs.InvalidParameterException, "placementConstraints"},
		{"bad expression", func(r *CreateRequest) {
			r.PlacementConstraints = []ecs.PlacementConstraint{{Type: "memberOf", Expression: "attribute:x =="}}
		}, ecs.InvalidParameterException, "placementConstraints[0].expression"},
		{"six strategies", func(r *CreateRequest) {
			for range 6 {
				r.PlacementStrategy = append(r.PlacementStrategy, ecs.PlacementStrategy{Type: "random"})
			}
		}, ecs.InvalidParameterException, "placementStrategy"},
		{"grace period", func(r *CreateRequest) { r.HealthCheckGracePeriodSeconds = intp(-5) }, ecs.InvalidParameterException, "healthCheckGracePeriodSeconds"},
		{"code deploy", func(r *CreateRequest) { r.DeploymentController = &ecs.DeploymentController{Type: "CODE_DEPLOY"} }, ecs.InvalidParameterException, "deploymentController"},
	}
	for _, c := range cases {
		_, err := Create(createReq(c.mut), Env{Now: t0})
		e, ok := ecs.AsError(err)
		if !ok || e.Code != c.code || !strings.Contains(e.Message, c.in) {
			t.Errorf("%s: got %v, want %s naming %s", c.name, err, c.code, c.in)
		}
	}
}

func TestUpdate(t *testing.T) {
	td1, td2 := taskDef(1, 256, 256, false), taskDef(2, 256, 256, false)
	f := newReplica(t, "web", 2, td1, nil)
	first := f.svc.Deployments[0].ID

	// A new desired count changes counts only.
	res := f.update(t, UpdateRequest{DesiredCount: intp(5)})
	if len(res.Events) != 0 || len(f.svc.Deployments) != 1 || f.svc.Deployments[0].DesiredCount != 5 || f.svc.DesiredCount != 5 {
		t.Fatalf("scale: events %v deployments %+v", res.Events, f.svc.Deployments)
	}
	// Placement changes start no deployment; an empty list removes them.
	f.update(t, UpdateRequest{PlacementStrategy: []ecs.PlacementStrategy{{Type: "binpack", Field: "memory"}}, PlacementConstraints: []ecs.PlacementConstraint{{Type: "distinctInstance"}}})
	if len(f.svc.Deployments) != 1 || len(f.svc.PlacementStrategy) != 1 || len(f.svc.PlacementConstraints) != 1 {
		t.Fatalf("placement: %+v", f.svc)
	}
	f.update(t, UpdateRequest{PlacementConstraints: []ecs.PlacementConstraint{}})
	if len(f.svc.PlacementConstraints) != 0 || len(f.svc.PlacementStrategy) != 1 {
		t.Fatalf("removing constraints: %+v / %+v", f.svc.PlacementConstraints, f.svc.PlacementStrategy)
	}
	// The same task definition starts nothing; a new one does.
	if res := f.update(t, UpdateRequest{TaskDefinition: td1}); len(res.Events) != 0 {
		t.Fatalf("same task definition started a deployment")
	}
	// Throttle state is reset by a new deployment.
	st, _ := DecodeState(f.state)
	st.Throttle = Throttle{Failures: 5, LastFailure: t0}
	f.state, _ = st.Encode()
	res = f.update(t, UpdateRequest{TaskDefinition: td2})
	if len(f.svc.Deployments) != 2 || f.svc.Deployments[0].Status != ecs.DeploymentPrimary || f.svc.Deployments[1].ID != first ||
		f.svc.Deployments[1].Status != ecs.DeploymentActive || f.svc.TaskDefinition != td2.TaskDefinitionArn {
		t.Fatalf("new deployment: %+v", f.svc.Deployments)
	}
	if e := hasEvent(res.Events, DeploymentInProgress); e == nil || e.DeploymentID != f.svc.Deployments[0].ID {
		t.Fatalf("events %+v", res.Events)
	}
	if st, _ := DecodeState(f.state); st.Throttle.Failures != 0 {
		t.Fatalf("throttle not reset: %+v", st.Throttle)
	}
	// forceNewDeployment redeploys the same revision.
	f.update(t, UpdateRequest{ForceNewDeployment: true})
	if len(f.svc.Deployments) != 3 || f.svc.Deployments[0].TaskDefinition != td2.TaskDefinitionArn {
		t.Fatalf("force: %+v", f.svc.Deployments)
	}
	// deploymentConfiguration merges: unset fields keep their values.
	f.update(t, UpdateRequest{DeploymentConfiguration: &ecs.DeploymentConfiguration{MinimumHealthyPercent: intp(50)}})
	if dc := f.svc.DeploymentConfiguration; *dc.MinimumHealthyPercent != 50 || *dc.MaximumPercent != 200 {
		t.Fatalf("configuration %+v", dc)
	}
	if _, err := Update(f.svc, f.state, UpdateRequest{DesiredCount: intp(-1)}, Env{Now: t0}); !ecs.IsCode(err, ecs.InvalidParameterException) {
		t.Fatalf("negative count: %v", err)
	}
}

func TestDelete(t *testing.T) {
	f := newReplica(t, "web", 2, taskDef(1, 256, 256, false), nil)
	f.settle(t, 10)
	if _, err := Delete(f.svc, f.state, false, Env{Now: f.now}); !ecs.IsCode(err, ecs.InvalidParameterException) {
		t.Fatalf("delete while scaled: %v", err)
	}
	res, err := Delete(f.svc, f.state, true, Env{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc, f.state = res.Service, res.State
	if f.svc.Status != ecs.ServiceDraining || f.svc.DesiredCount != 0 {
		t.Fatalf("after delete: %s %d", f.svc.Status, f.svc.DesiredCount)
	}
	if _, err := Update(f.svc, f.state, UpdateRequest{DesiredCount: intp(1)}, Env{Now: f.now}); !ecs.IsCode(err, ecs.ServiceNotActiveException) {
		t.Fatalf("update of a DRAINING service: %v", err)
	}
	p := f.reconcile(t)
	if len(p.Stop) != 2 || p.Service.Status != ecs.ServiceDraining {
		t.Fatalf("first pass: %d stops, %s", len(p.Stop), p.Service.Status)
	}
	f.commit(p)
	f.runAll()
	f.now = f.now.Add(time.Second)
	p = f.reconcile(t)
	if p.Service.Status != ecs.ServiceInactive || len(p.Launch) != 0 {
		t.Fatalf("second pass: %s", p.Service.Status)
	}
	f.commit(p)
	if _, err := Delete(f.svc, f.state, true, Env{Now: f.now}); !ecs.IsCode(err, ecs.ServiceNotActiveException) {
		t.Fatalf("delete of an INACTIVE service: %v", err)
	}
	if again := f.reconcile(t); again.Changed {
		t.Fatal("an INACTIVE service changed")
	}
}
