package control

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/berth-run/berth/shared/agentproto"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
)

// MetricNamespace is where Berth publishes its services' utilization in
// CloudWatch (AWS/ECS, which the target tracking alarms name, is reserved
// to ECS itself). Metrics and dimensions are ECS's: CPUUtilization and
// MemoryUtilization by ClusterName and ServiceName, in Percent.
const MetricNamespace = "Berth/ECS"

// UnreservedCPU is what a task that reserved no CPU is measured against:
// one vCPU.
const UnreservedCPU = 1024

// TaskUtilization is one service task's usage in one agent report, beside
// what it reserved.
type TaskUtilization struct {
	Cluster, Service string
	// CPU units (1024 per vCPU) used and reserved.
	CPUUsed, CPUReserved float64
	// Memory in MiB; MemoryReserved is 0 when the task reserved none.
	MemoryUsed, MemoryReserved float64
}

// MetricSink receives the utilization agents report: the local metric
// store in `berth up`, CloudWatch PutMetricData in AWS.
type MetricSink interface {
	PutUtilization(ctx context.Context, instanceID string, at time.Time, usage []TaskUtilization) error
}

// LocalMetrics keeps utilization in the store, summed per service, minute
// and instance, for the local alarm evaluator.
type LocalMetrics struct{ DB *store.DB }

var _ MetricSink = LocalMetrics{}

// PutUtilization implements MetricSink.
func (m LocalMetrics) PutUtilization(ctx context.Context, instanceID string, at time.Time, usage []TaskUtilization) error {
	sums := map[[2]string]*store.ServiceUsage{}
	var order []*store.ServiceUsage
	for _, u := range usage {
		k := [2]string{u.Cluster, u.Service}
		s, ok := sums[k]
		if !ok {
			s = &store.ServiceUsage{Cluster: u.Cluster, Service: u.Service}
			sums[k] = s
			order = append(order, s)
		}
		s.CPUUsed += u.CPUUsed
		s.CPUReserved += u.CPUReserved
		s.MemoryUsed += u.MemoryUsed
		s.MemoryReserved += u.MemoryReserved
	}
	out := make([]store.ServiceUsage, len(order))
	for i, s := range order {
		out[i] = *s
	}
	return m.DB.RecordUsage(ctx, instanceID, at, out)
}

// CloudWatchMetrics publishes utilization with PutMetricData: one value
// per task, so CloudWatch's Average over a service's tasks (which share a
// task definition, hence a reservation) is total used over total reserved,
// as ECS's own service metrics are.
type CloudWatchMetrics struct{ API CloudWatchAPI }

var _ MetricSink = CloudWatchMetrics{}

// maxMetricData bounds one PutMetricData call (CloudWatch allows 1,000).
const maxMetricData = 500

// PutUtilization implements MetricSink.
func (m CloudWatchMetrics) PutUtilization(ctx context.Context, _ string, at time.Time, usage []TaskUtilization) error {
	var data []cwtypes.MetricDatum
	for _, u := range usage {
		dims := []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String(u.Cluster)}, {Name: aws.String("ServiceName"), Value: aws.String(u.Service)}}
		data = append(data, percentDatum("CPUUtilization", dims, at, u.CPUUsed, u.CPUReserved))
		if u.MemoryReserved > 0 {
			data = append(data, percentDatum("MemoryUtilization", dims, at, u.MemoryUsed, u.MemoryReserved))
		}
	}
	for start := 0; start < len(data); start += maxMetricData {
		_, err := m.API.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
			Namespace:  aws.String(MetricNamespace),
			MetricData: data[start:min(start+maxMetricData, len(data))],
		})
		if err != nil {
			return fmt.Errorf("cloudwatch PutMetricData: %w", err)
		}
	}
	return nil
}

func percentDatum(name string, dims []cwtypes.Dimension, at time.Time, used, reserved float64) cwtypes.MetricDatum {
	return cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: dims, Timestamp: aws.Time(at),
		Unit: cwtypes.StandardUnitPercent, Value: aws.Float64(100 * used / reserved)}
}

