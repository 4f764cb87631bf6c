package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/bus"
)

const svcCluster = "svc"

// healthyApp is the test app with a health check, so tasks count as
// healthy (for minimumHealthyPercent) as soon as the check passes.
func (c *cluster) healthyApp(env string, extra ...string) types.ContainerDefinition {
	def := c.testappContainer("app")
	def.Command = extra
	def.Environment = []types.KeyValuePair{{Name: aws.String("REVISION"), Value: aws.String(env)}}
	def.HealthCheck = &types.HealthCheck{
		Command:  []string{"CMD-SHELL", c.testapp + " check http://127.0.0.1:$PORT/health"},
		Interval: aws.Int32(5), Timeout: aws.Int32(5), Retries: aws.Int32(2),
	}
	return def
}

func (c *cluster) register(family string, def types.ContainerDefinition) string {
	c.t.Helper()
	out, err := c.ecs.RegisterTaskDefinition(context.Background(), &sdkecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{def}})
	check(c.t, err)
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func (c *cluster) service(name string) types.Service {
	c.t.Helper()
	out, err := c.ecs.DescribeServices(context.Background(), &sdkecs.DescribeServicesInput{Cluster: aws.String(svcCluster), Services: []string{name}})
	check(c.t, err)
	if len(out.Services) != 1 {
		c.t.Fatalf("service %s: %+v", name, out.Failures)
	}
	return out.Services[0]
}

// steady waits until the service runs desired tasks of taskDefinition in
// one COMPLETED deployment, as the SDK's ServicesStable waiter does.
func (c *cluster) steady(name, taskDefinition string, within time.Duration) types.Service {
	c.t.Helper()
	var s types.Service
	testenv.Eventually(c.t, within, "service "+name+" steady on "+taskDefinition, func() bool {
		s = c.service(name)
		return len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted &&
			s.RunningCount == s.DesiredCount && aws.ToString(s.TaskDefinition) == taskDefinition
	})
	return s
}

// serviceTasks are the service's tasks that should run.
func (c *cluster) serviceTasks(name string) []types.Task {
	c.t.Helper()
	list, err := c.ecs.ListTasks(context.Background(), &sdkecs.ListTasksInput{Cluster: aws.String(svcCluster), ServiceName: aws.String(name)})
	check(c.t, err)
	if len(list.TaskArns) == 0 {
		return nil
	}
	return c.describeTasks(svcCluster, list.TaskArns)
}

// boundsSampler checks a rolling deployment's bounds every 100 ms: tasks
// that should run never exceed maxTotal, and healthy running tasks never
// drop below minHealthy.
type boundsSampler struct {
	stop       chan struct{}
	done       sync.WaitGroup
	mu         sync.Mutex
	violations []string
	samples    int
}

