package docker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/drivertest"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/docker/docker/client"
)

type fixture struct {
	cli   *client.Client
	image string
	scope string
	d     *Driver
}

// newFixture gives each test its own scope, so tests (and test packages)
// running at once never see each other's containers, and removes the
// scope's containers when the test ends.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	cli, image := testimage.Image(t)
	f := &fixture{cli: cli, image: image, scope: "test-" + drivertest.RandomID()}
	f.d = f.driver(t)
	drivertest.RemoveAllAtCleanup(t, f.d)
	return f
}

func (f *fixture) driver(t *testing.T) *Driver {
	t.Helper()
	d, err := New(Options{Client: f.cli, Scope: f.scope})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) spec(args ...string) agent.ContainerSpec {
	return agent.ContainerSpec{
		TaskARN:       "arn:aws:ecs:us-east-1:123456789012:task/test/" + drivertest.RandomID(),
		Cluster:       "test",
		Family:        "testapp",
		Revision:      3,
		ContainerName: "app",
		Image:         f.image,
		Command:       args,
		Environment:   map[string]string{"PORT": "8080", "GREETING": "hello"},
		PortMappings:  []agent.PortMapping{{ContainerPort: 8080}},
	}
}

func hostPort(t *testing.T, st agent.ContainerState, containerPort int) int {
	t.Helper()
	for _, b := range st.NetworkBindings {
		if b.ContainerPort == containerPort && b.HostPort != 0 && b.BindIP == "0.0.0.0" {
			return b.HostPort
		}
	}
	t.Fatalf("no IPv4 binding for container port %d in %+v", containerPort, st.NetworkBindings)
	return 0
}

func TestInfoReportsEngineVersion(t *testing.T) {
	f := newFixture(t)
	info, err := f.d.Info(drivertest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Driver != "docker" || info.Version == "" || info.APIVersion == "" {
		t.Fatalf("info %+v lacks driver, version or API version", info)
	}
}

func TestRunServesOnDynamicHostPortWithLabelsAndLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec()
	spec.CPU = 256
	spec.MemoryMiB = 64
	spec.MemoryReservationMiB = 32
	spec.DockerLabels = map[string]string{"team": "berth", LabelTaskARN: "spoofed"}
	id := drivertest.Run(t, f.d, spec)

	st := drivertest.WaitState(t, f.d, id, "running", func(s agent.ContainerState) bool { return s.Status == agent.StatusRunning })
	if st.TaskARN != spec.TaskARN || st.ContainerName != "app" {
		t.Fatalf("state names %s/%s, want %s/app", st.TaskARN, st.ContainerName, spec.TaskARN)
	}
	if st.StartedAt.IsZero() || !strings.HasPrefix(st.ImageDigest, "sha256:") {
		t.Fatalf("state lacks start time or image digest: %+v", st)
	}
	port := hostPort(t, st, 8080)
	if port == 8080 {
		t.Fatalf("dynamic mapping got the container port %d as host port", port)
	}
	body := drivertest.WaitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	if !strings.Contains(body, "testapp ok") {
		t.Fatalf("GET / answered %q", body)
	}
	if got := drivertest.WaitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/env?name=GREETING", port)); got != "hello" {
		t.Fatalf("GREETING in the container is %q, want hello", got)
	}

	raw, err := f.cli.ContainerInspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		LabelTaskARN: spec.TaskARN, LabelContainerName: "app", LabelCluster: "test",
		LabelFamily: "testapp", LabelRevision: "3", LabelScope: f.scope, "team": "berth",
	}
	for k, v := range wantLabels {
		if raw.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, raw.Config.Labels[k], v)
		}
	}
	r := raw.HostConfig.Resources
	if r.CPUShares != 256 || r.Memory != 64<<20 || r.MemoryReservation != 32<<20 {
		t.Errorf("resources shares=%d memory=%d reservation=%d, want 256, 64 MiB, 32 MiB", r.CPUShares, r.Memory, r.MemoryReservation)
	}
	if raw.HostConfig.LogConfig.Type != "json-file" {
		t.Errorf("log driver %q, want json-file", raw.HostConfig.LogConfig.Type)
	}

	if err := f.d.Stop(drivertest.Context(t), id, 10*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	st = drivertest.WaitState(t, f.d, id, "exited", drivertest.Exited)
	if code := drivertest.ExitCode(t, st); code != 0 && code != 143 {
		t.Fatalf("well-behaved app exited %d on stop, want 0 or 143", code)
	}
	if st.FinishedAt.IsZero() || len(st.NetworkBindings) != 0 {
		t.Fatalf("exited state lacks finish time or keeps bindings: %+v", st)
	}
}

