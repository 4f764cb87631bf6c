package local_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/process"
	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/local"
)

func TestMain(m *testing.M) {
	process.RunShimIfRequested()
	os.Exit(m.Run())
}

// TestUpRunsAgentsAcrossZones: `berth up --agents 3` registers three
// instances in the default cluster, one per zone, each with its share.
func TestUpRunsAgentsAcrossZones(t *testing.T) {
	dir := t.TempDir()
	p := testenv.Plane(t, local.Config{DataDir: dir, Agents: local.AgentsConfig{Count: 3, CPUUnits: 1024, MemoryMiB: 2048, Version: "9.9.9"}})
	if n := len(p.Agents()); n != 3 {
		t.Fatalf("%d agents; want 3", n)
	}
	var arns []string
	for i, a := range p.Agents() {
		arns = append(arns, a.ContainerInstanceArn())
		if _, err := os.Stat(fmt.Sprintf("%s/agents/%d", dir, i)); err != nil {
			t.Errorf("agent %d has no data directory: %v", i, err)
		}
	}
	out, err := testenv.ECS(p.Endpoint()).DescribeContainerInstances(context.Background(), &sdkecs.DescribeContainerInstancesInput{
		Cluster: aws.String("default"), ContainerInstances: arns,
	})
	if err != nil {
		t.Fatal(err)
	}
	var zones []string
	for _, ci := range out.ContainerInstances {
		attrs := map[string]string{}
		for _, a := range ci.Attributes {
			attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
		zones = append(zones, attrs["ecs.availability-zone"])
		if attrs["ecs.instance-type"] != agent.LocalInstanceType {
			t.Errorf("instance type %q; want %s", attrs["ecs.instance-type"], agent.LocalInstanceType)
		}
		for _, r := range ci.RegisteredResources {
			if aws.ToString(r.Name) == "CPU" && r.IntegerValue != 1024 || aws.ToString(r.Name) == "MEMORY" && r.IntegerValue != 2048 {
				t.Errorf("registered %s = %d; want the configured share", aws.ToString(r.Name), r.IntegerValue)
			}
		}
		if aws.ToString(ci.VersionInfo.AgentVersion) != "9.9.9" || !ci.AgentConnected {
			t.Errorf("agent version %q connected %v; want 9.9.9, connected", aws.ToString(ci.VersionInfo.AgentVersion), ci.AgentConnected)
		}
	}
	sort.Strings(zones)
	if fmt.Sprint(zones) != "[us-east-1a us-east-1b us-east-1c]" {
		t.Errorf("zones %v; want one agent in each of us-east-1a, b and c", zones)
	}
}

func TestUpRefusesAnUnknownDriver(t *testing.T) {
	_, err := local.Start(local.Config{DataDir: t.TempDir(), Logger: testenv.Logger(t), Agents: local.AgentsConfig{Count: 1, Driver: "podman"}})
	if err == nil || !regexp.MustCompile(`podman`).MatchString(err.Error()) {
		t.Fatalf("Start with driver podman: %v; want an error naming it", err)
	}
}

// TestShutdownLeavesTasksRunningForTheNextUp: stopping `berth up` stops its
// agents but not their tasks; the next `berth up` on the same data adopts
// them.
func TestShutdownLeavesTasksRunningForTheNextUp(t *testing.T) {
	bin := testimage.BinaryPath(t)
	dir := t.TempDir()
	cfg := local.Config{DataDir: dir, Logger: testenv.Logger(t), Agents: local.AgentsConfig{Count: 1, CPUUnits: 1024, MemoryMiB: 1024}}
	p, err := local.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.ECS(p.Endpoint())
	td, err := c.RegisterTaskDefinition(context.Background(), &sdkecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("testapp"), Memory: aws.Int32(32), EntryPoint: []string{bin},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StartTask(context.Background(), &sdkecs.StartTaskInput{
		ContainerInstances: []string{p.Agents()[0].ContainerInstanceArn()}, TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
	})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("StartTask: %v (failures %+v)", err, out)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	running := waitStatus(t, p, arn, "RUNNING")
	port := int(aws.ToInt32(running.Containers[0].NetworkBindings[0].HostPort))
	pid := pidOf(t, port)

	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := pidOf(t, port); got != pid {
		t.Fatalf("after shutdown the task's pid is %s, was %s", got, pid)
	}

	p, err = local.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	if got := pidOf(t, port); got != pid {
		t.Fatalf("after the next berth up the task's pid is %s, was %s", got, pid)
	}
	if _, err := testenv.ECS(p.Endpoint()).StopTask(context.Background(), &sdkecs.StopTaskInput{Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	stopped := waitStatus(t, p, arn, "STOPPED")
	if code := stopped.Containers[0].ExitCode; code == nil || *code != 0 {
		t.Fatalf("the adopted task stopped with exit code %v; want 0", code)
	}
}

func waitStatus(t *testing.T, p *local.Plane, arn, status string) types.Task {
	t.Helper()
	var task types.Task
	c := testenv.ECS(p.Endpoint())
	testenv.Eventually(t, 30*time.Second, "task "+status, func() bool {
		out, err := c.DescribeTasks(context.Background(), &sdkecs.DescribeTasksInput{Tasks: []string{arn}})
		if err != nil || len(out.Tasks) != 1 {
			return false
		}
		task = out.Tasks[0]
		return aws.ToString(task.LastStatus) == status
	})
	return task
}

var pidPattern = regexp.MustCompile(`pid=(\d+)`)

func pidOf(t *testing.T, port int) string {
	t.Helper()
	var pid string
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("testapp answering on port %d", port), func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := pidPattern.FindStringSubmatch(string(b))
		if m != nil {
			pid = m[1]
		}
		return m != nil
	})
	return pid
}
