package process

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/drivertest"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/ecs"
)

func TestMain(m *testing.M) {
	RunShimIfRequested()
	os.Exit(m.Run())
}

type fixture struct {
	root string
	app  string
	d    *Driver
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir(), app: testimage.BinaryPath(t)}
	f.d = f.driver(t)
	drivertest.RemoveAllAtCleanup(t, f.d)
	return f
}

// driver makes a new driver on the fixture's state root: what an agent
// restart does.
func (f *fixture) driver(t *testing.T) *Driver {
	t.Helper()
	d, err := New(Options{Root: f.root})
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
		Revision:      1,
		ContainerName: "app",
		EntryPoint:    []string{f.app},
		Command:       args,
		Environment:   map[string]string{"GREETING": "hello"},
		PortMappings:  []agent.PortMapping{{ContainerPort: 8080}},
	}
}

func binding(t *testing.T, st agent.ContainerState, containerPort int) int {
	t.Helper()
	for _, b := range st.NetworkBindings {
		if b.ContainerPort == containerPort {
			return b.HostPort
		}
	}
	t.Fatalf("no binding for container port %d in %+v", containerPort, st.NetworkBindings)
	return 0
}

// waitReady waits until the app answers HTTP: its signal handling is then
// in place.
func (f *fixture) waitReady(t *testing.T, id string) {
	t.Helper()
	st, err := f.d.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	drivertest.WaitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/health", binding(t, st, 8080)))
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// processOf reads the container's PID from its record, as an operator
// looking at the host would find it.
func (f *fixture) processOf(t *testing.T, id string) record {
	t.Helper()
	dir, err := f.d.dirOf(id)
	if err != nil {
		t.Fatal(err)
	}
	var rec record
	if err := readJSON(dir, stateFile, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.PID == 0 || rec.ShimPID == 0 {
		t.Fatalf("record has no pids: %+v", rec)
	}
	return rec
}

func TestRunPassesPortsAndEnvironment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	static := freeTCPPort(t)
	spec := f.spec()
	spec.PortMappings = []agent.PortMapping{{ContainerPort: 8080}, {ContainerPort: 9090, HostPort: static}}
	id := drivertest.Run(t, f.d, spec)

	st, err := f.d.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if !drivertest.Running(st) || st.TaskARN != spec.TaskARN || st.ContainerName != "app" || st.StartedAt.IsZero() {
		t.Fatalf("state right after Start: %+v, want running with names and start time", st)
	}
	dynamic := binding(t, st, 8080)
	if dynamic == 0 || dynamic == 8080 {
		t.Fatalf("dynamic mapping got host port %d", dynamic)
	}
	if got := binding(t, st, 9090); got != static {
		t.Fatalf("static mapping got host port %d, want %d", got, static)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", dynamic)
	if body := drivertest.WaitHTTP(t, base+"/"); !strings.Contains(body, "testapp ok") {
		t.Fatalf("GET / answered %q", body)
	}
	wantEnv := map[string]string{
		"PORT": strconv.Itoa(dynamic), "PORT_8080": strconv.Itoa(dynamic), "PORT_9090": strconv.Itoa(static), "GREETING": "hello",
	}
	for name, want := range wantEnv {
		if got := drivertest.WaitHTTP(t, base+"/env?name="+name); got != want {
			t.Errorf("%s = %q in the process, want %q", name, got, want)
		}
	}

	if err := f.d.Stop(drivertest.Context(t), id, 10*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	st, err = f.d.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if !drivertest.Exited(st) || drivertest.ExitCode(t, st) != 0 || st.FinishedAt.IsZero() || len(st.NetworkBindings) != 0 {
		t.Fatalf("state after Stop: %+v, want exited 0 with a finish time and no bindings", st)
	}
	stdout, _, err := f.d.LogFiles(id)
	if err != nil {
		t.Fatal(err)
	}
	logged, err := os.ReadFile(stdout)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logged), "env: GREETING=hello") {
		t.Fatalf("stdout log lacks the environment the app printed:\n%s", logged)
	}
}

func TestSIGKILLedProcessExits137(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := drivertest.Run(t, f.d, f.spec())
	rec := f.processOf(t, id)
	if err := syscall.Kill(rec.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := drivertest.WaitState(t, f.d, id, "exited", drivertest.Exited)
	if code := drivertest.ExitCode(t, st); code != 137 {
		t.Fatalf("SIGKILLed process exit code %d, want 137", code)
	}
}

func TestStopKillsAnAppIgnoringSIGTERMAfterTheTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := drivertest.Run(t, f.d, f.spec("--ignore-sigterm"))
	f.waitReady(t, id)
	if err := f.d.Stop(drivertest.Context(t), id, 300*time.Millisecond); err != nil {
		t.Fatalf("stop: %v", err)
	}
	st, err := f.d.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if !drivertest.Exited(st) || drivertest.ExitCode(t, st) != 137 {
		t.Fatalf("after Stop: %+v, want exited 137", st)
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
	id := drivertest.Run(t, f.d, f.spec("--exit-after=200ms", "--exit-code=3"))
	waitEventUntil(t, events, f.d, id, drivertest.Exited)
	st, err := f.d.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if drivertest.ExitCode(t, st) != 3 || st.Reason != "" {
		t.Fatalf("state %+v, want exit code 3 without a reason", st)
	}
}

// waitEventUntil reads events until one for id finds the container in the
// wanted state.
func waitEventUntil(t *testing.T, events <-chan string, d agent.Driver, id string, ok func(agent.ContainerState) bool) {
	t.Helper()
	deadline := time.After(drivertest.WaitLimit)
	for {
		select {
		case got, open := <-events:
			if !open {
				t.Fatal("events closed")
			}
			if got != id {
				continue
			}
			st, err := d.Inspect(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if ok(st) {
				return
			}
		case <-deadline:
			t.Fatalf("no event brought container %s to the wanted state", id)
		}
	}
}

func TestHealthCheckWithShellTurnsHealthyThenUnhealthy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec()
	spec.Environment["TESTAPP"] = f.app
	spec.HealthCheck = &agent.HealthCheck{
		Command:  []string{"CMD-SHELL", `"$TESTAPP" check "http://127.0.0.1:$PORT/health"`},
		Interval: 100 * time.Millisecond,
		Timeout:  5 * time.Second,
		Retries:  2,
	}
	id := drivertest.Run(t, f.d, spec)
	st, err := f.d.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.HealthStatus != ecs.HealthUnknown {
		t.Fatalf("health %q before any probe, want UNKNOWN", st.HealthStatus)
	}
	st = drivertest.WaitState(t, f.d, id, "HEALTHY", func(s agent.ContainerState) bool { return s.HealthStatus == ecs.HealthHealthy })
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/health/fail", binding(t, st, 8080)), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	drivertest.WaitState(t, f.d, id, "UNHEALTHY", func(s agent.ContainerState) bool { return s.HealthStatus == ecs.HealthUnhealthy })
}

func TestHealthCheckWithArgvRunsDirectly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	port := freeTCPPort(t)
	spec := f.spec()
	spec.PortMappings = []agent.PortMapping{{ContainerPort: 8080, HostPort: port}}
	spec.HealthCheck = &agent.HealthCheck{
		Command:  []string{"CMD", f.app, "check", fmt.Sprintf("http://127.0.0.1:%d/health", port)},
		Interval: 100 * time.Millisecond,
		Timeout:  5 * time.Second,
		Retries:  1,
	}
	id := drivertest.Run(t, f.d, spec)
	drivertest.WaitState(t, f.d, id, "HEALTHY", func(s agent.ContainerState) bool { return s.HealthStatus == ecs.HealthHealthy })
}

func TestANewDriverAdoptsRunningContainersAndLearnsTheirExit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec()
	id := drivertest.Run(t, f.d, spec)
	stubborn := drivertest.Run(t, f.d, f.spec("--ignore-sigterm"))
	f.waitReady(t, id)
	f.waitReady(t, stubborn)

	restarted := f.driver(t)
	all, err := restarted.List(drivertest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]agent.ContainerState{}
	for _, c := range all {
		found[c.ID] = c
	}
	if c := found[id]; len(all) != 2 || !drivertest.Running(c) || c.TaskARN != spec.TaskARN || c.ContainerName != "app" || len(c.NetworkBindings) != 1 {
		t.Fatalf("the new driver lists %+v, want both containers running, %s with its names and binding", all, id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := restarted.Events(ctx)

	// An adopted process ends on its own: the new driver, which is not the
	// shim's parent, still learns the code.
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/exit?code=7", binding(t, found[id], 8080)), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitEventUntil(t, events, restarted, id, drivertest.Exited)
	st, err := restarted.Inspect(drivertest.Context(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if code := drivertest.ExitCode(t, st); code != 7 {
		t.Fatalf("adopted process exited %d, want 7", code)
	}

	// And it can stop what it adopted, with the timeout honoured.
	if err := restarted.Stop(drivertest.Context(t), stubborn, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	st, err = restarted.Inspect(drivertest.Context(t), stubborn)
	if err != nil {
		t.Fatal(err)
	}
	if !drivertest.Exited(st) || drivertest.ExitCode(t, st) != 137 {
		t.Fatalf("adopted stubborn container after Stop: %+v, want exited 137", st)
	}
}

func TestALostShimIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := drivertest.Run(t, f.d, f.spec())
	rec := f.processOf(t, id)
	t.Cleanup(func() { _ = syscall.Kill(-rec.PID, syscall.SIGKILL) })
	if err := syscall.Kill(rec.ShimPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := drivertest.WaitState(t, f.d, id, "exited", drivertest.Exited)
	if st.Reason != ReasonShimLost || st.ExitCode != nil {
		t.Fatalf("state after the shim was killed: %+v, want reason %q and no exit code", st, ReasonShimLost)
	}
}

func TestStartFailureIsReported(t *testing.T) {
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
	if err == nil || !strings.HasPrefix(err.Error(), "CannotStartContainerError") || !strings.Contains(err.Error(), "/no/such/binary") {
		t.Fatalf("start of a missing program: %v, want CannotStartContainerError naming it", err)
	}
	st, err := f.d.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !drivertest.Exited(st) || !strings.Contains(st.Reason, "/no/such/binary") {
		t.Fatalf("state after a failed start %+v, want exited with the cause", st)
	}
	if err := f.d.Start(ctx, id); err == nil {
		t.Fatal("a second Start of a container that failed to start succeeded")
	}
}

func TestCreateRejectsWhatItCannotRun(t *testing.T) {
	f := newFixture(t)
	cases := map[string]func(*agent.ContainerSpec){
		"nothing to run":     func(s *agent.ContainerSpec) { s.EntryPoint, s.Command = nil, nil },
		"awsvpc":             func(s *agent.ContainerSpec) { s.NetworkMode = "awsvpc" },
		"none with ports":    func(s *agent.ContainerSpec) { s.NetworkMode = agent.NetworkNone },
		"no task ARN":        func(s *agent.ContainerSpec) { s.TaskARN = "" },
		"bad container port": func(s *agent.ContainerSpec) { s.PortMappings[0].ContainerPort = 70000 },
		"bad protocol":       func(s *agent.ContainerSpec) { s.PortMappings[0].Protocol = "sctp" },
		"unknown user":       func(s *agent.ContainerSpec) { s.User = "no-such-user-" + drivertest.RandomID() },
	}
	for name, change := range cases {
		spec := f.spec()
		change(&spec)
		if _, err := f.d.Create(drivertest.Context(t), spec); err == nil || !strings.HasPrefix(err.Error(), "CannotCreateContainerError") {
			t.Errorf("%s: create gave %v, want CannotCreateContainerError", name, err)
		}
	}
	all, err := f.d.List(drivertest.Context(t))
	if err != nil || len(all) != 0 {
		t.Fatalf("rejected specs left containers: %+v (%v)", all, err)
	}
}

func TestRemoveKillsAndForgets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := f.spec("--ignore-sigterm")
	id := drivertest.Run(t, f.d, spec)
	f.waitReady(t, id)
	rec := f.processOf(t, id)
	if err := f.d.Remove(drivertest.Context(t), id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Inspect(drivertest.Context(t), id); !errors.Is(err, agent.ErrNotFound) {
		t.Fatalf("inspect after remove: %v, want ErrNotFound", err)
	}
	if err := syscall.Kill(rec.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still exists after Remove (signal 0: %v)", rec.PID, err)
	}
	if _, err := os.Stat(filepath.Join(f.root, "tasks", taskDirName(spec.TaskARN))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the task's directory outlived its only container: %v", err)
	}
	if err := f.d.Remove(drivertest.Context(t), id); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := f.d.Inspect(drivertest.Context(t), "../../etc"); !errors.Is(err, agent.ErrNotFound) {
		t.Fatalf("inspect of a path-like id: %v, want ErrNotFound", err)
	}
}

func TestInfo(t *testing.T) {
	f := newFixture(t)
	info, err := f.d.Info(drivertest.Context(t))
	if err != nil || info.Driver != "process" || info.Version == "" {
		t.Fatalf("info %+v (%v)", info, err)
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("a driver without a state root was made")
	}
}

// TestUsageMeasuresTheRunningProcess: a running container's CPU time and
// memory come from its process; an exited one cannot be measured.
func TestUsageMeasuresTheRunningProcess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := drivertest.Run(t, f.d, f.spec("--burn-cpu=0.5"))
	u, err := f.d.Usage(context.Background(), id)
	if err != nil || u.MemoryBytes == 0 || u.At.IsZero() {
		t.Fatalf("usage of a running container = %+v, %v", u, err)
	}
	rec := f.processOf(t, id)
	if err := syscall.Kill(rec.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	drivertest.WaitState(t, f.d, id, "exited", drivertest.Exited)
	if _, err := f.d.Usage(context.Background(), id); !errors.Is(err, agent.ErrNotRunning) {
		t.Fatalf("usage of an exited container: %v", err)
	}
}
