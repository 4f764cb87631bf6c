package agent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
)

// TestRegistrationShowsResourcesAndAttributes: a registered agent's
// resources, attributes and versions are what DescribeContainerInstances
// shows, and re-registering after a restart keeps the instance.
func TestRegistrationShowsResourcesAndAttributes(t *testing.T) {
	w := newWorld(t)
	cfg := w.agentConfig(t.TempDir())
	cfg.InstanceAttributes = map[string]string{"stack": "blue"}
	cfg.ReservedPorts = []int{22, 8443}
	cfg.ReservedPortsUDP = []int{161}
	cfg.ReservedMemoryMiB = 192
	a := w.startAgent(cfg)

	out, err := w.ecs.DescribeContainerInstances(context.Background(), &sdkecs.DescribeContainerInstancesInput{
		Cluster: aws.String(testCluster), ContainerInstances: []string{a.ContainerInstanceArn()},
	})
	check(t, err)
	if len(out.ContainerInstances) != 1 {
		t.Fatalf("want 1 instance, got %d (failures %v)", len(out.ContainerInstances), out.Failures)
	}
	ci := out.ContainerInstances[0]
	if !ci.AgentConnected || aws.ToString(ci.Status) != "ACTIVE" {
		t.Errorf("instance connected=%v status=%s; want connected ACTIVE", ci.AgentConnected, aws.ToString(ci.Status))
	}
	res := map[string]types.Resource{}
	for _, r := range ci.RegisteredResources {
		res[aws.ToString(r.Name)] = r
	}
	if got := res["CPU"].IntegerValue; got != 4096 {
		t.Errorf("CPU = %d, want 4096", got)
	}
	if got := res["MEMORY"].IntegerValue; got != 8192-192 {
		t.Errorf("MEMORY = %d, want %d (8192 less the 192 reserved)", got, 8192-192)
	}
	if got := res["PORTS"].StringSetValue; !slices.Equal(got, []string{"22", "8443"}) {
		t.Errorf("PORTS = %v, want [22 8443]", got)
	}
	if got := res["PORTS_UDP"].StringSetValue; !slices.Equal(got, []string{"161"}) {
		t.Errorf("PORTS_UDP = %v, want [161]", got)
	}
	attrs := map[string]string{}
	for _, at := range ci.Attributes {
		attrs[aws.ToString(at.Name)] = aws.ToString(at.Value)
	}
	for name, want := range map[string]string{
		"ecs.availability-zone": "us-east-1b", "ecs.instance-type": "test.large", "ecs.os-type": "linux",
		"ecs.os-family": "LINUX", "ecs.cpu-architecture": archOf(), "stack": "blue",
	} {
		if attrs[name] != want {
			t.Errorf("attribute %s = %q, want %q", name, attrs[name], want)
		}
	}
	if _, ok := attrs["ecs.capability.container-health-check"]; !ok {
		t.Errorf("attribute ecs.capability.container-health-check missing: %v", attrs)
	}
	if v := ci.VersionInfo; v == nil || aws.ToString(v.AgentVersion) != "1.2.3" || aws.ToString(v.DockerVersion) == "" {
		t.Errorf("versionInfo = %+v; want agentVersion 1.2.3 and the driver's version", v)
	}

	arn := a.ContainerInstanceArn()
	a.stop(t)
	again := w.startAgent(cfg)
	if again.ContainerInstanceArn() != arn {
		t.Errorf("after a restart the agent registered %s; want the same instance %s", again.ContainerInstanceArn(), arn)
	}
}

func archOf() string {
	return map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
}

