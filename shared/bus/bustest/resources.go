package bustest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
)

func ts(d time.Duration) ecs.Timestamp { return ecs.At(at(d)) }

func intp(v int) *int { return &v }

// pendingTask is the web service's task just placed on the instance.
func pendingTask() ecs.Task {
	return ecs.Task{
		Attributes:           []ecs.Attribute{{Name: "ecs.cpu-architecture", Value: "x86_64"}},
		AvailabilityZone:     "us-east-1a",
		ClusterArn:           clusterArn,
		Connectivity:         "CONNECTED",
		ConnectivityAt:       ts(0),
		ContainerInstanceArn: instanceArn,
		Containers: []ecs.Container{
			container("app", imageWeb, "192", "384", ""),
			container("log-router", imageLogRouter, "64", "", "64"),
		},
		CPU:           "256",
		CreatedAt:     ts(0),
		DesiredStatus: ecs.TaskRunning,
		Group:         "service:" + service,
		LastStatus:    ecs.TaskPending,
		LaunchType:    ecs.LaunchEC2,
		Memory:        "512",
		Overrides: &ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{
			{Name: "app"}, {Name: "log-router"},
		}},
		StartedBy:         deploymentID,
		TaskArn:           taskArn,
		TaskDefinitionArn: Account.TaskDefinitionARN(service, 3),
		Version:           1,
	}
}

func container(name, image, cpu, memory, reservation string) ecs.Container {
	return ecs.Container{
		ContainerArn:      Account.ContainerARN(cluster, taskID, containerID(name)),
		TaskArn:           taskArn,
		Name:              name,
		Image:             image,
		LastStatus:        ecs.ContainerPending,
		CPU:               cpu,
		Memory:            memory,
		MemoryReservation: reservation,
	}
}

// hexDigest stands in for an image digest or a Docker container ID: 64 hex
// digits, stable for a given input.
func hexDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func containerID(name string) string {
	if name == "app" {
		return "0b1f5e7a-3c2d-4e8f-9a6b-1c0d2e3f4a5b"
	}
	return "6d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
}

// runningTask is the task once both containers run.
func runningTask() ecs.Task {
	t := pendingTask()
	t.LastStatus = ecs.TaskRunning
	t.PullStartedAt = ts(1*time.Second + 304*time.Millisecond)
	t.PullStoppedAt = ts(6*time.Second + 917*time.Millisecond)
	t.StartedAt = ts(8*time.Second + 120*time.Millisecond)
	t.Version = 3
	for i := range t.Containers {
		c := &t.Containers[i]
		c.LastStatus = ecs.ContainerRunning
		c.ImageDigest = "sha256:" + hexDigest(c.Image)
		c.RuntimeID = hexDigest(c.ContainerArn)
	}
	t.Containers[0].NetworkBindings = []ecs.NetworkBinding{
		{BindIP: "0.0.0.0", ContainerPort: 8080, HostPort: 32768, Protocol: "tcp"},
		{BindIP: "::", ContainerPort: 8080, HostPort: 32768, Protocol: "tcp"},
	}
	return t
}

// stoppedTask is the task after its essential app container exited 1 and
// the log router was stopped with it.
func stoppedTask() ecs.Task {
	t := runningTask()
	t.DesiredStatus = ecs.TaskStopped
	t.LastStatus = ecs.TaskStopped
	t.StopCode = ecs.StopEssentialContainerExited
	t.StoppedReason = "Essential container in task exited"
	t.StoppingAt = ts(2*time.Hour + 13*time.Minute + 4*time.Second + 18*time.Millisecond)
	t.ExecutionStoppedAt = ts(2*time.Hour + 13*time.Minute + 34*time.Second + 551*time.Millisecond)
	t.StoppedAt = ts(2*time.Hour + 13*time.Minute + 35*time.Second + 9*time.Millisecond)
	t.Version = 6
	t.Containers[0].ExitCode = intp(1)
	t.Containers[1].ExitCode = intp(137)
	t.Containers[1].Reason = "Container stopped after its stop timeout (30s): killed with SIGKILL"
	for i := range t.Containers {
		t.Containers[i].LastStatus = ecs.ContainerStopped
		t.Containers[i].NetworkBindings = nil
	}
	return t
}

