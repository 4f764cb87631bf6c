package agent_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/process"
	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/local"
)

func TestMain(m *testing.M) {
	process.RunShimIfRequested()
	os.Exit(m.Run())
}

// fastTimings make a local control plane notice things within a second or two.
var fastTimings = control.AgentTimings{
	PollInterval:    time.Second,
	HeartbeatWrite:  time.Second,
	DisconnectAfter: 10 * time.Second,
	LostAfter:       30 * time.Second,
	MaxWait:         3 * time.Second,
}

const testCluster = "agents"

// world is a local control plane with a cluster, driven through the SDK.
type world struct {
	t     *testing.T
	plane *local.Plane
	ecs   *sdkecs.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, fastTimings)
}

func newWorldWith(t *testing.T, timings control.AgentTimings) *world {
	t.Helper()
	p := testenv.Plane(t, local.Config{Timings: timings, TickEvery: 250 * time.Millisecond})
	w := &world{t: t, plane: p, ecs: testenv.ECS(p.Endpoint())}
	_, err := w.ecs.CreateCluster(context.Background(), &sdkecs.CreateClusterInput{ClusterName: aws.String(testCluster)})
	check(t, err)
	return w
}

// runningAgent is an agent started by a test, with its driver.
type runningAgent struct {
	*agent.Agent
	driver agent.Driver
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result, once done
}

// stop ends the agent as SIGTERM would, leaving its tasks running.
func (r *runningAgent) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("agent ended with an error: %v", r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not stop within 30s")
	}
}

// agentConfig is a test agent's configuration in dataDir.
func (w *world) agentConfig(dataDir string) agent.Config {
	cfg := agent.DefaultConfig()
	cfg.Endpoint = w.plane.Endpoint()
	cfg.Cluster = testCluster
	cfg.Driver = agent.DriverProcess
	cfg.DataDir = dataDir
	cfg.DisableIMDS = true
	cfg.AvailabilityZone = "us-east-1b"
	cfg.InstanceType = "test.large"
	cfg.CPUUnits, cfg.MemoryMiB = 4096, 8192
	cfg.PollWait = 2 * time.Second
	cfg.StopTimeout = 5 * time.Second
	cfg.CleanupWait = time.Hour
	cfg.HealthCheckScale = 0.1
	cfg.ResyncEvery = time.Second
	return cfg
}

// startAgent runs an agent with the process driver until the test ends.
func (w *world) startAgent(cfg agent.Config) *runningAgent {
	w.t.Helper()
	d, err := process.New(process.Options{Root: filepath.Join(cfg.DataDir, "process"), Logger: testenv.Logger(w.t)})
	check(w.t, err)
	return w.startAgentWith(cfg, d)
}

