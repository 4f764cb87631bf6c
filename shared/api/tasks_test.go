package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/shared/api"
	"github.com/berth-run/berth/shared/control"
	becs "github.com/berth-run/berth/shared/ecs"
)

type ecsNetworkBinding = becs.NetworkBinding

// agentCall speaks the agent protocol over HTTP, as an agent does.
func agentCall(t *testing.T, endpoint, action string, in, out any) (status int, errType string) {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", api.AgentPrefix+"."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(raw, &e)
		return resp.StatusCode, e.Type
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
	return 200, ""
}

type taskFixture struct {
	c         *ecs.Client
	endpoint  string
	instances []string
}

func newTaskFixture(t *testing.T) taskFixture {
	c, p := newClient(t)
	ctx := context.Background()
	must(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("web")}))(t)
	must(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("x"), Memory: aws.Int32(512),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}}))(t)
	must(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("static"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("x"), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(8080)}}}}}))(t)
	f := taskFixture{c: c, endpoint: p.Endpoint()}
	for _, az := range []string{"us-east-1a", "us-east-1b"} {
		out := must(c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("web"),
			TotalResources: []types.Resource{
				{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
				{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 2048},
			},
			Attributes: []types.Attribute{{Name: aws.String("ecs.availability-zone"), Value: aws.String(az)},
				{Name: aws.String("ecs.instance-type"), Value: aws.String("t3.small")}}}))(t)
		f.instances = append(f.instances, aws.ToString(out.ContainerInstance.ContainerInstanceArn))
	}
	return f
}

func (f taskFixture) remainingMemory(t *testing.T, instance string) int32 {
	out := must(f.c.DescribeContainerInstances(context.Background(), &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String("web"), ContainerInstances: []string{instance}}))(t)
	return resource(out.ContainerInstances[0].RemainingResources, "MEMORY").IntegerValue
}

func TestSDKRunTaskPlacesAndReserves(t *testing.T) {
	f := newTaskFixture(t)
	ctx := context.Background()
	run := must(f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"), Count: aws.Int32(4),
		StartedBy: aws.String("tester"), PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}}))(t)
	if len(run.Tasks) != 4 || len(run.Failures) != 0 {
		t.Fatalf("run = %d tasks, failures %+v", len(run.Tasks), run.Failures)
	}
	perInstance := map[string]int{}
	for _, task := range run.Tasks {
		perInstance[aws.ToString(task.ContainerInstanceArn)]++
		if aws.ToString(task.LastStatus) != "PENDING" || aws.ToString(task.DesiredStatus) != "RUNNING" || aws.ToString(task.Group) != "family:web" ||
			aws.ToString(task.StartedBy) != "tester" || len(task.Containers) != 1 || aws.ToString(task.Memory) != "512" || task.CreatedAt == nil {
			t.Errorf("task = %+v", task)
		}
	}
	if perInstance[f.instances[0]] != 2 || perInstance[f.instances[1]] != 2 {
		t.Errorf("spread across AZs = %v", perInstance)
	}
	if got := f.remainingMemory(t, f.instances[0]); got != 2048-2*512 {
		t.Errorf("remaining memory = %d", got)
	}
	full := must(f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"), Count: aws.Int32(5)}))(t)
	if len(full.Tasks) != 4 || len(full.Failures) != 1 || aws.ToString(full.Failures[0].Reason) != "RESOURCE:MEMORY" {
		t.Errorf("overfull run = %d tasks, failures %+v", len(full.Tasks), full.Failures)
	}

	list := must(f.c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("web"), Family: aws.String("web")}))(t)
	if len(list.TaskArns) != 8 {
		t.Errorf("listed %d tasks", len(list.TaskArns))
	}
	byInstance := must(f.c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("web"), ContainerInstance: aws.String(f.instances[1])}))(t)
	byStarter := must(f.c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("web"), StartedBy: aws.String("tester")}))(t)
	pending := must(f.c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("web"), DesiredStatus: types.DesiredStatusPending}))(t)
	if len(byInstance.TaskArns) != 4 || len(byStarter.TaskArns) != 4 || len(pending.TaskArns) != 8 {
		t.Errorf("by instance %d, by startedBy %d, pending %d", len(byInstance.TaskArns), len(byStarter.TaskArns), len(pending.TaskArns))
	}
	desc := must(f.c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("web"), Tasks: []string{aws.ToString(run.Tasks[0].TaskArn), "0123456789abcdef0123456789abcdef", aws.ToString(run.Tasks[0].TaskArn)}}))(t)
	if len(desc.Tasks) != 1 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" {
		t.Errorf("describe = %+v / %+v", desc.Tasks, desc.Failures)
	}
}