// standaloneTask was started with RunTask: its group is its family.
func standaloneTask() ecs.Task {
	t := runningTask()
	t.TaskArn = Account.TaskARN(cluster, standaloneID)
	t.Group = "family:report"
	t.StartedBy = "nightly-report"
	t.TaskDefinitionArn = Account.TaskDefinitionARN("report", 12)
	t.Containers = t.Containers[:1]
	c := &t.Containers[0]
	c.Name = "report"
	c.TaskArn = t.TaskArn
	c.ContainerArn = Account.ContainerARN(cluster, standaloneID, "2e9d8c7b-6a5f-4e3d-9c1b-0a9f8e7d6c5b")
	c.Image = "000000000000.dkr.ecr.us-east-1.amazonaws.com/report:2025.05"
	c.NetworkBindings = nil
	t.Overrides = &ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{
		{Name: "report", Command: []string{"--since", "24h"}},
	}}
	return t
}

// instance is the container instance with the sample task on it, its agent
// connected or just disconnected.
func instance(connected bool) func(bus.Factory) (bus.Event, error) {
	return func(f bus.Factory) (bus.Event, error) {
		registered := ecs.Capacity{CPU: 2048, Memory: 7680, Ports: ecs.DefaultReservedPorts, PortsUDP: []int{}}
		remaining := registered
		remaining.CPU -= 256
		remaining.Memory -= 512
		ci := ecs.ContainerInstance{
			ContainerInstanceArn: instanceArn,
			Ec2InstanceID:        ec2InstanceID,
			Version:              12,
			VersionInfo:          &ecs.VersionInfo{AgentVersion: "1.89.3", AgentHash: "c8a4f2e1", DockerVersion: "DockerVersion: 28.5.2"},
			RegisteredResources:  registered.Resources(),
			RemainingResources:   remaining.Resources(),
			Status:               ecs.InstanceActive,
			AgentConnected:       true,
			RunningTasksCount:    1,
			Attributes:           instanceAttributes(),
		}
		when := at(8*time.Second + 201*time.Millisecond)
		if !connected {
			ci.AgentConnected = false
			ci.Version = 13
			when = at(47*time.Minute + 2*time.Second + 640*time.Millisecond)
		}
		return f.InstanceEvent(when, &ci)
	}
}

func instanceAttributes() []ecs.Attribute {
	return []ecs.Attribute{
		{Name: "ecs.capability.privileged-container"},
		{Name: "ecs.capability.docker-remote-api.1.44"},
		{Name: "ecs.capability.container-health-check"},
		{Name: "ecs.capability.container-ordering"},
		{Name: "com.amazonaws.ecs.capability.logging-driver.json-file"},
		{Name: "ecs.os-type", Value: "linux"},
		{Name: "ecs.os-family", Value: "LINUX"},
		{Name: "ecs.cpu-architecture", Value: "x86_64"},
		{Name: "ecs.availability-zone", Value: "us-east-1a"},
		{Name: "ecs.instance-type", Value: "m6i.large"},
		{Name: "ecs.ami-id", Value: "ami-0c7217cdde317cfec"},
	}
}

