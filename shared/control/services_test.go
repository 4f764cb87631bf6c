package control_test

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
)

// agents plays every instance's agent: it reports the tasks that should
// run as RUNNING and those that should stop as STOPPED, as a healthy agent
// would after one loop.
func (e env) agents(t *testing.T) {
	t.Helper()
	instances := ok(e.c.ListContainerInstances(e.ctx, &control.ListContainerInstancesInput{Cluster: "web"}))(t)
	for _, arn := range instances.ContainerInstanceArns {
		poll := ok(e.c.Poll(e.ctx, &control.PollInput{ProtocolVersion: 1, Cluster: "web", ContainerInstanceArn: arn}))(t)
		for _, task := range poll.Tasks {
			status, container := ecs.TaskRunning, ecs.ContainerRunning
			var exit *int
			if task.DesiredStatus == ecs.TaskStopped {
				status, container, exit = ecs.TaskStopped, ecs.ContainerStopped, intp(0)
			} else if task.LastStatus == ecs.TaskRunning {
				continue
			}
			ok(e.c.SubmitTaskStateChange(e.ctx, &control.TaskStateInput{ProtocolVersion: 1, Cluster: "web", ContainerInstanceArn: arn,
				TaskArn: task.TaskArn, Seq: task.Seq + 1, Status: status,
				Containers: []control.ContainerState{{ContainerName: "app", Status: container, ExitCode: exit}}}))(t)
		}
	}
}

func (e env) reconcile(t *testing.T, service string) {
	t.Helper()
	if err := e.c.Reconcile(e.ctx, "web", service); err != nil {
		t.Fatal(err)
	}
}

func (e env) service(t *testing.T, name string) ecs.Service {
	out := ok(e.c.DescribeServices(e.ctx, &control.DescribeServicesInput{Cluster: "web", Services: []string{name}}))(t)
	return out.Services[0]
}

func (e env) cluster(t *testing.T, azs ...string) {
	ok(e.c.CreateCluster(e.ctx, &control.CreateClusterInput{ClusterName: "web"}))(t)
	for _, family := range []string{"web", "web2"} {
		ok(e.c.RegisterTaskDefinition(e.ctx, &control.RegisterTaskDefinitionInput{Family: "web",
			ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: family, Memory: intp(256)}}}))(t)
	}
	for _, az := range azs {
		ok(e.c.RegisterContainerInstance(e.ctx, &control.RegisterContainerInstanceInput{Cluster: "web",
			TotalResources: []ecs.Resource{{Name: "CPU", Type: "INTEGER", IntegerValue: 4096}, {Name: "MEMORY", Type: "INTEGER", IntegerValue: 4096}},
			Attributes:     []ecs.Attribute{{Name: "ecs.availability-zone", Value: az}}}))(t)
	}
}

func (e env) serviceTasks(t *testing.T, name string) []ecs.Task {
	list := ok(e.c.ListTasks(e.ctx, &control.ListTasksInput{Cluster: "web", ServiceName: name}))(t)
	if len(list.TaskArns) == 0 {
		return nil
	}
	out := ok(e.c.DescribeTasks(e.ctx, &control.DescribeTasksInput{Cluster: "web", Tasks: list.TaskArns}))(t)
	return out.Tasks
}

// converge runs reconcile and agent loops until the service is steady.
func (e env) converge(t *testing.T, name string) ecs.Service {
	t.Helper()
	for range 30 {
		e.reconcile(t, name)
		e.agents(t)
		e.clock.Advance(time.Minute)
		s := e.service(t, name)
		if len(s.Deployments) == 1 && s.Deployments[0].RolloutState == ecs.RolloutCompleted && s.RunningCount == s.DesiredCount {
			return s
		}
	}
	s := e.service(t, name)
	t.Fatalf("service %s did not converge: %+v", name, s.Deployments)
	return s
}