func TestSDKRunTaskConstraintsAndPorts(t *testing.T) {
	f := newTaskFixture(t)
	ctx := context.Background()
	static := must(f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("static"), Count: aws.Int32(3)}))(t)
	if len(static.Tasks) != 2 || len(static.Failures) != 1 || aws.ToString(static.Failures[0].Reason) != "RESOURCE:PORTS" {
		t.Errorf("static port: %d tasks, failures %+v", len(static.Tasks), static.Failures)
	}
	member := must(f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.availability-zone == us-east-1b")}}}))(t)
	if len(member.Tasks) != 1 || aws.ToString(member.Tasks[0].ContainerInstanceArn) != f.instances[1] {
		t.Errorf("memberOf placement = %+v", member.Tasks)
	}
	impossible := must(f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.instance-type == p4d.24xlarge")}}}))(t)
	if len(impossible.Tasks) != 0 || len(impossible.Failures) != 1 || aws.ToString(impossible.Failures[0].Reason) != "ATTRIBUTE" ||
		aws.ToString(impossible.Failures[0].Detail) != "MemberOf placement constraint unsatisfied." {
		t.Errorf("impossible memberOf = %+v", impossible.Failures)
	}
	_, err := f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:x ==")}}})
	wantError[*types.InvalidParameterException](t, err)
	for _, n := range []int32{0, 11} {
		_, err = f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"), Count: aws.Int32(n)})
		wantError[*types.InvalidParameterException](t, err)
	}
	_, err = f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("nope"), TaskDefinition: aws.String("web")})
	wantError[*types.ClusterNotFoundException](t, err)
	_, err = f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("ghost")})
	wantError[*types.ClientException](t, err)

	started := must(f.c.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"),
		ContainerInstances: []string{f.instances[0], "0123456789abcdef0123456789abcdef"}}))(t)
	if len(started.Tasks) != 1 || aws.ToString(started.Tasks[0].ContainerInstanceArn) != f.instances[0] ||
		len(started.Failures) != 1 || aws.ToString(started.Failures[0].Reason) != "MISSING" {
		t.Errorf("start = %+v / %+v", started.Tasks, started.Failures)
	}
}

func TestSDKRunTaskClientToken(t *testing.T) {
	f := newTaskFixture(t)
	ctx := context.Background()
	in := &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"), Count: aws.Int32(2), ClientToken: aws.String("once")}
	first := must(f.c.RunTask(ctx, in))(t)
	again := must(f.c.RunTask(ctx, in))(t)
	arns := func(ts []types.Task) []string {
		var out []string
		for _, task := range ts {
			out = append(out, aws.ToString(task.TaskArn))
		}
		slices.Sort(out)
		return out
	}
	if len(first.Tasks) != 2 || !slices.Equal(arns(first.Tasks), arns(again.Tasks)) {
		t.Errorf("retry with the same token started new tasks: %v vs %v", arns(first.Tasks), arns(again.Tasks))
	}
	in.Count = aws.Int32(3)
	_, err := f.c.RunTask(ctx, in)
	wantError[*types.ConflictException](t, err)
}