func TestCPUSharesHaveAMinimumOfTwo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id, err := f.d.Create(drivertest.Context(t), f.spec())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.cli.ContainerInspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if raw.HostConfig.CPUShares != 2 {
		t.Fatalf("cpu 0 gave %d shares, want 2", raw.HostConfig.CPUShares)
	}
	st, err := f.d.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != agent.StatusCreated || st.ExitCode != nil {
		t.Fatalf("created container state %+v", st)
	}
}

func TestHealthCheckTurnsHealthyThenUnhealthy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec()
	spec.HealthCheck = &agent.HealthCheck{
		Command:  []string{"CMD", testimage.AppPath, "check", "http://127.0.0.1:8080/health"},
		Interval: 200 * time.Millisecond,
		Timeout:  5 * time.Second,
		Retries:  2,
	}
	id := drivertest.Run(t, f.d, spec)
	st := drivertest.WaitState(t, f.d, id, "HEALTHY", func(s agent.ContainerState) bool { return s.HealthStatus == ecs.HealthHealthy })
	port := hostPort(t, st, 8080)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/health/fail", port), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	drivertest.WaitState(t, f.d, id, "UNHEALTHY", func(s agent.ContainerState) bool { return s.HealthStatus == ecs.HealthUnhealthy })
}

func TestNoHealthCheckMeansUnknown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := drivertest.Run(t, f.d, f.spec())
	st := drivertest.WaitState(t, f.d, id, "running", func(s agent.ContainerState) bool { return s.Status == agent.StatusRunning })
	if st.HealthStatus != ecs.HealthUnknown {
		t.Fatalf("health %q without a check, want UNKNOWN", st.HealthStatus)
	}
}

func TestStopKillsAnAppIgnoringSIGTERMAfterTheTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := drivertest.Run(t, f.d, f.spec("--ignore-sigterm"))
	st := drivertest.WaitState(t, f.d, id, "running", func(s agent.ContainerState) bool { return s.Status == agent.StatusRunning })
	// Once the app answers, it ignores SIGTERM.
	drivertest.WaitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/health", hostPort(t, st, 8080)))
	if err := f.d.Stop(drivertest.Context(t), id, time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	st = drivertest.WaitState(t, f.d, id, "exited", drivertest.Exited)
	if code := drivertest.ExitCode(t, st); code != 137 {
		t.Fatalf("app ignoring SIGTERM exited %d, want 137 (SIGKILL)", code)
	}
	if err := f.d.Stop(drivertest.Context(t), id, time.Second); err != nil {
		t.Fatalf("stopping an exited container: %v", err)
	}
}

func TestAppExitingOnItsOwnReportsItsCodeAndWakesTheAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := f.d.Events(ctx)

	id := drivertest.Run(t, f.d, f.spec("--exit-after=300ms", "--exit-code=3"))
	st := drivertest.WaitState(t, f.d, id, "exited", drivertest.Exited)
	if code := drivertest.ExitCode(t, st); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	if st.Reason != "" {
		t.Fatalf("normal exit has reason %q", st.Reason)
	}
	deadline := time.After(drivertest.WaitLimit)
	for {
		select {
		case got := <-events:
			if got == id {
				st, err := f.d.Inspect(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if st.Status == agent.StatusExited {
					return
				}
			}
		case <-deadline:
			t.Fatalf("no event for container %s after its exit", id)
		}
	}
}

func TestOOMKillIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec("--alloc-mib=256")
	spec.MemoryMiB = 16
	id := drivertest.Run(t, f.d, spec)
	st := drivertest.WaitState(t, f.d, id, "exited", drivertest.Exited)
	if st.Reason != ReasonOOM || drivertest.ExitCode(t, st) != 137 {
		t.Fatalf("OOM-killed container: reason %q exit %d, want %q and 137", st.Reason, drivertest.ExitCode(t, st), ReasonOOM)
	}
}

func TestFailedStartIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec()
	spec.EntryPoint = []string{"/no/such/binary"}
	ctx := drivertest.Context(t)
	id, err := f.d.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	err = f.d.Start(ctx, id)
	if err == nil || !strings.HasPrefix(err.Error(), "CannotStartContainerError") {
		t.Fatalf("start of a missing entrypoint: %v, want CannotStartContainerError", err)
	}
	st, err := f.d.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status == agent.StatusRunning || !strings.Contains(st.Reason, "no/such/binary") {
		t.Fatalf("state after failed start %+v, want a reason naming the entrypoint", st)
	}
}

func TestUnsupportedNetworkModeIsRejected(t *testing.T) {
	f := newFixture(t)
	spec := f.spec()
	spec.NetworkMode = "awsvpc"
	_, err := f.d.Create(drivertest.Context(t), spec)
	if err == nil || !strings.Contains(err.Error(), "awsvpc") {
		t.Fatalf("awsvpc create: %v, want an error naming the mode", err)
	}
}

func TestHostNetworkReportsContainerPorts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	port := freePort(t)
	spec := f.spec()
	spec.NetworkMode = agent.NetworkHost
	spec.Environment["PORT"] = fmt.Sprint(port)
	spec.PortMappings = []agent.PortMapping{{ContainerPort: port}}
	id := drivertest.Run(t, f.d, spec)
	st := drivertest.WaitState(t, f.d, id, "running", func(s agent.ContainerState) bool { return s.Status == agent.StatusRunning })
	if got := hostPort(t, st, port); got != port {
		t.Fatalf("host mode binding %d, want %d", got, port)
	}
	drivertest.WaitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/health", port))
}

func TestANewDriverAdoptsRunningContainers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec()
	id := drivertest.Run(t, f.d, spec)

	restarted := f.driver(t)
	all, err := restarted.List(drivertest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != id || all[0].TaskARN != spec.TaskARN || all[0].ContainerName != "app" || all[0].Status != agent.StatusRunning {
		t.Fatalf("new driver lists %+v, want the running container %s of %s", all, id, spec.TaskARN)
	}

	other, err := New(Options{Client: f.cli, Scope: "other-" + drivertest.RandomID()})
	if err != nil {
		t.Fatal(err)
	}
	if foreign, err := other.List(drivertest.Context(t)); err != nil || len(foreign) != 0 {
		t.Fatalf("a driver of another scope lists %+v (%v), want nothing", foreign, err)
	}

	if err := restarted.Remove(drivertest.Context(t), id); err != nil {
		t.Fatal(err)
	}
	if _, err := restarted.Inspect(drivertest.Context(t), id); !errors.Is(err, agent.ErrNotFound) {
		t.Fatalf("inspect after remove: %v, want ErrNotFound", err)
	}
	if err := restarted.Remove(drivertest.Context(t), id); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
}

func TestImagePresentLocallyIsNotPulled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A registry nobody listens on: only a pull would need it.
	local := "127.0.0.1:9/berth-present-" + drivertest.RandomID() + ":v1"
	if err := f.cli.ImageTag(drivertest.Context(t), f.image, local); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = f.cli.ImageRemove(context.Background(), local, imageRemoveOptions()) })
	spec := f.spec()
	spec.Image = local
	if _, err := f.d.Create(drivertest.Context(t), spec); err != nil {
		t.Fatalf("create from a local image tagged for an unreachable registry: %v", err)
	}
}

func TestAbsentImageInAnUnreachableRegistryFailsClearly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec()
	spec.Image = "127.0.0.1:9/berth-absent-" + drivertest.RandomID() + ":v1"
	_, err := f.d.Create(drivertest.Context(t), spec)
	if err == nil || !strings.HasPrefix(err.Error(), "CannotPullContainerError") || !strings.Contains(err.Error(), spec.Image) {
		t.Fatalf("create from an absent image: %v, want CannotPullContainerError naming %s", err, spec.Image)
	}
}

// TestUsageSamplesTheEngineStats: a running container's memory comes from
// the engine's stats; a removed one is not found.
func TestUsageSamplesTheEngineStats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := drivertest.Run(t, f.d, f.spec())
	u, err := f.d.Usage(context.Background(), id)
	if err != nil || u.MemoryBytes == 0 || u.At.IsZero() {
		t.Fatalf("usage of a running container = %+v, %v", u, err)
	}
	if err := f.d.Remove(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Usage(context.Background(), id); !errors.Is(err, agent.ErrNotFound) {
		t.Fatalf("usage of a removed container: %v", err)
	}
}
