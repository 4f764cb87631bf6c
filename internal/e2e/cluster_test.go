package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/docker"
	"github.com/berth-run/berth/agent/process"
	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/local"
)

// e2eTimings notice a silent agent within seconds.
var e2eTimings = control.AgentTimings{
	PollInterval:    time.Second,
	HeartbeatWrite:  500 * time.Millisecond,
	DisconnectAfter: 3 * time.Second,
	LostAfter:       8 * time.Second,
	MaxWait:         time.Second,
}

// cluster is `berth up` with process-driver agents started by the test, so
// one can be killed and restarted.
type cluster struct {
	t       *testing.T
	plane   *local.Plane
	ecs     *sdkecs.Client
	testapp string
}

func newCluster(t *testing.T, name string) *cluster {
	t.Helper()
	p := testenv.Plane(t, local.Config{Timings: e2eTimings, TickEvery: 250 * time.Millisecond})
	c := &cluster{t: t, plane: p, ecs: testenv.ECS(p.Endpoint()), testapp: testimage.BinaryPath(t)}
	_, err := c.ecs.CreateCluster(context.Background(), &sdkecs.CreateClusterInput{ClusterName: aws.String(name)})
	check(t, err)
	return c
}

// hostAgent is an agent the test runs.
type hostAgent struct {
	*agent.Agent
	cancel context.CancelFunc
	done   chan struct{}
}

// kill ends the agent at once, leaving its tasks running, as if its host
// had dropped off the network.
func (h *hostAgent) kill() {
	h.cancel()
	<-h.done
}

func (c *cluster) startAgent(clusterName, dataDir, zone, instanceType string) *hostAgent {
	c.t.Helper()
	cfg := c.agentConfig(clusterName, dataDir, zone, instanceType)
	d, err := process.New(process.Options{Root: filepath.Join(dataDir, "process"), Logger: testenv.Logger(c.t)})
	check(c.t, err)
	return c.run(cfg, d)
}

// startDockerAgent runs an agent with the Docker driver, in its own scope.
func (c *cluster) startDockerAgent(clusterName, dataDir, zone string) *hostAgent {
	c.t.Helper()
	cfg := c.agentConfig(clusterName, dataDir, zone, "t3.medium")
	cfg.Driver, cfg.DockerScope = agent.DriverDocker, "e2e-"+filepath.Base(dataDir)
	d, err := docker.New(docker.Options{Scope: cfg.DockerScope, Logger: testenv.Logger(c.t)})
	check(c.t, err)
	return c.run(cfg, d)
}

func (c *cluster) agentConfig(clusterName, dataDir, zone, instanceType string) agent.Config {
	cfg := agent.DefaultConfig()
	cfg.Endpoint, cfg.Cluster, cfg.Driver, cfg.DataDir = c.plane.Endpoint(), clusterName, agent.DriverProcess, dataDir
	cfg.DisableIMDS = true
	cfg.AvailabilityZone, cfg.InstanceType = zone, instanceType
	cfg.CPUUnits, cfg.MemoryMiB = 4096, 4096
	cfg.PollWait, cfg.ResyncEvery = time.Second, time.Second
	cfg.StopTimeout = 5 * time.Second
	cfg.HealthCheckScale = 0.1
	return cfg
}

func (c *cluster) run(cfg agent.Config, d agent.Driver) *hostAgent {
	c.t.Helper()
	a, err := agent.New(cfg, agent.Options{Driver: d, Logger: testenv.Logger(c.t)})
	check(c.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	h := &hostAgent{Agent: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		_ = a.Run(ctx)
	}()
	c.t.Cleanup(func() {
		h.kill()
		removeContainers(c.t, d)
	})
	select {
	case <-a.Ready():
	case <-h.done:
		c.t.Fatal("agent stopped before registering")
	case <-time.After(30 * time.Second):
		c.t.Fatal("agent did not register within 30s")
	}
	return h
}

// testapp is a task definition's container running the test app as a host
// process, serving HTTP on a dynamic host port.
func (c *cluster) testappContainer(name string) types.ContainerDefinition {
	return types.ContainerDefinition{
		Name: aws.String(name), Image: aws.String("berth-testapp"), Memory: aws.Int32(64),
		EntryPoint:   []string{c.testapp},
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		StopTimeout:  aws.Int32(5),
	}
}

func (c *cluster) describeTasks(clusterName string, arns []string) []types.Task {
	c.t.Helper()
	out, err := c.tryDescribeTasks(clusterName, arns)
	check(c.t, err)
	return out
}

func (c *cluster) tryDescribeTasks(clusterName string, arns []string) ([]types.Task, error) {
	var out []types.Task
	for start := 0; start < len(arns); start += 100 {
		d, err := c.ecs.DescribeTasks(context.Background(), &sdkecs.DescribeTasksInput{Cluster: aws.String(clusterName), Tasks: arns[start:min(start+100, len(arns))]})
		if err != nil {
			return nil, err
		}
		out = append(out, d.Tasks...)
	}
	return out, nil
}

// waitTasks polls until every task satisfies cond. A poll that fails is
// polled again (the last error is reported if the deadline passes).
func (c *cluster) waitTasks(clusterName string, arns []string, what string, within time.Duration, cond func(types.Task) bool) []types.Task {
	c.t.Helper()
	var tasks []types.Task
	var lastErr error
	defer func() {
		if c.t.Failed() && lastErr != nil {
			c.t.Logf("last DescribeTasks error while waiting: %v", lastErr)
		}
	}()
	testenv.Eventually(c.t, within, what, func() bool {
		var err error
		if tasks, err = c.tryDescribeTasks(clusterName, arns); err != nil {
			lastErr = err
			return false
		}
		for _, task := range tasks {
			if !cond(task) {
				return false
			}
		}
		return len(tasks) == len(arns)
	})
	return tasks
}

func lastStatus(want string) func(types.Task) bool {
	return func(t types.Task) bool { return aws.ToString(t.LastStatus) == want }
}

// removeContainers removes (killing if need be) every container a driver
// manages, so no test leaves processes or containers behind, whatever the
// state its tasks were left in.
func removeContainers(t *testing.T, d agent.Driver) {
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