func (c *cluster) sampleBounds(name string, maxTotal, minHealthy int) *boundsSampler {
	s := &boundsSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			list, err := c.ecs.ListTasks(context.Background(), &sdkecs.ListTasksInput{Cluster: aws.String(svcCluster), ServiceName: aws.String(name)})
			if err != nil || len(list.TaskArns) == 0 {
				continue
			}
			out, err := c.ecs.DescribeTasks(context.Background(), &sdkecs.DescribeTasksInput{Cluster: aws.String(svcCluster), Tasks: list.TaskArns})
			if err != nil {
				continue
			}
			total, healthy := 0, 0
			for _, task := range out.Tasks {
				if aws.ToString(task.DesiredStatus) != "RUNNING" {
					continue
				}
				total++
				if aws.ToString(task.LastStatus) == "RUNNING" && task.HealthStatus == types.HealthStatusHealthy {
					healthy++
				}
			}
			s.mu.Lock()
			s.samples++
			if total > maxTotal || healthy < minHealthy {
				s.violations = append(s.violations, fmt.Sprintf("%d tasks to run (max %d), %d healthy (min %d)", total, maxTotal, healthy, minHealthy))
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *boundsSampler) finish(t *testing.T) {
	t.Helper()
	close(s.stop)
	s.done.Wait()
	if s.samples < 5 || len(s.violations) > 0 {
		t.Errorf("%d samples; bounds broken %d times: %v", s.samples, len(s.violations), s.violations)
	}
}

// TestServiceLifecycle is the services issue's scenario in `berth up` with
// three process-driver agents: steady state, replacement of a killed task,
// a 50/200 rolling update within its bounds, a circuit breaker rolling a
// failing deployment back, draining, a daemon service covering a new
// instance, and deletion.
func TestServiceLifecycle(t *testing.T) {
	c := newCluster(t, svcCluster)
	ctx := context.Background()
	actions := record(t, c.plane, `{"source":["berth"],"detail-type":["ECS Service Action","ECS Deployment State Change"]}`)
	agents := []*hostAgent{
		c.startAgent(svcCluster, t.TempDir(), "us-east-1a", "t3.small"),
		c.startAgent(svcCluster, t.TempDir(), "us-east-1b", "t3.small"),
		c.startAgent(svcCluster, t.TempDir(), "us-east-1c", "t3.small"),
	}
	v1 := c.register("web", c.healthyApp("1"))
	_, err := c.ecs.CreateService(ctx, &sdkecs.CreateServiceInput{Cluster: aws.String(svcCluster), ServiceName: aws.String("web"),
		TaskDefinition: aws.String(v1), DesiredCount: aws.Int32(6),
		DeploymentConfiguration: &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(50), MaximumPercent: aws.Int32(200),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}}})
	check(t, err)
	s := c.steady("web", v1, 60*time.Second)
	if !hasServiceEvent(s, "has reached a steady state.") {
		t.Errorf("no steady-state event in %+v", s.Events)
	}
	perZone := map[string]int{}
	for _, task := range c.serviceTasks("web") {
		perZone[aws.ToString(task.AvailabilityZone)]++
	}
	if perZone["us-east-1a"] != 2 || perZone["us-east-1b"] != 2 || perZone["us-east-1c"] != 2 {
		t.Errorf("service tasks per zone = %v", perZone)
	}
	testenv.Eventually(t, 10*time.Second, "SERVICE_STEADY_STATE and deployment COMPLETED events", func() bool {
		return hasBusEvent(actions.snapshot(), bus.ServiceSteadyState) && hasBusEvent(actions.snapshot(), bus.DeploymentCompleted)
	})

	victim := c.serviceTasks("web")[0]
	check(t, syscall.Kill(pidOf(t, hostPort(t, victim)), syscall.SIGKILL))
	testenv.Eventually(t, 60*time.Second, "the killed task replaced", func() bool {
		tasks := c.serviceTasks("web")
		healthy := 0
		for _, task := range tasks {
			if aws.ToString(task.TaskArn) == aws.ToString(victim.TaskArn) {
				return false
			}
			if aws.ToString(task.LastStatus) == "RUNNING" {
				healthy++
			}
		}
		return healthy == 6
	})

	v2 := c.register("web", c.healthyApp("2"))
	sampler := c.sampleBounds("web", 12, 3)
	_, err = c.ecs.UpdateService(ctx, &sdkecs.UpdateServiceInput{Cluster: aws.String(svcCluster), Service: aws.String("web"), TaskDefinition: aws.String(v2)})
	check(t, err)
	c.steady("web", v2, 90*time.Second)
	sampler.finish(t)
	for _, task := range c.serviceTasks("web") {
		if aws.ToString(task.TaskDefinitionArn) != v2 {
			t.Errorf("task %s still runs %s", aws.ToString(task.TaskArn), aws.ToString(task.TaskDefinitionArn))
		}
	}

	broken := c.testappContainer("app")
	broken.EntryPoint = []string{"/bin/false"}
	v3 := c.register("web", broken)
	_, err = c.ecs.UpdateService(ctx, &sdkecs.UpdateServiceInput{Cluster: aws.String(svcCluster), Service: aws.String("web"), TaskDefinition: aws.String(v3)})
	check(t, err)
	testenv.Eventually(t, 120*time.Second, "the circuit breaker to fail the deployment and roll back", func() bool {
		evs := actions.snapshot()
		return hasBusEvent(evs, bus.DeploymentFailed) && hasBusReason(evs, "rolling back")
	})
	c.steady("web", v2, 120*time.Second)

	drained := agents[0].ContainerInstanceArn()
	_, err = c.ecs.UpdateContainerInstancesState(ctx, &sdkecs.UpdateContainerInstancesStateInput{Cluster: aws.String(svcCluster),
		ContainerInstances: []string{drained}, Status: types.ContainerInstanceStatusDraining})
	check(t, err)
	testenv.Eventually(t, 90*time.Second, "the drained instance's tasks to move", func() bool {
		tasks := c.serviceTasks("web")
		running := 0
		for _, task := range tasks {
			if aws.ToString(task.ContainerInstanceArn) == drained {
				return false
			}
			if aws.ToString(task.LastStatus) == "RUNNING" {
				running++
			}
		}
		return running == 6
	})
	_, err = c.ecs.UpdateContainerInstancesState(ctx, &sdkecs.UpdateContainerInstancesStateInput{Cluster: aws.String(svcCluster),
		ContainerInstances: []string{drained}, Status: types.ContainerInstanceStatusActive})
	check(t, err)

	logs := c.register("logs", c.healthyApp("daemon"))
	_, err = c.ecs.CreateService(ctx, &sdkecs.CreateServiceInput{Cluster: aws.String(svcCluster), ServiceName: aws.String("logs"),
		TaskDefinition: aws.String(logs), SchedulingStrategy: types.SchedulingStrategyDaemon})
	check(t, err)
	onEach := func(n int) func() bool {
		return func() bool {
			hosts := map[string]bool{}
			for _, task := range c.serviceTasks("logs") {
				if aws.ToString(task.LastStatus) == "RUNNING" {
					hosts[aws.ToString(task.ContainerInstanceArn)] = true
				}
			}
			return len(hosts) == n
		}
	}
	testenv.Eventually(t, 60*time.Second, "a daemon task on each of 3 instances", onEach(3))
	fourth := c.startAgent(svcCluster, t.TempDir(), "us-east-1a", "t3.small")
	testenv.Eventually(t, 60*time.Second, "a daemon task on the 4th instance", onEach(4))
	found := false
	for _, task := range c.serviceTasks("logs") {
		found = found || aws.ToString(task.ContainerInstanceArn) == fourth.ContainerInstanceArn()
	}
	if !found {
		t.Error("no daemon task on the instance that joined")
	}

	_, err = c.ecs.DeleteService(ctx, &sdkecs.DeleteServiceInput{Cluster: aws.String(svcCluster), Service: aws.String("web"), Force: aws.Bool(true)})
	check(t, err)
	testenv.Eventually(t, 60*time.Second, "the deleted service INACTIVE with its tasks stopped", func() bool {
		return aws.ToString(c.service("web").Status) == "INACTIVE" && len(c.serviceTasks("web")) == 0
	})
}