func TestServiceReachesSteadyStateAndRollsOut(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, "us-east-1a", "us-east-1b", "us-east-1c")
	created := ok(e.c.CreateService(e.ctx, &control.CreateServiceInput{Cluster: "web", ServiceName: "api", TaskDefinition: "web:1", DesiredCount: intp(6)}))(t)
	if created.Service.Status != ecs.ServiceActive || len(created.Service.Deployments) != 1 || !strings.HasPrefix(created.Service.Deployments[0].ID, "ecs-svc/") {
		t.Fatalf("created = %+v", created.Service)
	}
	e.reconcile(t, "api")
	perAZ := map[string]int{}
	for _, task := range e.serviceTasks(t, "api") {
		perAZ[task.AvailabilityZone]++
		if task.Group != "service:api" || !strings.HasPrefix(task.StartedBy, "ecs-svc/") {
			t.Errorf("service task group %q startedBy %q", task.Group, task.StartedBy)
		}
	}
	if len(perAZ) != 3 || perAZ["us-east-1a"] != 2 || perAZ["us-east-1b"] != 2 {
		t.Errorf("tasks per AZ = %v, want 2 in each of 3", perAZ)
	}
	steady := e.converge(t, "api")
	if steady.RunningCount != 6 || !hasEvent(steady, "has reached a steady state.") {
		t.Errorf("steady service = running %d, events %+v", steady.RunningCount, steady.Events)
	}

	ok(e.c.UpdateService(e.ctx, &control.UpdateServiceInput{Cluster: "web", Service: "api", TaskDefinition: "web:2",
		DeploymentConfiguration: &ecs.DeploymentConfiguration{MinimumHealthyPercent: intp(50), MaximumPercent: intp(200)}}))(t)
	rolled := e.converge(t, "api")
	if rolled.TaskDefinition != "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2" || rolled.Deployments[0].TaskDefinition != rolled.TaskDefinition {
		t.Errorf("after rollout = %+v", rolled.Deployments)
	}
	for _, task := range e.serviceTasks(t, "api") {
		if task.TaskDefinitionArn != rolled.TaskDefinition {
			t.Errorf("an old-revision task still runs: %s", task.TaskArn)
		}
	}

	ok(e.c.UpdateService(e.ctx, &control.UpdateServiceInput{Cluster: "web", Service: "api", DesiredCount: intp(0)}))(t)
	ok(e.c.DeleteService(e.ctx, &control.DeleteServiceInput{Cluster: "web", Service: "api"}))(t)
	for range 5 {
		e.reconcile(t, "api")
		e.agents(t)
	}
	e.reconcile(t, "api")
	if s := e.service(t, "api"); s.Status != ecs.ServiceInactive {
		t.Errorf("deleted service status = %s", s.Status)
	}
	list := ok(e.c.ListServices(e.ctx, &control.ListServicesInput{Cluster: "web"}))(t)
	if len(list.ServiceArns) != 0 {
		t.Errorf("an INACTIVE service is listed: %v", list.ServiceArns)
	}
}

func hasEvent(s ecs.Service, suffix string) bool {
	for _, e := range s.Events {
		if strings.HasSuffix(e.Message, suffix) {
			return true
		}
	}
	return false
}

func TestServiceErrors(t *testing.T) {
	e := newEnv(t)
	e.cluster(t, "us-east-1a")
	ok(e.c.CreateService(e.ctx, &control.CreateServiceInput{Cluster: "web", ServiceName: "api", TaskDefinition: "web", DesiredCount: intp(1)}))(t)
	_, err := e.c.CreateService(e.ctx, &control.CreateServiceInput{Cluster: "web", ServiceName: "api", TaskDefinition: "web", DesiredCount: intp(1)})
	if !ecs.IsCode(err, ecs.InvalidParameterException) {
		t.Errorf("re-creating an ACTIVE service: %v", err)
	}
	_, err = e.c.UpdateService(e.ctx, &control.UpdateServiceInput{Cluster: "web", Service: "nope", DesiredCount: intp(2)})
	if !ecs.IsCode(err, ecs.ServiceNotFoundException) {
		t.Errorf("updating a missing service: %v", err)
	}
	_, err = e.c.DeleteService(e.ctx, &control.DeleteServiceInput{Cluster: "web", Service: "api"})
	if !ecs.IsCode(err, ecs.InvalidParameterException) {
		t.Errorf("deleting a scaled-up service without force: %v", err)
	}
	desc := ok(e.c.DescribeServices(e.ctx, &control.DescribeServicesInput{Cluster: "web", Services: []string{"api", "ghost"}}))(t)
	if len(desc.Services) != 1 || len(desc.Failures) != 1 || desc.Failures[0].Reason != ecs.ReasonMissing {
		t.Errorf("describe = %+v", desc)
	}
	_, err = e.c.DeleteCluster(e.ctx, &control.DeleteClusterInput{Cluster: "web"})
	if !ecs.IsCode(err, ecs.ClusterContainsContainerInstancesException) {
		t.Errorf("delete cluster: %v", err)
	}
}