// The agent protocol's usage report (shared/agentproto).
type (
	MetricsInput  = agentproto.MetricsInput
	TaskUsage     = agentproto.TaskUsage
	MetricsOutput = agentproto.MetricsOutput
)

// maxMetricTasks bounds one report.
const maxMetricTasks = 1000

// SubmitMetrics takes an agent's usage report and hands the usage of the
// instance's running service tasks to the metric sink, each beside what
// the task reserved (from its placement); samples of other tasks are
// dropped.
func (a *Autoscaling) SubmitMetrics(ctx context.Context, in *MetricsInput) (*MetricsOutput, error) {
	cluster, instanceID, err := agentInstance(in.ProtocolVersion, in.Cluster, in.ContainerInstanceArn)
	if err != nil {
		return nil, err
	}
	if err := validateUsage(in.Tasks); err != nil {
		return nil, err
	}
	tasks, err := a.c.db.TasksOnInstance(ctx, cluster, instanceID)
	if err != nil {
		return nil, err
	}
	byARN := make(map[string]store.Task, len(tasks))
	for _, t := range tasks {
		byARN[t.TaskArn] = t
	}
	var usage []TaskUtilization
	for _, u := range in.Tasks {
		t, ok := byARN[u.TaskArn]
		if !ok || t.LastStatus != ecs.TaskRunning {
			continue
		}
		if svc := serviceOf(t); svc != "" {
			usage = append(usage, utilizationOf(cluster, svc, t, u))
		}
	}
	if len(usage) > 0 {
		if err := a.metrics.PutUtilization(ctx, instanceID, a.metricClock(), usage); err != nil {
			return nil, fmt.Errorf("record metrics of instance %s: %w", instanceID, err)
		}
	}
	return &MetricsOutput{Accepted: len(usage), ReportEverySeconds: int(max(a.reportEvery, time.Second) / time.Second)}, nil
}

func validateUsage(tasks []TaskUsage) error {
	if len(tasks) > maxMetricTasks {
		return ecs.InvalidParameter("tasks: at most %d tasks per report, got %d", maxMetricTasks, len(tasks))
	}
	for i, u := range tasks {
		for _, v := range []struct {
			name string
			v    float64
		}{{"cpuUnits", u.CPUUnits}, {"memoryMiB", u.MemoryMiB}} {
			if math.IsNaN(v.v) || math.IsInf(v.v, 0) || v.v < 0 {
				return ecs.InvalidParameter("tasks[%d].%s: must be a non-negative number", i, v.name)
			}
		}
		if u.TaskArn == "" {
			return ecs.InvalidParameter("tasks[%d].taskArn: is required", i)
		}
	}
	return nil
}

// serviceOf names the service that started a task, "" for standalone tasks.
func serviceOf(t store.Task) string {
	if t.Berth.Service != "" {
		return t.Berth.Service
	}
	if name, ok := strings.CutPrefix(t.Group, "service:"); ok {
		return name
	}
	return ""
}

func utilizationOf(cluster, service string, t store.Task, u TaskUsage) TaskUtilization {
	cpu := float64(t.Berth.Needs.CPU)
	if cpu <= 0 {
		cpu = UnreservedCPU
	}
	return TaskUtilization{Cluster: cluster, Service: service, CPUUsed: u.CPUUnits, CPUReserved: cpu,
		MemoryUsed: u.MemoryMiB, MemoryReserved: float64(t.Berth.Needs.Memory)}
}

// DefaultReportEvery is how often agents report utilization: several times
// in each of CloudWatch's one-minute periods.
const DefaultReportEvery = 10 * time.Second

// CompressedClock is a clock on which a minute lasts minute of now's
// time, counted from origin: `berth up` runs metrics and alarms on it when
// a test needs target tracking's 3- and 15-minute alarms to act in seconds.
func CompressedClock(origin time.Time, minute time.Duration, now func() time.Time) func() time.Time {
	return func() time.Time {
		elapsed := now().Sub(origin)
		return origin.Add(time.Duration(float64(elapsed) * float64(time.Minute) / float64(minute)))
	}
}