func hasServiceEvent(s types.Service, suffix string) bool {
	for _, e := range s.Events {
		if strings.HasSuffix(aws.ToString(e.Message), suffix) {
			return true
		}
	}
	return false
}

func hasBusEvent(events []bus.Event, name string) bool {
	for _, e := range events {
		var d struct {
			EventName string `json:"eventName"`
		}
		if jsonUnmarshal(e.Detail, &d) == nil && d.EventName == name {
			return true
		}
	}
	return false
}

func hasBusReason(events []bus.Event, part string) bool {
	for _, e := range events {
		var d struct {
			Reason string `json:"reason"`
		}
		if jsonUnmarshal(e.Detail, &d) == nil && strings.Contains(d.Reason, part) {
			return true
		}
	}
	return false
}

// TestDockerService runs a service on Docker-driver agents with the test
// image built FROM scratch: it reaches a steady state with healthy tasks
// whose dynamic ports answer, replaces a task whose container dies, and
// stops its tasks when deleted.
func TestDockerService(t *testing.T) {
	_, image := testimage.Image(t)
	c := newCluster(t, svcCluster)
	ctx := context.Background()
	c.startDockerAgent(svcCluster, t.TempDir(), "us-east-1a")
	c.startDockerAgent(svcCluster, t.TempDir(), "us-east-1b")
	td := c.register("dockerweb", types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(64),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		HealthCheck: &types.HealthCheck{Command: []string{"CMD", "/testapp", "check", "http://127.0.0.1:8080/health"},
			Interval: aws.Int32(5), Timeout: aws.Int32(5), Retries: aws.Int32(2)},
		StopTimeout: aws.Int32(5),
	})
	_, err := c.ecs.CreateService(ctx, &sdkecs.CreateServiceInput{Cluster: aws.String(svcCluster), ServiceName: aws.String("web"),
		TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)})
	check(t, err)
	c.steady("web", td, 120*time.Second)
	tasks := c.serviceTasks("web")
	zones := map[string]bool{}
	for _, task := range tasks {
		zones[aws.ToString(task.AvailabilityZone)] = true
		if task.HealthStatus != types.HealthStatusHealthy {
			t.Errorf("task %s health %s", aws.ToString(task.TaskArn), task.HealthStatus)
		}
		if body := httpGet(t, hostPort(t, task)); !strings.Contains(body, "testapp ok") {
			t.Errorf("task answered %q", body)
		}
	}
	if len(zones) != 2 {
		t.Errorf("service tasks in zones %v, want both", zones)
	}
	httpPost(t, hostPort(t, tasks[0]), "/exit?code=3")
	testenv.Eventually(t, 120*time.Second, "the exited task replaced", func() bool {
		running := 0
		for _, task := range c.serviceTasks("web") {
			if aws.ToString(task.TaskArn) == aws.ToString(tasks[0].TaskArn) {
				return false
			}
			if aws.ToString(task.LastStatus) == "RUNNING" {
				running++
			}
		}
		return running == 2
	})
	_, err = c.ecs.DeleteService(ctx, &sdkecs.DeleteServiceInput{Cluster: aws.String(svcCluster), Service: aws.String("web"), Force: aws.Bool(true)})
	check(t, err)
	testenv.Eventually(t, 60*time.Second, "the deleted service's tasks stopped", func() bool {
		return aws.ToString(c.service("web").Status) == "INACTIVE" && len(c.serviceTasks("web")) == 0
	})
}
