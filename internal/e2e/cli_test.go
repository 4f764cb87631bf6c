package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/local"
)

// awsCLI runs the real aws CLI against endpoint and decodes its JSON output.
type awsCLI struct {
	t        *testing.T
	bin      string
	endpoint string
}

func newCLI(t *testing.T, endpoint string) *awsCLI {
	return &awsCLI{t: t, bin: testenv.NeedCommand(t, "aws"), endpoint: endpoint}
}

// run executes `aws <args> --endpoint-url ... --output json`; it returns the
// decoded output, or the CLI's stderr when the call fails.
func (c *awsCLI) run(args ...string) (map[string]any, string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(args, "--endpoint-url", c.endpoint, "--output", "json")...)
	cmd.Env = testenv.CLIEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, stderr.String()
	}
	var v map[string]any
	if len(strings.TrimSpace(string(out))) > 0 {
		if err := json.Unmarshal(out, &v); err != nil {
			c.t.Fatalf("aws %s: output is not JSON: %s", strings.Join(args, " "), out)
		}
	}
	return v, ""
}

func (c *awsCLI) ok(args ...string) map[string]any {
	c.t.Helper()
	v, stderr := c.run(args...)
	if stderr != "" {
		c.t.Fatalf("aws %s failed: %s", strings.Join(args, " "), stderr)
	}
	return v
}

func (c *awsCLI) fails(errorName string, args ...string) {
	c.t.Helper()
	_, stderr := c.run(args...)
	if !strings.Contains(stderr, errorName) {
		c.t.Fatalf("aws %s: want %s, got %q", strings.Join(args, " "), errorName, stderr)
	}
}

// path walks decoded JSON: path(v, "cluster", "status").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// TestAWSCLISpine drives the spine the way a new user would, with the real
// aws CLI against `berth up`.
func TestAWSCLISpine(t *testing.T) {
	p := testenv.Plane(t, local.Config{})
	spineThroughCLI(t, p.Endpoint())
}

