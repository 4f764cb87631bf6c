package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/docker"
	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/local"
)

// startDockerAgent runs an agent with the docker driver in its own scope,
// removing the scope's containers when the test ends.
func (w *world) startDockerAgent() (*runningAgent, string) {
	w.t.Helper()
	cli, image := testimage.Image(w.t)
	scope := "agent-test-" + local.RandomID()[:12]
	d, err := docker.New(docker.Options{Client: cli, Scope: scope, Logger: testenv.Logger(w.t)})
	check(w.t, err)
	w.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		all, err := d.List(ctx)
		if err != nil {
			w.t.Errorf("list test containers: %v", err)
			return
		}
		for _, c := range all {
			if err := d.Remove(ctx, c.ID); err != nil {
				w.t.Errorf("remove test container %s: %v", c.ID, err)
			}
		}
	})
	cfg := w.agentConfig(w.t.TempDir())
	cfg.Driver = agent.DriverDocker
	cfg.DockerScope = scope
	return w.startAgentWith(cfg, d), image
}

// imageDef is a container of the test image (entrypoint /testapp).
func imageDef(name, image string, args ...string) types.ContainerDefinition {
	return types.ContainerDefinition{Name: aws.String(name), Image: aws.String(image), Memory: aws.Int32(64), Command: args}
}

// TestDockerTaskServesIsHealthyAndHonoursStopTimeout: with the docker
// driver a task reaches RUNNING on an ephemeral host port that answers
// HTTP, turns HEALTHY, and a StopTask of an app ignoring SIGTERM kills it
// after its stopTimeout.
func TestDockerTaskServesIsHealthyAndHonoursStopTimeout(t *testing.T) {
	w := newWorld(t)
	a, image := w.startDockerAgent()
	app := imageDef("app", image, "--ignore-sigterm")
	app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}}
	app.HealthCheck = &types.HealthCheck{
		Command:  []string{"CMD", testimage.AppPath, "check", "http://127.0.0.1:8080/health"},
		Interval: aws.Int32(5), Timeout: aws.Int32(5), Retries: aws.Int32(2),
	}
	app.StopTimeout = aws.Int32(2)
	arn := w.runTask(a, w.registerTD("docker-web", types.NetworkModeBridge, app), nil)

	running := w.waitStatus(arn, ecs.TaskRunning, time.Minute)
	c := container(running, "app")
	if body := answer(t, hostPortOf(t, c)); !strings.Contains(body, "testapp ok") {
		t.Fatalf("the task answered %q", body)
	}
	if aws.ToString(c.RuntimeId) == "" || aws.ToString(c.ImageDigest) == "" {
		t.Errorf("container runtime id %q image digest %q; want both", aws.ToString(c.RuntimeId), aws.ToString(c.ImageDigest))
	}
	healthy := w.waitTask(arn, "HEALTHY", 30*time.Second, func(t types.Task) bool { return t.HealthStatus == types.HealthStatusHealthy })
	if container(healthy, "app").HealthStatus != types.HealthStatusHealthy {
		t.Errorf("containers %s; want app HEALTHY", describeContainers(healthy))
	}

	w.stopTask(arn, "enough")
	stopped := w.waitStatus(arn, ecs.TaskStopped, 30*time.Second)
	if !exited(container(stopped, "app"), 137) {
		t.Errorf("containers %s; want exit 137 (killed after the stop timeout)", describeContainers(stopped))
	}
	if took := stopped.ExecutionStoppedAt.Sub(*stopped.StoppingAt); took < 1900*time.Millisecond {
		t.Errorf("stopped %v after stopping began; the 2s stopTimeout was not honoured", took)
	}
}

// TestDockerEssentialExitStopsTheTask: an essential container exiting on
// its own stops the task with EssentialContainerExited and its exit code,
// and the other containers with it.
func TestDockerEssentialExitStopsTheTask(t *testing.T) {
	w := newWorld(t)
	a, image := w.startDockerAgent()
	app := imageDef("app", image, "--port", "0", "--exit-after", "500ms", "--exit-code", "5")
	side := imageDef("side", image, "--port", "0")
	side.Essential = aws.Bool(false)
	arn := w.runTask(a, w.registerTD("docker-exit", types.NetworkModeBridge, app, side), nil)
	stopped := w.waitStatus(arn, ecs.TaskStopped, time.Minute)
	if stopped.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(stopped.StoppedReason) != agent.ReasonEssentialExited {
		t.Errorf("stopCode %q reason %q; want EssentialContainerExited", stopped.StopCode, aws.ToString(stopped.StoppedReason))
	}
	if !exited(container(stopped, "app"), 5) {
		t.Errorf("containers %s; want app's exit code 5", describeContainers(stopped))
	}
	if c := container(stopped, "side"); aws.ToString(c.LastStatus) != ecs.ContainerStopped || c.ExitCode == nil {
		t.Errorf("containers %s; want side stopped with an exit code", describeContainers(stopped))
	}
}

// TestDockerDependsOnOrdering: a container waiting for another's SUCCESS
// starts only after it exited 0.
func TestDockerDependsOnOrdering(t *testing.T) {
	w := newWorld(t)
	a, image := w.startDockerAgent()
	initC := imageDef("init", image, "--port", "0", "--exit-after", "300ms")
	initC.Essential = aws.Bool(false)
	app := imageDef("app", image, "--port", "0")
	app.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
	arn := w.runTask(a, w.registerTD("docker-order", types.NetworkModeBridge, initC, app), nil)
	running := w.waitStatus(arn, ecs.TaskRunning, time.Minute)
	if !exited(container(running, "init"), 0) {
		t.Errorf("containers %s; want init STOPPED with exit 0 once the task runs", describeContainers(running))
	}
	cs := containersOf(t, a.driver, arn)
	if !cs["app"].StartedAt.After(cs["init"].FinishedAt) {
		t.Errorf("app started at %v, before init finished at %v", cs["app"].StartedAt, cs["init"].FinishedAt)
	}
}

// TestDockerPullFailureFailsTheTask: an image that cannot be pulled stops
// the task with TaskFailedToStart and CannotPullContainerError.
func TestDockerPullFailureFailsTheTask(t *testing.T) {
	w := newWorld(t)
	a, _ := w.startDockerAgent()
	missing := imageDef("app", "127.0.0.1:1/berth/no-such-image:1")
	arn := w.runTask(a, w.registerTD("docker-nopull", types.NetworkModeBridge, missing), nil)
	stopped := w.waitStatus(arn, ecs.TaskStopped, time.Minute)
	if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(stopped.StoppedReason), "CannotPullContainerError") {
		t.Errorf("stopCode %q reason %q; want TaskFailedToStart, CannotPullContainerError", stopped.StopCode, aws.ToString(stopped.StoppedReason))
	}
	if c := container(stopped, "app"); !strings.HasPrefix(aws.ToString(c.Reason), "CannotPullContainerError") {
		t.Errorf("containers %s; want app's reason CannotPullContainerError", describeContainers(stopped))
	}
}