func TestAgentReportsDriveTheLifecycle(t *testing.T) {
	f := newTaskFixture(t)
	ctx := context.Background()
	run := must(f.c.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"), ContainerInstances: []string{f.instances[0]}}))(t)
	arn := aws.ToString(run.Tasks[0].TaskArn)

	var poll control.PollOutput
	agentCall(t, f.endpoint, "Poll", control.PollInput{ProtocolVersion: 1, Cluster: "web", ContainerInstanceArn: f.instances[0]}, &poll)
	if len(poll.Tasks) != 1 || poll.Tasks[0].TaskArn != arn || poll.TaskDefinitions[poll.Tasks[0].TaskDefinitionArn].Family != "web" {
		t.Fatalf("poll = %+v", poll)
	}
	report := func(instance string, seq int64, status, container string, exit *int) (control.TaskStateOutput, string) {
		var out control.TaskStateOutput
		in := control.TaskStateInput{ProtocolVersion: 1, Cluster: "web", ContainerInstanceArn: instance, TaskArn: arn, Seq: seq, Status: status,
			Containers: []control.ContainerState{{ContainerName: "app", Status: container, ExitCode: exit, RuntimeID: "r1",
				NetworkBindings: []ecsNetworkBinding{{BindIP: "0.0.0.0", ContainerPort: 8080, HostPort: 49153, Protocol: "tcp"}}}}}
		_, typ := agentCall(t, f.endpoint, "SubmitTaskStateChange", in, &out)
		return out, typ
	}
	describe := func() types.Task {
		out := must(f.c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("web"), Tasks: []string{arn}}))(t)
		return out.Tasks[0]
	}

	if out, typ := report(f.instances[0], 2, "RUNNING", "RUNNING", nil); typ != "" || !out.Applied {
		t.Fatalf("RUNNING report: %+v %s", out, typ)
	}
	running := describe()
	if aws.ToString(running.LastStatus) != "RUNNING" || running.StartedAt == nil || aws.ToString(running.Containers[0].LastStatus) != "RUNNING" ||
		aws.ToInt32(running.Containers[0].NetworkBindings[0].HostPort) != 49153 || running.Version < 2 {
		t.Errorf("after RUNNING report: %+v", running)
	}
	if out, _ := report(f.instances[0], 1, "PENDING", "PENDING", nil); out.Applied {
		t.Error("a stale report (older seq) was applied")
	}
	if out, _ := report(f.instances[0], 2, "PENDING", "PENDING", nil); out.Applied {
		t.Error("a duplicate report (same seq) was applied")
	}
	if out, _ := report(f.instances[0], 3, "PENDING", "RUNNING", nil); !out.Applied || aws.ToString(describe().LastStatus) != "RUNNING" {
		t.Error("a newer report with an older status moved the task backwards")
	}
	if _, typ := report(f.instances[1], 9, "STOPPED", "STOPPED", nil); typ != "InvalidParameterException" {
		t.Errorf("a report from another instance: %q, want InvalidParameterException", typ)
	}

	stop := must(f.c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("web"), Task: aws.String(arn), Reason: aws.String("done here")}))(t)
	if aws.ToString(stop.Task.DesiredStatus) != "STOPPED" || stop.Task.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stop.Task.StoppedReason) != "done here" {
		t.Errorf("stop = %+v", stop.Task)
	}
	agentCall(t, f.endpoint, "Poll", control.PollInput{ProtocolVersion: 1, Cluster: "web", ContainerInstanceArn: f.instances[0]}, &poll)
	if len(poll.Tasks) != 1 || poll.Tasks[0].DesiredStatus != "STOPPED" || poll.Tasks[0].Seq != 3 {
		t.Errorf("poll after StopTask = %+v", poll.Tasks)
	}
	if got := f.remainingMemory(t, f.instances[0]); got != 2048-512 {
		t.Errorf("memory released before the task stopped: %d", got)
	}
	code := 143
	report(f.instances[0], 4, "STOPPED", "STOPPED", &code)
	stopped := describe()
	if aws.ToString(stopped.LastStatus) != "STOPPED" || stopped.StoppedAt == nil || aws.ToInt32(stopped.Containers[0].ExitCode) != 143 ||
		stopped.StopCode != types.TaskStopCodeUserInitiated {
		t.Errorf("stopped = %+v", stopped)
	}
	if got := f.remainingMemory(t, f.instances[0]); got != 2048 {
		t.Errorf("memory after stop = %d, want 2048", got)
	}
	if out, _ := report(f.instances[0], 5, "RUNNING", "RUNNING", nil); out.Applied {
		t.Error("a report after STOPPED was applied")
	}
	stoppedList := must(f.c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("web"), DesiredStatus: types.DesiredStatusStopped}))(t)
	if !slices.Equal(stoppedList.TaskArns, []string{arn}) {
		t.Errorf("stopped tasks = %v", stoppedList.TaskArns)
	}
}

func TestSDKTagTasks(t *testing.T) {
	f := newTaskFixture(t)
	ctx := context.Background()
	run := must(f.c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("web"), TaskDefinition: aws.String("web"),
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("me")}}}))(t)
	arn := aws.ToString(run.Tasks[0].TaskArn)
	must(f.c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("stage"), Value: aws.String("test")}}}))(t)
	tags := must(f.c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))(t)
	if len(tags.Tags) != 2 {
		t.Errorf("task tags = %+v", tags.Tags)
	}
	desc := must(f.c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("web"), Tasks: []string{arn}, Include: []types.TaskField{types.TaskFieldTags}}))(t)
	if len(desc.Tasks[0].Tags) != 2 {
		t.Errorf("described with TAGS = %+v", desc.Tasks[0].Tags)
	}
	_, err := f.c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task/web/0123456789abcdef0123456789abcdef"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantError[*types.ResourceNotFoundException](t, err)
}