// TestDeregisteredInstanceRegistersAfreshOnRestart: an agent whose
// instance was deregistered stops with ErrDeregistered, and on restart
// registers a new instance.
func TestDeregisteredInstanceRegistersAfreshOnRestart(t *testing.T) {
	w := newWorld(t)
	cfg := w.agentConfig(t.TempDir())
	a := w.startAgent(cfg)
	old := a.ContainerInstanceArn()
	_, err := w.ecs.DeregisterContainerInstance(context.Background(), &sdkecs.DeregisterContainerInstanceInput{
		Cluster: aws.String(testCluster), ContainerInstance: aws.String(old), Force: aws.Bool(true),
	})
	check(t, err)
	select {
	case <-a.done:
		if !errors.Is(a.err, agent.ErrDeregistered) {
			t.Fatalf("Run returned %v; want ErrDeregistered", a.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the agent did not notice it was deregistered")
	}
	b := w.startAgent(cfg)
	if b.ContainerInstanceArn() == old || b.ContainerInstanceArn() == "" {
		t.Fatalf("after deregistration the agent registered %q; want a new instance", b.ContainerInstanceArn())
	}
}

// TestTaskRunsServesOnDynamicPortAndStops: a task reaches RUNNING with an
// ephemeral host port that answers HTTP; StopTask stops it within its stop
// timeout and reports the exit code.
func TestTaskRunsServesOnDynamicPortAndStops(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	a := w.startAgent(w.agentConfig(t.TempDir()))
	web := testappDef("web", "--term-delay", "300ms")
	web.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}}
	web.Environment = []types.KeyValuePair{{Name: aws.String("GREETING"), Value: aws.String("hello")}}
	web.StopTimeout = aws.Int32(5)
	td := w.registerTD("web", types.NetworkModeBridge, web)
	ov := &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
		Name: aws.String("web"), Environment: []types.KeyValuePair{{Name: aws.String("GREETING"), Value: aws.String("overridden")}},
	}}}
	arn := w.runTask(a, td, ov)

	running := w.waitStatus(arn, ecs.TaskRunning, 20*time.Second)
	c := container(running, "web")
	port := hostPortOf(t, c)
	if body := answer(t, port); !strings.Contains(body, "testapp ok") {
		t.Fatalf("GET / on host port %d answered %q", port, body)
	}
	if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/env?name=GREETING", port)); got != "overridden" {
		t.Errorf("GREETING = %q; want the override's value", got)
	}
	if aws.ToString(c.LastStatus) != ecs.ContainerRunning || aws.ToString(c.RuntimeId) == "" {
		t.Errorf("container is %s with runtime id %q; want RUNNING with an id", aws.ToString(c.LastStatus), aws.ToString(c.RuntimeId))
	}
	if running.StartedAt == nil || running.PullStartedAt == nil || running.PullStoppedAt == nil {
		t.Errorf("startedAt=%v pullStartedAt=%v pullStoppedAt=%v; want all set", running.StartedAt, running.PullStartedAt, running.PullStoppedAt)
	}

	w.stopTask(arn, "test says stop")
	stopped := w.waitStatus(arn, ecs.TaskStopped, 10*time.Second)
	if !exited(container(stopped, "web"), 0) {
		t.Errorf("container %s; want STOPPED with exit code 0 (testapp exits 0 on SIGTERM)", describeContainers(stopped))
	}
	if stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "test says stop" {
		t.Errorf("stopCode %q reason %q; want the StopTask's", stopped.StopCode, aws.ToString(stopped.StoppedReason))
	}
	if stopped.StoppingAt == nil || stopped.ExecutionStoppedAt == nil {
		t.Errorf("stoppingAt=%v executionStoppedAt=%v; want both set", stopped.StoppingAt, stopped.ExecutionStoppedAt)
	}
	if _, err := getErr(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
		t.Errorf("the stopped task still answers on port %d", port)
	}
}

// TestStopTimeoutEscalatesToSIGKILL: a container ignoring SIGTERM is
// killed once its stopTimeout has passed and exits 137.
func TestStopTimeoutEscalatesToSIGKILL(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	a := w.startAgent(w.agentConfig(t.TempDir()))
	stubborn := testappDef("stubborn", "--ignore-sigterm", "--port", "0")
	stubborn.StopTimeout = aws.Int32(2)
	arn := w.runTask(a, w.registerTD("stubborn", types.NetworkModeBridge, stubborn), nil)
	w.waitStatus(arn, ecs.TaskRunning, 20*time.Second)
	w.stopTask(arn, "")
	stopped := w.waitStatus(arn, ecs.TaskStopped, 10*time.Second)
	if !exited(container(stopped, "stubborn"), 137) {
		t.Errorf("containers %s; want exit code 137 (SIGKILL after the stop timeout)", describeContainers(stopped))
	}
	took := stopped.ExecutionStoppedAt.Sub(*stopped.StoppingAt)
	if took < 1900*time.Millisecond {
		t.Errorf("stopped %v after stopping began; the 2s stopTimeout was not honoured", took)
	}
}