// alarm is the target-tracking high-CPU alarm of the web service entering
// ALARM, or returning to OK.
func alarm(value string) func(bus.Factory) (bus.Event, error) {
	return func(f bus.Factory) (bus.Event, error) {
		high := bus.AlarmState{
			Value: bus.AlarmAlarm,
			Reason: "Threshold Crossed: 3 out of the last 3 datapoints [90.1 (02/06/25 14:07:00), 85.6 (02/06/25 14:06:00), " +
				"81.2 (02/06/25 14:05:00)] were greater than the threshold (75.0) (minimum 3 datapoints for OK -> ALARM transition).",
			Timestamp: bus.AlarmTimestamp(at(5*time.Minute + 8*time.Second + 291*time.Millisecond)),
		}
		rd, err := reasonData(at(5*time.Minute+8*time.Second+288*time.Millisecond), []float64{90.1, 85.6, 81.2})
		if err != nil {
			return bus.Event{}, err
		}
		high.ReasonData = rd
		ok := bus.AlarmState{
			Value: bus.AlarmOK,
			Reason: "Threshold Crossed: 1 out of the last 3 datapoints [41.7 (02/06/25 14:22:00)] was not greater than the threshold (75.0) " +
				"(minimum 1 datapoint for ALARM -> OK transition).",
			Timestamp: bus.AlarmTimestamp(at(20*time.Minute + 8*time.Second + 452*time.Millisecond)),
		}
		rd, err = reasonData(at(20*time.Minute+8*time.Second+449*time.Millisecond), []float64{41.7, 68.3, 79.9})
		if err != nil {
			return bus.Event{}, err
		}
		ok.ReasonData = rd
		d := bus.AlarmStateChange{AlarmName: alarmName, Configuration: alarmConfiguration()}
		when := at(5*time.Minute + 8*time.Second + 291*time.Millisecond)
		if value == bus.AlarmAlarm {
			d.State, d.PreviousState = high, bus.AlarmState{
				Value:     bus.AlarmOK,
				Reason:    "Threshold Crossed: 3 out of the last 3 datapoints [52.4 (02/06/25 13:58:00), 49.0 (02/06/25 13:57:00), 47.3 (02/06/25 13:56:00)] were not greater than the threshold (75.0) (minimum 1 datapoint for ALARM -> OK transition).",
				Timestamp: bus.AlarmTimestamp(at(-4*time.Minute - 51*time.Second)),
			}
		} else {
			d.State, d.PreviousState = ok, high
			when = at(20*time.Minute + 8*time.Second + 452*time.Millisecond)
		}
		return f.AlarmEvent(when, d)
	}
}

func alarmConfiguration() bus.AlarmConfiguration {
	return bus.AlarmConfiguration{
		Description: "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy arn:aws:autoscaling:us-east-1:000000000000:" +
			"scalingPolicy:6c1e9f53-2b7a-4d8e-a0f4-3e5d7c9b1a2f:resource/ecs/service/default/web:policyName/cpu75.",
		Metrics: []bus.AlarmMetric{{
			ID: "4c2a9e7f-1b3d-4f6a-8e5c-7d9b0a2c4e6f",
			MetricStat: &bus.MetricStat{
				Metric: bus.Metric{
					Namespace:  "AWS/ECS",
					Name:       "CPUUtilization",
					Dimensions: map[string]string{"ClusterName": cluster, "ServiceName": service},
				},
				Period: 60,
				Stat:   "Average",
			},
			ReturnData: true,
		}},
	}
}

// reasonData is CloudWatch's JSON-in-a-string account of an evaluation:
// the newest datapoint first, one per minute.
func reasonData(query time.Time, points []float64) (string, error) {
	type datapoint struct {
		Timestamp   string      `json:"timestamp"`
		SampleCount json.Number `json:"sampleCount"`
		Value       float64     `json:"value"`
	}
	newest := query.Truncate(time.Minute).Add(-time.Minute)
	evaluated := make([]datapoint, len(points))
	for i, v := range points {
		evaluated[i] = datapoint{bus.AlarmTimestamp(newest.Add(-time.Duration(i) * time.Minute)), "2.0", v}
	}
	b, err := json.Marshal(struct {
		Version             string      `json:"version"`
		QueryDate           string      `json:"queryDate"`
		StartDate           string      `json:"startDate"`
		Statistic           string      `json:"statistic"`
		Period              int         `json:"period"`
		RecentDatapoints    []float64   `json:"recentDatapoints"`
		Threshold           json.Number `json:"threshold"`
		EvaluatedDatapoints []datapoint `json:"evaluatedDatapoints"`
	}{
		Version:             "1.0",
		QueryDate:           bus.AlarmTimestamp(query),
		StartDate:           bus.AlarmTimestamp(newest.Add(-time.Duration(len(points)-1) * time.Minute)),
		Statistic:           "Average",
		Period:              60,
		RecentDatapoints:    reversed(points),
		Threshold:           "75.0",
		EvaluatedDatapoints: evaluated,
	})
	if err != nil {
		return "", fmt.Errorf("encode reasonData: %w", err)
	}
	return string(b), nil
}

func reversed(s []float64) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
