package control_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
)

// instance registers the cluster's one container instance and a 512-unit,
// 256-MiB task definition.
func (e scaleEnv) instance(t *testing.T) string {
	t.Helper()
	ok(e.c.CreateCluster(e.ctx, &control.CreateClusterInput{}))(t)
	ok(e.c.RegisterTaskDefinition(e.ctx, &control.RegisterTaskDefinitionInput{Family: "app",
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "x", CPU: 512, Memory: intp(256)}}}))(t)
	reg := ok(e.c.RegisterContainerInstance(e.ctx, &control.RegisterContainerInstanceInput{
		TotalResources: []ecs.Resource{{Name: "CPU", Type: "INTEGER", IntegerValue: 4096}, {Name: "MEMORY", Type: "INTEGER", IntegerValue: 4096}}}))(t)
	return reg.ContainerInstance.ContainerInstanceArn
}

// runningTasks runs n tasks in group on the instance and reports them RUNNING.
func (e scaleEnv) runningTasks(t *testing.T, instance, group string, n int) []string {
	t.Helper()
	run := ok(e.c.RunTask(e.ctx, &control.RunTaskInput{TaskDefinition: "app", Group: group, Count: intp(n)}))(t)
	var tasks []string
	for _, task := range run.Tasks {
		ok(e.c.SubmitTaskStateChange(e.ctx, &control.TaskStateInput{ProtocolVersion: 1, Cluster: "default", ContainerInstanceArn: instance,
			TaskArn: task.TaskArn, Seq: 1, Status: ecs.TaskRunning}))(t)
		tasks = append(tasks, task.TaskArn)
	}
	return tasks
}

func TestSubmitMetricsFeedsServiceUtilization(t *testing.T) {
	e := newScaleEnv(t)
	instance := e.instance(t)
	tasks := e.runningTasks(t, instance, "service:web", 2)
	out := ok(e.a.SubmitMetrics(e.ctx, &control.MetricsInput{ProtocolVersion: 1, Cluster: "default", ContainerInstanceArn: instance,
		Tasks: []control.TaskUsage{
			{TaskArn: tasks[0], CPUUnits: 512, MemoryMiB: 128},
			{TaskArn: tasks[1], CPUUnits: 256, MemoryMiB: 64},
			{TaskArn: "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef", CPUUnits: 9999},
		}}))(t)
	if out.Accepted != 2 {
		t.Fatalf("accepted %d samples, want the 2 service tasks'", out.Accepted)
	}
	points := ok(e.db.ServiceUtilization(e.ctx, "default", "web", e.clock.Now().Add(-time.Minute)))(t)
	if len(points) != 1 || points[0].CPU != 75 || !points[0].HasMemory || points[0].Memory != 37.5 {
		t.Fatalf("utilization = %+v, want CPU 768/1024 = 75%%, memory 192/512 = 37.5%%", points)
	}

	standalone := e.runningTasks(t, instance, "family:app", 1)
	out = ok(e.a.SubmitMetrics(e.ctx, &control.MetricsInput{ProtocolVersion: 1, Cluster: "default", ContainerInstanceArn: instance,
		Tasks: []control.TaskUsage{{TaskArn: standalone[0], CPUUnits: 100}}}))(t)
	if out.Accepted != 0 {
		t.Fatal("a standalone task's usage counted towards a service")
	}
}

func TestSubmitMetricsValidation(t *testing.T) {
	e := newScaleEnv(t)
	instance := e.instance(t)
	tasks := e.runningTasks(t, instance, "service:web", 1)
	for _, in := range []control.MetricsInput{
		{ProtocolVersion: 2, Cluster: "default", ContainerInstanceArn: instance},
		{ProtocolVersion: 1, Cluster: "default", ContainerInstanceArn: instance, Tasks: []control.TaskUsage{{TaskArn: tasks[0], CPUUnits: -1}}},
		{ProtocolVersion: 1, Cluster: "default", ContainerInstanceArn: instance, Tasks: []control.TaskUsage{{TaskArn: tasks[0], MemoryMiB: math.Inf(1)}}},
		{ProtocolVersion: 1, Cluster: "default", ContainerInstanceArn: instance, Tasks: []control.TaskUsage{{CPUUnits: 1}}},
		{ProtocolVersion: 1, Cluster: "default", ContainerInstanceArn: "arn:aws:ecs:us-east-1:000000000000:container-instance/other/abc"},
	} {
		if _, err := e.a.SubmitMetrics(e.ctx, &in); err == nil {
			t.Errorf("SubmitMetrics(%+v) accepted", in)
		}
	}
}

func TestCloudWatchMetricsPublishPerTaskPercentages(t *testing.T) {
	cw := newFakeCloudWatch()
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	err := control.CloudWatchMetrics{API: cw}.PutUtilization(t.Context(), "i-1", at, []control.TaskUtilization{
		{Cluster: "default", Service: "web", CPUUsed: 256, CPUReserved: 1024, MemoryUsed: 64, MemoryReserved: 256},
		{Cluster: "default", Service: "web", CPUUsed: 512, CPUReserved: 1024},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cw.data) != 1 || aws.ToString(cw.data[0].Namespace) != "Berth/ECS" {
		t.Fatalf("PutMetricData calls = %+v", cw.data)
	}
	var got []string
	for _, d := range cw.data[0].MetricData {
		got = append(got, aws.ToString(d.MetricName)+"="+ftoa(aws.ToFloat64(d.Value))+" "+aws.ToString(d.Dimensions[1].Value))
	}
	want := []string{"CPUUtilization=25 web", "MemoryUtilization=25 web", "CPUUtilization=50 web"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("data = %v, want %v", got, want)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