// TestKilledProcessStopsTaskWithExitCode137: SIGKILL of an essential
// container's process stops the task: EssentialContainerExited, exit 137.
func TestKilledProcessStopsTaskWithExitCode137(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	a := w.startAgent(w.agentConfig(t.TempDir()))
	app := testappDef("app")
	app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	side := testappDef("side", "--port", "0")
	side.Essential = aws.Bool(false)
	arn := w.runTask(a, w.registerTD("killed", types.NetworkModeBridge, app, side), nil)
	running := w.waitStatus(arn, ecs.TaskRunning, 20*time.Second)
	pid := pidOf(t, hostPortOf(t, container(running, "app")))
	check(t, syscall.Kill(pid, syscall.SIGKILL))

	stopped := w.waitStatus(arn, ecs.TaskStopped, 20*time.Second)
	if !exited(container(stopped, "app"), 137) {
		t.Errorf("containers %s; want app's exit code 137", describeContainers(stopped))
	}
	if !exited(container(stopped, "side"), 0) {
		t.Errorf("containers %s; want side stopped (exit 0 on SIGTERM) with the task", describeContainers(stopped))
	}
	if stopped.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(stopped.StoppedReason) != agent.ReasonEssentialExited {
		t.Errorf("stopCode %q reason %q; want EssentialContainerExited, %q", stopped.StopCode, aws.ToString(stopped.StoppedReason), agent.ReasonEssentialExited)
	}
}

// TestAgentRestartAdoptsRunningTasks: a restarted agent adopts a running
// task (same process, same start) instead of restarting it, and can still
// stop it.
func TestAgentRestartAdoptsRunningTasks(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	cfg := w.agentConfig(t.TempDir())
	a := w.startAgent(cfg)
	app := testappDef("app")
	app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	arn := w.runTask(a, w.registerTD("adopt", types.NetworkModeBridge, app), nil)
	before := w.waitStatus(arn, ecs.TaskRunning, 20*time.Second)
	port := hostPortOf(t, container(before, "app"))
	pid := pidOf(t, port)
	started := containersOf(t, a.driver, arn)["app"].StartedAt

	a.stop(t)
	if got := pidOf(t, port); got != pid {
		t.Fatalf("the task's process changed while the agent was down: %d, was %d", got, pid)
	}
	b := w.startAgent(cfg)
	if b.ContainerInstanceArn() != a.ContainerInstanceArn() {
		t.Fatalf("restarted agent is instance %s, was %s", b.ContainerInstanceArn(), a.ContainerInstanceArn())
	}
	// Through two resync periods of the new agent, nothing may move.
	consistently(t, 2*b.Config().ResyncEvery, "the task's process staying the same", func() bool { return pidOf(t, port) == pid })
	if got := containersOf(t, b.driver, arn)["app"].StartedAt; !got.Equal(started) {
		t.Fatalf("container start time %v, was %v", got, started)
	}
	if got := w.task(arn); status(got) != ecs.TaskRunning || !got.StartedAt.Equal(*before.StartedAt) || got.Version != before.Version {
		t.Fatalf("task is %s (version %d) started %v; want still RUNNING since %v, unchanged (version %d)",
			status(got), got.Version, got.StartedAt, before.StartedAt, before.Version)
	}

	w.stopTask(arn, "after restart")
	stopped := w.waitStatus(arn, ecs.TaskStopped, 10*time.Second)
	if !exited(container(stopped, "app"), 0) {
		t.Errorf("containers %s; want exit 0", describeContainers(stopped))
	}
}

