package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/berth-run/berth/shared/local"
)

// benchPlane is `berth up` with n in-process process-driver agents.
func benchPlane(b *testing.B, n int) (*local.Plane, *sdkecs.Client, string) {
	bin := testimage.BinaryPath(b)
	p := testenv.Plane(b, local.Config{Agents: local.AgentsConfig{Count: n, CPUUnits: 8192, MemoryMiB: 8192}, TickEvery: 500 * time.Millisecond})
	c := testenv.ECS(p.Endpoint())
	td, err := c.RegisterTaskDefinition(context.Background(), &sdkecs.RegisterTaskDefinitionInput{Family: aws.String("bench"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("testapp"), Memory: aws.Int32(16),
			EntryPoint: []string{bin}, PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}})
	check(b, err)
	b.Cleanup(func() { removeAllTasks(b, p, c) })
	return p, c, aws.ToString(td.TaskDefinition.TaskDefinitionArn)
}

// removeAllTasks stops every task of the default cluster and waits for
// them to stop, so a benchmark leaves no processes behind.
func removeAllTasks(b *testing.B, p *local.Plane, c *sdkecs.Client) {
	ctx := context.Background()
	services, _ := c.ListServices(ctx, &sdkecs.ListServicesInput{MaxResults: aws.Int32(100)})
	for _, s := range services.ServiceArns {
		_, _ = c.DeleteService(ctx, &sdkecs.DeleteServiceInput{Service: aws.String(s), Force: aws.Bool(true)})
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		list, err := c.ListTasks(ctx, &sdkecs.ListTasksInput{})
		if err != nil || len(list.TaskArns) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = p
}

// steadyAt polls DescribeServices until the service is stable (one
// COMPLETED deployment, running == desired).
func steadyAt(b *testing.B, c *sdkecs.Client, service string, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		out, err := c.DescribeServices(context.Background(), &sdkecs.DescribeServicesInput{Services: []string{service}})
		check(b, err)
		s := out.Services[0]
		if len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted && s.RunningCount == s.DesiredCount {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("service %s not steady within %v: running %d of %d", service, within, s.RunningCount, s.DesiredCount)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkServiceSteadyState100 measures, in `berth up` with ten
// process-driver agents, the time from CreateService with 100 tasks to all
// of them RUNNING, and to the service being stable (the deployment
// COMPLETED, which for tasks without a health check includes ECS's 40 s
// before a RUNNING task counts as healthy).
func BenchmarkServiceSteadyState100(b *testing.B) {
	_, c, td := benchPlane(b, 10)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		name := fmt.Sprintf("svc%d", i)
		began := time.Now()
		_, err := c.CreateService(ctx, &sdkecs.CreateServiceInput{ServiceName: aws.String(name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(100)})
		check(b, err)
		allRunning(b, c, name, 100, 5*time.Minute)
		b.ReportMetric(time.Since(began).Seconds(), "s-to-running")
		steadyAt(b, c, name, 5*time.Minute)
		b.ReportMetric(time.Since(began).Seconds(), "s-to-steady")
		b.StopTimer()
		_, err = c.DeleteService(ctx, &sdkecs.DeleteServiceInput{Service: aws.String(name), Force: aws.Bool(true)})
		check(b, err)
		b.StartTimer()
	}
}

// BenchmarkServiceReplacement measures, in `berth up` with ten
// process-driver agents and a service of 20, the time from SIGKILL of a
// task's process to its replacement RUNNING; it reports p50 and p99.
func BenchmarkServiceReplacement(b *testing.B) {
	_, c, td := benchPlane(b, 10)
	ctx := context.Background()
	_, err := c.CreateService(ctx, &sdkecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(20)})
	check(b, err)
	steadyAt(b, c, "web", 2*time.Minute)
	var took []time.Duration
	for b.Loop() {
		victim := runningTasks(b, c)[0]
		before := map[string]bool{}
		for _, t := range runningTasks(b, c) {
			before[aws.ToString(t.TaskArn)] = true
		}
		pid := pidOfBench(b, victim)
		began := time.Now()
		check(b, syscall.Kill(pid, syscall.SIGKILL))
		for {
			replaced := false
			for _, t := range runningTasks(b, c) {
				if !before[aws.ToString(t.TaskArn)] {
					replaced = true
				}
			}
			if replaced {
				break
			}
			if time.Since(began) > time.Minute {
				b.Fatal("no replacement within a minute")
			}
			time.Sleep(5 * time.Millisecond)
		}
		took = append(took, time.Since(began))
		b.StopTimer()
		steadyAt(b, c, "web", time.Minute)
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Milliseconds()), "p99-ms")
}

// allRunning polls until the service runs n tasks.
func allRunning(b *testing.B, c *sdkecs.Client, service string, n int32, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		out, err := c.DescribeServices(context.Background(), &sdkecs.DescribeServicesInput{Services: []string{service}})
		check(b, err)
		if out.Services[0].RunningCount >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("service %s: %d of %d tasks running after %v", service, out.Services[0].RunningCount, n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runningTasks(b *testing.B, c *sdkecs.Client) []types.Task {
	ctx := context.Background()
	list, err := c.ListTasks(ctx, &sdkecs.ListTasksInput{ServiceName: aws.String("web")})
	check(b, err)
	out, err := c.DescribeTasks(ctx, &sdkecs.DescribeTasksInput{Tasks: list.TaskArns})
	check(b, err)
	var running []types.Task
	for _, t := range out.Tasks {
		if aws.ToString(t.LastStatus) == "RUNNING" && aws.ToString(t.DesiredStatus) == "RUNNING" {
			running = append(running, t)
		}
	}
	return running
}

// pidOfBench asks the task's test app for its pid, retrying briefly: a
// task just reported RUNNING may still be binding its port.
func pidOfBench(b *testing.B, task types.Task) int {
	port := int(aws.ToInt32(task.Containers[0].NetworkBindings[0].HostPort))
	client := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := pidPattern.FindStringSubmatch(string(body)); m != nil {
				pid, _ := strconv.Atoi(m[1])
				return pid
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("task %s: no pid from its test app on port %d: %v", aws.ToString(task.TaskArn), port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkRunTaskLatency measures, in `berth up` with three process-driver
// agents, RunTask → RUNNING for 200 tasks started one after another (p50,
// p99), then the sustained rate: 200 tasks asked for in calls of 10, as
// fast as the API answers, until all run (tasks/s).
func BenchmarkRunTaskLatency(b *testing.B) {
	p, c, td := benchPlane(b, 3)
	ctx := context.Background()
	db := p.Control().DB()
	for b.Loop() {
		var took []time.Duration
		for range 200 {
			began := time.Now()
			out, err := c.RunTask(ctx, &sdkecs.RunTaskInput{TaskDefinition: aws.String(td)})
			check(b, err)
			if len(out.Tasks) != 1 {
				b.Fatalf("RunTask placed %d tasks: %+v", len(out.Tasks), out.Failures)
			}
			id := lastPathPart(aws.ToString(out.Tasks[0].TaskArn))
			for {
				task, err := db.Task(ctx, "default", id)
				check(b, err)
				if task.LastStatus == "RUNNING" {
					break
				}
				if time.Since(began) > 30*time.Second {
					b.Fatalf("task %s not RUNNING after 30s", id)
				}
				time.Sleep(time.Millisecond)
			}
			took = append(took, time.Since(began))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		b.StopTimer()
		stopAll(b, c)
		b.StartTimer()

		began := time.Now()
		var arns []string
		for range 20 {
			out, err := c.RunTask(ctx, &sdkecs.RunTaskInput{TaskDefinition: aws.String(td), Count: aws.Int32(10)})
			check(b, err)
			arns = append(arns, taskArns(out.Tasks)...)
		}
		if len(arns) != 200 {
			b.Fatalf("placed %d of 200 tasks", len(arns))
		}
		for _, arn := range arns {
			for {
				task, err := db.Task(ctx, "default", lastPathPart(arn))
				check(b, err)
				if task.LastStatus == "RUNNING" {
					break
				}
				if time.Since(began) > 5*time.Minute {
					b.Fatal("200 tasks not RUNNING within 5 minutes")
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		b.ReportMetric(200/time.Since(began).Seconds(), "tasks/s")
		b.StopTimer()
		stopAll(b, c)
		b.StartTimer()
	}
}

// stopAll stops every running task of the default cluster and waits until
// none is left running.
func stopAll(b *testing.B, c *sdkecs.Client) {
	ctx := context.Background()
	for {
		list, err := c.ListTasks(ctx, &sdkecs.ListTasksInput{})
		check(b, err)
		if len(list.TaskArns) == 0 {
			break
		}
		for _, arn := range list.TaskArns {
			_, err := c.StopTask(ctx, &sdkecs.StopTaskInput{Task: aws.String(arn)})
			check(b, err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		list, err := c.ListTasks(ctx, &sdkecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped, MaxResults: aws.Int32(100)})
		check(b, err)
		if len(list.TaskArns) == 0 {
			return
		}
		desc, err := c.DescribeTasks(ctx, &sdkecs.DescribeTasksInput{Tasks: list.TaskArns})
		check(b, err)
		alive := 0
		for _, t := range desc.Tasks {
			if aws.ToString(t.LastStatus) != "STOPPED" {
				alive++
			}
		}
		if alive == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastPathPart(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}
