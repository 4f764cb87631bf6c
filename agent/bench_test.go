package agent_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/local"
)

// BenchmarkRunTaskToRunning measures, in a `berth up` with one local
// process-driver agent and default local timings, the time from a RunTask
// call to the task's lastStatus RUNNING in the store: the change feed wakes
// the agent's long poll, the agent starts the process and reports. It
// reports the median and 90th percentile.
func BenchmarkRunTaskToRunning(b *testing.B) {
	bin := testimage.BinaryPath(b)
	p := testenv.Plane(b, local.Config{Agents: local.AgentsConfig{Count: 1, CPUUnits: 1 << 20, MemoryMiB: 1 << 20}})
	c := testenv.ECS(p.Endpoint())
	ctx := context.Background()
	td, err := c.RegisterTaskDefinition(ctx, &sdkecs.RegisterTaskDefinitionInput{
		Family: aws.String("bench"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("testapp"), Memory: aws.Int32(6), EntryPoint: []string{bin}, Command: []string{"--port", "0"},
		}},
	})
	check(b, err)
	db := p.Control().DB()
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		began := time.Now()
		out, err := c.RunTask(ctx, &sdkecs.RunTaskInput{TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
		check(b, err)
		if len(out.Tasks) != 1 {
			b.Fatalf("RunTask placed %d tasks: %+v", len(out.Tasks), out.Failures)
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		id := lastPart(arn)
		for {
			t, err := db.Task(ctx, "default", id)
			check(b, err)
			if t.LastStatus == ecs.TaskRunning {
				break
			}
			if time.Since(began) > 30*time.Second {
				b.Fatalf("task %s not RUNNING after 30s: %s", id, t.LastStatus)
			}
			time.Sleep(500 * time.Microsecond)
		}
		took = append(took, time.Since(began))
		b.StopTimer()
		_, err = c.StopTask(ctx, &sdkecs.StopTaskInput{Task: aws.String(arn)})
		check(b, err)
		testenv.Eventually(b, 30*time.Second, "task stopped", func() bool {
			t, err := db.Task(ctx, "default", id)
			return err == nil && t.LastStatus == ecs.TaskStopped
		})
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "p90-ms")
}