// TestOrphanedContainersAreStoppedAndRemoved: when the control plane
// declares a silent agent's host lost, it stops the host's tasks; the
// agent, back, stops and removes their containers.
func TestOrphanedContainersAreStoppedAndRemoved(t *testing.T) {
	needTestapp(t)
	w := newWorldWith(t, control.AgentTimings{
		PollInterval: time.Second, HeartbeatWrite: 200 * time.Millisecond, MaxWait: time.Second,
		DisconnectAfter: 2 * time.Second, LostAfter: 4 * time.Second,
	})
	cfg := w.agentConfig(t.TempDir())
	cfg.PollWait = time.Second
	a := w.startAgent(cfg)
	app := testappDef("app")
	app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	arn := w.runTask(a, w.registerTD("orphan", types.NetworkModeBridge, app), nil)
	running := w.waitStatus(arn, ecs.TaskRunning, 20*time.Second)
	port := hostPortOf(t, container(running, "app"))
	pidOf(t, port)
	a.stop(t)

	lost := w.waitStatus(arn, ecs.TaskStopped, 30*time.Second)
	if !strings.Contains(aws.ToString(lost.StoppedReason), "Host lost") {
		t.Fatalf("task stopped with reason %q; want the host declared lost", aws.ToString(lost.StoppedReason))
	}
	if _, err := getErr(fmt.Sprintf("http://127.0.0.1:%d/", port)); err != nil {
		t.Fatalf("the task's process should still run while its agent is away: %v", err)
	}
	b := w.startAgent(cfg)
	testenv.Eventually(t, 20*time.Second, "the orphaned task's containers removed from the host", func() bool {
		return len(containersOf(t, b.driver, arn)) == 0
	})
	if _, err := getErr(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
		t.Errorf("the orphaned task still answers on port %d", port)
	}
}

// TestDependsOnOrdersStartAndStop: a container waits for its
// dependencies (SUCCESS of an init container, HEALTHY of a database) and
// the task stops in reverse order.
func TestDependsOnOrdersStartAndStop(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	a := w.startAgent(w.agentConfig(t.TempDir()))
	initC := testappDef("init", "--port", "0", "--exit-after", "300ms")
	initC.Essential = aws.Bool(false)
	db := testappDef("db", "--unhealthy")
	db.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	db.HealthCheck = &types.HealthCheck{
		Command:  []string{"CMD-SHELL", testappPath + " check http://127.0.0.1:$PORT/health"},
		Interval: aws.Int32(5), Timeout: aws.Int32(5), Retries: aws.Int32(1),
	}
	app := testappDef("app", "--port", "0")
	app.DependsOn = []types.ContainerDependency{
		{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess},
		{ContainerName: aws.String("db"), Condition: types.ContainerConditionHealthy},
	}
	arn := w.runTask(a, w.registerTD("ordered", types.NetworkModeBridge, initC, db, app), nil)

	// init succeeded and db runs, but db is not healthy: app must wait.
	waiting := w.waitTask(arn, "init stopped and db running", 20*time.Second, func(t types.Task) bool {
		return exited(container(t, "init"), 0) && aws.ToString(container(t, "db").LastStatus) == ecs.ContainerRunning
	})
	if c := containersOf(t, a.driver, arn)["app"]; c.Status == agent.StatusRunning {
		t.Fatalf("app started before db was healthy")
	}
	if status(waiting) != ecs.TaskPending {
		t.Fatalf("task is %s while app waits; want PENDING", status(waiting))
	}
	dbPort := hostPortOf(t, container(waiting, "db"))
	answer(t, dbPort)
	post(t, fmt.Sprintf("http://127.0.0.1:%d/health/ok", dbPort))

	running := w.waitStatus(arn, ecs.TaskRunning, 20*time.Second)
	if running.HealthStatus != types.HealthStatusHealthy {
		t.Errorf("task health %s; want HEALTHY (its one checked essential container is)", running.HealthStatus)
	}
	cs := containersOf(t, a.driver, arn)
	if !cs["app"].StartedAt.After(cs["init"].FinishedAt) {
		t.Errorf("app started at %v, before init finished at %v", cs["app"].StartedAt, cs["init"].FinishedAt)
	}

	w.stopTask(arn, "")
	w.waitStatus(arn, ecs.TaskStopped, 20*time.Second)
	cs = containersOf(t, a.driver, arn)
	if cs["db"].FinishedAt.Before(cs["app"].FinishedAt) {
		t.Errorf("db finished at %v, before app (which depends on it) at %v", cs["db"].FinishedAt, cs["app"].FinishedAt)
	}
}