// spineThroughCLI is the spine issue's user workflow, with the real aws CLI.
func spineThroughCLI(t *testing.T, endpoint string) {
	aws := newCLI(t, endpoint)
	dir := t.TempDir()

	if got := path(aws.ok("ecs", "create-cluster", "--cluster-name", "web"), "cluster", "status"); got != "ACTIVE" {
		t.Fatalf("create-cluster status = %v", got)
	}
	desc := aws.ok("ecs", "describe-clusters", "--clusters", "web", "missing")
	if path(desc, "clusters", 0, "clusterName") != "web" || path(desc, "failures", 0, "reason") != "MISSING" ||
		path(desc, "failures", 0, "arn") != "arn:aws:ecs:us-east-1:000000000000:cluster/missing" {
		t.Errorf("describe-clusters = %v", desc)
	}

	tdFile := filepath.Join(dir, "td.json")
	writeFile(t, tdFile, `{
  "family": "web",
  "networkMode": "bridge",
  "containerDefinitions": [{
    "name": "app", "image": "berth-testapp:latest", "memory": 128, "essential": true,
    "portMappings": [{"containerPort": 8080, "hostPort": 0}],
    "environment": [{"name": "MODE", "value": "cli"}],
    "healthCheck": {"command": ["CMD", "/testapp", "check", "http://127.0.0.1:8080/health"], "interval": 5}
  }]
}`)
	if rev := path(aws.ok("ecs", "register-task-definition", "--cli-input-json", "file://"+tdFile), "taskDefinition", "revision"); rev != 1.0 {
		t.Fatalf("first revision = %v", rev)
	}
	if rev := path(aws.ok("ecs", "register-task-definition", "--cli-input-json", "file://"+tdFile), "taskDefinition", "revision"); rev != 2.0 {
		t.Fatalf("second revision = %v", rev)
	}
	if rev := path(aws.ok("ecs", "describe-task-definition", "--task-definition", "web"), "taskDefinition", "revision"); rev != 2.0 {
		t.Errorf("describe by family = revision %v, want 2", rev)
	}
	byRev := aws.ok("ecs", "describe-task-definition", "--task-definition", "web:1")
	if path(byRev, "taskDefinition", "revision") != 1.0 || path(byRev, "taskDefinition", "containerDefinitions", 0, "healthCheck", "interval") != 5.0 {
		t.Errorf("describe web:1 = %v", byRev)
	}
	if arns := path(aws.ok("ecs", "list-task-definitions"), "taskDefinitionArns").([]any); len(arns) != 2 {
		t.Errorf("list-task-definitions = %v", arns)
	}

	ci := aws.ok("ecs", "register-container-instance", "--cluster", "web",
		"--total-resources", `[{"name":"CPU","type":"INTEGER","integerValue":2048},{"name":"MEMORY","type":"INTEGER","integerValue":3900},{"name":"PORTS","type":"STRINGSET","stringSetValue":["22","2375"]}]`,
		"--attributes", "name=ecs.instance-type,value=t2.small", "name=ecs.availability-zone,value=us-east-1a")
	ciArn, _ := path(ci, "containerInstance", "containerInstanceArn").(string)
	if !strings.HasPrefix(ciArn, "arn:aws:ecs:us-east-1:000000000000:container-instance/web/") {
		t.Fatalf("register-container-instance = %v", ci)
	}
	if arns := path(aws.ok("ecs", "list-container-instances", "--cluster", "web"), "containerInstanceArns").([]any); len(arns) != 1 || arns[0] != ciArn {
		t.Errorf("list-container-instances = %v", arns)
	}
	described := aws.ok("ecs", "describe-container-instances", "--cluster", "web", "--container-instances", ciArn)
	if path(described, "containerInstances", 0, "remainingResources", 0, "integerValue") != 2048.0 {
		t.Errorf("describe-container-instances = %v", described)
	}
	drained := aws.ok("ecs", "update-container-instances-state", "--cluster", "web", "--container-instances", ciArn, "--status", "DRAINING")
	if path(drained, "containerInstances", 0, "status") != "DRAINING" {
		t.Errorf("update-container-instances-state = %v", drained)
	}
	aws.ok("ecs", "put-attributes", "--cluster", "web", "--attributes", "name=stack,value=prod,targetId="+ciArn)
	attrs := aws.ok("ecs", "list-attributes", "--cluster", "web", "--target-type", "container-instance", "--attribute-name", "stack")
	if path(attrs, "attributes", 0, "value") != "prod" || path(attrs, "attributes", 0, "targetId") != ciArn {
		t.Errorf("list-attributes = %v", attrs)
	}
	clusterArn := "arn:aws:ecs:us-east-1:000000000000:cluster/web"
	aws.ok("ecs", "tag-resource", "--resource-arn", clusterArn, "--tags", "key=team,value=core")
	tags := aws.ok("ecs", "list-tags-for-resource", "--resource-arn", clusterArn)
	if path(tags, "tags", 0, "key") != "team" || path(tags, "tags", 0, "value") != "core" {
		t.Errorf("list-tags-for-resource = %v", tags)
	}
	aws.fails("ClusterContainsContainerInstancesException", "ecs", "delete-cluster", "--cluster", "web")
	aws.fails("ClusterNotFoundException", "ecs", "list-container-instances", "--cluster", "missing")
	aws.fails("InvalidParameterException", "ecs", "list-container-instances", "--cluster", "web", "--filter", "attribute:ecs.instance-type equalz t2.small")
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAWSCLIRunTask runs tasks with the real aws CLI, with a memberOf
// constraint and a spread strategy, on process-driver agents.
func TestAWSCLIRunTask(t *testing.T) {
	c := newCluster(t, "cli")
	aws := newCLI(t, c.plane.Endpoint())
	small := c.startAgent("cli", t.TempDir(), "us-east-1a", "t3.small")
	large := c.startAgent("cli", t.TempDir(), "us-east-1b", "m5.large")
	for itype, want := range map[string]string{"t3.small": small.ContainerInstanceArn(), "m5.large": large.ContainerInstanceArn()} {
		got := aws.ok("ecs", "list-container-instances", "--cluster", "cli", "--filter", "attribute:ecs.instance-type == "+itype)
		if arns, _ := path(got, "containerInstanceArns").([]any); len(arns) != 1 || arns[0] != want {
			t.Errorf("filter on %s = %v, want exactly %s", itype, arns, want)
		}
	}
	tdFile := filepath.Join(t.TempDir(), "td.json")
	writeFile(t, tdFile, fmt.Sprintf(`{"family": "cli", "containerDefinitions": [{"name": "app", "image": "berth-testapp",
  "memory": 64, "entryPoint": [%q], "portMappings": [{"containerPort": 8080}], "stopTimeout": 5}]}`, c.testapp))
	aws.ok("ecs", "register-task-definition", "--cli-input-json", "file://"+tdFile)

	run := aws.ok("ecs", "run-task", "--cluster", "cli", "--task-definition", "cli", "--count", "2",
		"--placement-constraints", "type=memberOf,expression=attribute:ecs.instance-type == t3.small",
		"--placement-strategy", "type=spread,field=attribute:ecs.availability-zone")
	tasks, _ := path(run, "tasks").([]any)
	if len(tasks) != 2 {
		t.Fatalf("run-task = %v", run)
	}
	var arns []string
	for i := range tasks {
		if path(run, "tasks", i, "containerInstanceArn") != small.ContainerInstanceArn() {
			t.Errorf("task %d placed on %v, want the t3.small instance", i, path(run, "tasks", i, "containerInstanceArn"))
		}
		arns = append(arns, path(run, "tasks", i, "taskArn").(string))
	}
	c.waitTasks("cli", arns, "the CLI's tasks RUNNING", 30*time.Second, lastStatus("RUNNING"))
	desc := aws.ok(append([]string{"ecs", "describe-tasks", "--cluster", "cli", "--tasks"}, arns...)...)
	if path(desc, "tasks", 0, "lastStatus") != "RUNNING" || path(desc, "tasks", 0, "containers", 0, "networkBindings", 0, "hostPort") == nil {
		t.Errorf("describe-tasks = %v", desc)
	}
	none := aws.ok("ecs", "run-task", "--cluster", "cli", "--task-definition", "cli",
		"--placement-constraints", "type=memberOf,expression=attribute:ecs.instance-type == x9.huge")
	if path(none, "failures", 0, "reason") != "ATTRIBUTE" {
		t.Errorf("impossible run-task = %v", none)
	}
	aws.fails("InvalidParameterException", "ecs", "run-task", "--cluster", "cli", "--task-definition", "cli", "--count", "11")
	aws.ok("ecs", "stop-task", "--cluster", "cli", "--task", arns[0], "--reason", "cli")
	c.waitTasks("cli", arns[:1], "the stopped task STOPPED", 15*time.Second, lastStatus("STOPPED"))
}

// TestAWSCLIServices drives a service's life through the real aws CLI:
// create-service, describe-services, update-service (scale and deploy),
// delete-service.
func TestAWSCLIServices(t *testing.T) {
	c := newCluster(t, svcCluster)
	aws := newCLI(t, c.plane.Endpoint())
	c.startAgent(svcCluster, t.TempDir(), "us-east-1a", "t3.small")
	c.startAgent(svcCluster, t.TempDir(), "us-east-1b", "t3.small")
	v1 := c.register("web", c.healthyApp("1"))
	v2 := c.register("web", c.healthyApp("2"))

	created := aws.ok("ecs", "create-service", "--cluster", svcCluster, "--service-name", "web", "--task-definition", "web:1",
		"--desired-count", "2", "--deployment-configuration", "maximumPercent=200,minimumHealthyPercent=50,deploymentCircuitBreaker={enable=true,rollback=true}")
	if path(created, "service", "status") != "ACTIVE" || path(created, "service", "deployments", 0, "rolloutState") != "IN_PROGRESS" {
		t.Fatalf("create-service = %v", created)
	}
	c.steady("web", v1, 60*time.Second)
	desc := aws.ok("ecs", "describe-services", "--cluster", svcCluster, "--services", "web", "missing")
	if path(desc, "services", 0, "runningCount") != 2.0 || path(desc, "failures", 0, "reason") != "MISSING" {
		t.Errorf("describe-services = %v", desc)
	}
	aws.ok("ecs", "update-service", "--cluster", svcCluster, "--service", "web", "--desired-count", "3")
	c.steady("web", v1, 60*time.Second)
	aws.ok("ecs", "update-service", "--cluster", svcCluster, "--service", "web", "--task-definition", "web:2")
	if s := c.steady("web", v2, 90*time.Second); s.RunningCount != 3 {
		t.Errorf("after deploy running %d", s.RunningCount)
	}
	aws.fails("ServiceNotFoundException", "ecs", "update-service", "--cluster", svcCluster, "--service", "ghost", "--desired-count", "1")
	aws.fails("InvalidParameterException", "ecs", "delete-service", "--cluster", svcCluster, "--service", "web")
	deleted := aws.ok("ecs", "delete-service", "--cluster", svcCluster, "--service", "web", "--force")
	if path(deleted, "service", "status") != "DRAINING" {
		t.Errorf("delete-service = %v", path(deleted, "service", "status"))
	}
	testenv.Eventually(t, 60*time.Second, "the service INACTIVE", func() bool {
		return path(aws.ok("ecs", "describe-services", "--cluster", svcCluster, "--services", "web"), "services", 0, "status") == "INACTIVE"
	})
}