func (w *world) startAgentWith(cfg agent.Config, d agent.Driver) *runningAgent {
	w.t.Helper()
	a, err := agent.New(cfg, agent.Options{Driver: d, Logger: testenv.Logger(w.t).With("agent", cfg.DataDir), Version: "1.2.3"})
	check(w.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningAgent{Agent: a, driver: d, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = a.Run(ctx)
		close(r.done)
	}()
	w.t.Cleanup(func() {
		cancel()
		<-r.done
		removeAll(w.t, d)
	})
	select {
	case <-a.Ready():
	case <-r.done:
		w.t.Fatalf("agent stopped before it was ready: %v", r.err)
	case <-time.After(30 * time.Second):
		w.t.Fatal("agent not ready within 30s")
	}
	return r
}

// registerTD registers a task definition and returns its ARN.
func (w *world) registerTD(family string, networkMode types.NetworkMode, containers ...types.ContainerDefinition) string {
	w.t.Helper()
	out, err := w.ecs.RegisterTaskDefinition(context.Background(), &sdkecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: networkMode, ContainerDefinitions: containers,
	})
	check(w.t, err)
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// runTask starts a task of tdArn on the agent's instance (StartTask).
func (w *world) runTask(a *runningAgent, tdArn string, ov *types.TaskOverride) string {
	w.t.Helper()
	out, err := w.ecs.StartTask(context.Background(), &sdkecs.StartTaskInput{
		Cluster: aws.String(testCluster), ContainerInstances: []string{a.ContainerInstanceArn()},
		TaskDefinition: aws.String(tdArn), Overrides: ov,
	})
	check(w.t, err)
	if len(out.Tasks) != 1 {
		w.t.Fatalf("StartTask started %d tasks (failures %+v); want 1", len(out.Tasks), out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// stopTask calls StopTask.
func (w *world) stopTask(arn, reason string) {
	w.t.Helper()
	in := &sdkecs.StopTaskInput{Cluster: aws.String(testCluster), Task: aws.String(arn)}
	if reason != "" {
		in.Reason = aws.String(reason)
	}
	_, err := w.ecs.StopTask(context.Background(), in)
	check(w.t, err)
}

// task describes a task (DescribeTasks).
func (w *world) task(arn string) types.Task {
	w.t.Helper()
	out, err := w.ecs.DescribeTasks(context.Background(), &sdkecs.DescribeTasksInput{Cluster: aws.String(testCluster), Tasks: []string{arn}})
	check(w.t, err)
	if len(out.Tasks) != 1 {
		w.t.Fatalf("DescribeTasks found %d tasks (failures %+v); want 1", len(out.Tasks), out.Failures)
	}
	return out.Tasks[0]
}

// waitTask waits until the task satisfies cond and returns it.
func (w *world) waitTask(arn, what string, within time.Duration, cond func(types.Task) bool) types.Task {
	w.t.Helper()
	var last types.Task
	deadline := time.Now().Add(within)
	for {
		last = w.task(arn)
		if cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %v waiting for task %s to be %s; it is %s (desired %s, health %s, stopCode %q, reason %q, containers %s)",
				within, lastPart(arn), what, status(last), aws.ToString(last.DesiredStatus), last.HealthStatus, last.StopCode,
				aws.ToString(last.StoppedReason), describeContainers(last))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) waitStatus(arn, want string, within time.Duration) types.Task {
	w.t.Helper()
	return w.waitTask(arn, want, within, func(t types.Task) bool { return status(t) == want })
}

func status(t types.Task) string { return aws.ToString(t.LastStatus) }

func describeContainers(t types.Task) string {
	s := ""
	for _, c := range t.Containers {
		s += fmt.Sprintf("[%s %s exit=%s health=%s reason=%q] ", aws.ToString(c.Name), aws.ToString(c.LastStatus),
			exitText(c), c.HealthStatus, aws.ToString(c.Reason))
	}
	return s
}

func exitText(c types.Container) string {
	if c.ExitCode == nil {
		return "-"
	}
	return strconv.Itoa(int(*c.ExitCode))
}

// exited tells whether the container stopped with exit code want.
func exited(c types.Container, want int) bool {
	return aws.ToString(c.LastStatus) == ecs.ContainerStopped && c.ExitCode != nil && int(*c.ExitCode) == want
}

func container(t types.Task, name string) types.Container {
	for _, c := range t.Containers {
		if aws.ToString(c.Name) == name {
			return c
		}
	}
	return types.Container{}
}

// testappDef is a container running testapp as a host process.
func testappDef(name string, args ...string) types.ContainerDefinition {
	return types.ContainerDefinition{
		Name:       aws.String(name),
		Image:      aws.String("berth-testapp"),
		Memory:     aws.Int32(64),
		EntryPoint: []string{testappPath},
		Command:    args,
	}
}

// testappPath is the testapp binary, built by needTestapp.
var testappPath string

func needTestapp(t *testing.T) {
	t.Helper()
	testappPath = testimage.BinaryPath(t)
}

// get fetches a URL and returns the body.
func get(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	check(t, err)
	resp, err := http.DefaultClient.Do(req)
	check(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(t, err)
	return string(b)
}

func post(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	check(t, err)
	resp.Body.Close()
}

var pidPattern = regexp.MustCompile(`pid=(\d+)`)

// answer waits until a testapp listens on hostPort (a RUNNING task's
// process has started, but may not listen yet) and returns GET /'s body.
func answer(t *testing.T, hostPort int) string {
	t.Helper()
	var body string
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("testapp answering on port %d", hostPort), func() bool {
		var err error
		body, err = getErr(fmt.Sprintf("http://127.0.0.1:%d/", hostPort))
		return err == nil
	})
	return body
}

// pidOf asks a testapp for its process ID.
func pidOf(t *testing.T, hostPort int) int {
	t.Helper()
	body := answer(t, hostPort)
	m := pidPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("testapp answered %q, with no pid", body)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// hostPortOf is the host port bound to the container's first mapping.
func hostPortOf(t *testing.T, c types.Container) int {
	t.Helper()
	if len(c.NetworkBindings) == 0 || aws.ToInt32(c.NetworkBindings[0].HostPort) == 0 {
		t.Fatalf("container %s has no host port: %+v", aws.ToString(c.Name), c.NetworkBindings)
	}
	return int(aws.ToInt32(c.NetworkBindings[0].HostPort))
}

// containersOf lists the driver's containers of a task, by name.
func containersOf(t *testing.T, d agent.Driver, taskArn string) map[string]agent.ContainerState {
	t.Helper()
	all, err := d.List(context.Background())
	check(t, err)
	out := map[string]agent.ContainerState{}
	for _, c := range all {
		if c.TaskARN == taskArn {
			out[c.ContainerName] = c
		}
	}
	return out
}

func lastPart(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// getErr fetches a URL, returning the error instead of failing.
func getErr(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// consistently checks cond for the whole of d: it asserts that something
// does not happen.
func consistently(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// removeAll removes every container a driver manages, so a test leaves no
// process or container behind whatever state its tasks were in. A restarted
// agent shares its predecessor's driver state, so removing twice is fine.
func removeAll(t *testing.T, d agent.Driver) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	all, err := d.List(ctx)
	if err != nil {
		t.Errorf("list containers to clean up: %v", err)
		return
	}
	for _, c := range all {
		if err := d.Remove(ctx, c.ID); err != nil {
			t.Errorf("remove container %s: %v", c.ID, err)
		}
	}
}