// TestUnsatisfiableDependencyFailsTheTask: a dependency that can never be
// met (SUCCESS of a container exiting 3) fails the task with the reason.
func TestUnsatisfiableDependencyFailsTheTask(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	a := w.startAgent(w.agentConfig(t.TempDir()))
	initC := testappDef("init", "--port", "0", "--exit-after", "100ms", "--exit-code", "3")
	initC.Essential = aws.Bool(false)
	app := testappDef("app", "--port", "0")
	app.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
	arn := w.runTask(a, w.registerTD("doomed", types.NetworkModeBridge, initC, app), nil)
	stopped := w.waitStatus(arn, ecs.TaskStopped, 20*time.Second)
	if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(stopped.StoppedReason), "exit code 3") {
		t.Errorf("stopCode %q reason %q; want TaskFailedToStart naming init's exit code 3", stopped.StopCode, aws.ToString(stopped.StoppedReason))
	}
	if !exited(container(stopped, "init"), 3) {
		t.Errorf("containers %s; want init's exit code 3", describeContainers(stopped))
	}
	if c := container(stopped, "app"); aws.ToString(c.LastStatus) != ecs.ContainerStopped || !containersOf(t, a.driver, arn)["app"].StartedAt.IsZero() {
		t.Errorf("containers %s; app must be STOPPED without ever having run", describeContainers(stopped))
	}
}

// TestContainerFailingToStartFailsTheTask: an entryPoint that does not
// exist stops the task with TaskFailedToStart and the start error.
func TestContainerFailingToStartFailsTheTask(t *testing.T) {
	w := newWorld(t)
	a := w.startAgent(w.agentConfig(t.TempDir()))
	bad := types.ContainerDefinition{Name: aws.String("bad"), Image: aws.String("none"), Memory: aws.Int32(16),
		EntryPoint: []string{"/no/such/program"}}
	arn := w.runTask(a, w.registerTD("bad", types.NetworkModeBridge, bad), nil)
	stopped := w.waitStatus(arn, ecs.TaskStopped, 20*time.Second)
	if stopped.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(stopped.StoppedReason), "CannotStartContainerError") {
		t.Errorf("stopCode %q reason %q; want TaskFailedToStart with CannotStartContainerError", stopped.StopCode, aws.ToString(stopped.StoppedReason))
	}
	if c := container(stopped, "bad"); aws.ToString(c.LastStatus) != ecs.ContainerStopped || aws.ToString(c.Reason) == "" {
		t.Errorf("containers %s; want bad STOPPED with a reason", describeContainers(stopped))
	}
}

// TestFailingHealthCheckMakesTaskUnhealthy: an essential container whose
// health check fails turns the task UNHEALTHY (a standalone task keeps running).
func TestFailingHealthCheckMakesTaskUnhealthy(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	a := w.startAgent(w.agentConfig(t.TempDir()))
	app := testappDef("app", "--unhealthy")
	app.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	app.HealthCheck = &types.HealthCheck{
		Command:  []string{"CMD-SHELL", testappPath + " check http://127.0.0.1:$PORT/health"},
		Interval: aws.Int32(5), Timeout: aws.Int32(5), Retries: aws.Int32(1),
	}
	arn := w.runTask(a, w.registerTD("sick", types.NetworkModeBridge, app), nil)
	sick := w.waitTask(arn, "UNHEALTHY", 20*time.Second, func(t types.Task) bool { return t.HealthStatus == types.HealthStatusUnhealthy })
	if status(sick) != ecs.TaskRunning || container(sick, "app").HealthStatus != types.HealthStatusUnhealthy {
		t.Errorf("task %s, containers %s; want RUNNING with app UNHEALTHY", status(sick), describeContainers(sick))
	}
}

// TestTaskCleanupRemovesContainersAfterTheWait: a task whose essential
// container exits stops, and its containers go once the cleanup wait passed.
func TestTaskCleanupRemovesContainersAfterTheWait(t *testing.T) {
	needTestapp(t)
	w := newWorld(t)
	cfg := w.agentConfig(t.TempDir())
	cfg.CleanupWait = 500 * time.Millisecond
	a := w.startAgent(cfg)
	arn := w.runTask(a, w.registerTD("brief", types.NetworkModeBridge, testappDef("brief", "--port", "0", "--exit-after", "100ms")), nil)
	stopped := w.waitStatus(arn, ecs.TaskStopped, 20*time.Second)
	if stopped.StopCode != types.TaskStopCodeEssentialContainerExited {
		t.Errorf("stopCode %q; want EssentialContainerExited", stopped.StopCode)
	}
	dir := filepath.Join(cfg.DataDir, "process", "tasks", lastPart(arn))
	testenv.Eventually(t, 20*time.Second, "the stopped task's containers and directory removed after the cleanup wait", func() bool {
		_, err := os.Stat(dir)
		return len(containersOf(t, a.driver, arn)) == 0 && os.IsNotExist(err)
	})
}
