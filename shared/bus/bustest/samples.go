package bustest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
)

// Account is where the samples happen.
var Account = ecs.Account{Region: "us-east-1", ID: "000000000000"}

// MalformedFile is the sample that is not a valid event.
const MalformedFile = "malformed-event.json"

// Sample is one file of events/ and the rules it must match.
type Sample struct {
	// File is the name under events/.
	File  string
	Event bus.Event
	// Matches names the rules of bus.Rules() that match the event; every
	// other rule must not match it.
	Matches []string
}

// Names used across the samples.
const (
	cluster        = "default"
	service        = "web"
	taskID         = "3f6b2c1d9e8a4b7c6d5e4f3a2b1c0d9e"
	standaloneID   = "9a8b7c6d5e4f40312a1b2c3d4e5f6a7b"
	instanceID     = "7c5a2f0e9b1d4e3a8f6c2b1a0d9e8f7c"
	ec2InstanceID  = "i-0a1b2c3d4e5f67890"
	deploymentID   = "ecs-svc/4816235019327648273"
	alarmName      = "TargetTracking-service/default/web-AlarmHigh-5e3c2b1a-9d8f-4e7a-b6c5-d4e3f2a1b0c9"
	imageWeb       = "000000000000.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"
	imageLogRouter = "000000000000.dkr.ecr.us-east-1.amazonaws.com/log-router:3.0"
)

// t0 is when the sample task was created.
var t0 = time.Date(2025, 6, 2, 14, 3, 11, 482_000_000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

var (
	clusterArn  = Account.ClusterARN(cluster)
	serviceArn  = Account.ServiceARN(cluster, service)
	taskArn     = Account.TaskARN(cluster, taskID)
	instanceArn = Account.ContainerInstanceARN(cluster, instanceID)
)

// Samples builds every valid sample, in file-name order of events/.
func Samples() ([]Sample, error) {
	builders := []struct {
		file    string
		build   func(f bus.Factory) (bus.Event, error)
		matches []string
	}{
		{"berth-service-change.json", serviceChange, []string{bus.RuleServiceChange}},
		{"cloudwatch-alarm-state-change-alarm.json", alarm(bus.AlarmAlarm), []string{bus.RuleAlarmStateChange}},
		{"cloudwatch-alarm-state-change-ok.json", alarm(bus.AlarmOK), nil},
		{"ecs-container-instance-state-change-connected.json", instance(true), []string{bus.RuleInstanceStateChange}},
		{"ecs-container-instance-state-change-disconnected.json", instance(false), []string{bus.RuleInstanceStateChange}},
		{"ecs-deployment-state-change-completed.json", deployment(bus.DeploymentCompleted), nil},
		{"ecs-deployment-state-change-failed.json", deployment(bus.DeploymentFailed), nil},
		{"ecs-deployment-state-change-in-progress.json", deployment(bus.DeploymentInProgress), nil},
		{"ecs-service-action-placement-failure.json", placementFailure, nil},
		{"ecs-service-action-steady-state.json", steadyState, nil},
		{"ecs-task-state-change-pending.json", task(pendingTask), []string{bus.RuleTaskStateChange}},
		{"ecs-task-state-change-running.json", task(runningTask), []string{bus.RuleTaskStateChange}},
		{"ecs-task-state-change-standalone.json", task(standaloneTask), nil},
		{"ecs-task-state-change-stopped.json", task(stoppedTask), []string{bus.RuleTaskStateChange}},
		{"scheduled-event-monitor.json", scheduled, nil},
	}
	out := make([]Sample, 0, len(builders))
	for _, b := range builders {
		f := bus.Factory{Account: Account, NewID: bus.SeededIDs(seed(b.file))}
		e, err := b.build(f)
		if err != nil {
			return nil, fmt.Errorf("build sample %s: %w", b.file, err)
		}
		out = append(out, Sample{File: b.file, Event: e, Matches: b.matches})
	}
	return out, nil
}

// Encode renders a sample as it is stored: indented JSON, no HTML
// escaping (as EventBridge delivers it), and a final newline.
func Encode(e bus.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EventsDir finds the repository's events/ directory by walking up from
// the working directory to the module root (the directory with go.mod).
func EventsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find events/: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "events"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find events/: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ReadFile reads one file of events/.
func ReadFile(name string) ([]byte, error) {
	dir, err := EventsDir()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, name))
}

func seed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

func serviceChange(f bus.Factory) (bus.Event, error) {
	return f.ServiceChangeEvent(at(2*time.Second), bus.ServiceChange{
		ClusterArn: clusterArn, ServiceArn: serviceArn, ServiceName: service, Version: 7,
	})
}

func steadyState(f bus.Factory) (bus.Event, error) {
	return f.ServiceActionEvent(at(3*time.Minute+12*time.Second+305*time.Millisecond), serviceArn, bus.ServiceAction{
		EventType: bus.EventTypeInfo, EventName: bus.ServiceSteadyState, ClusterArn: clusterArn,
	})
}

func placementFailure(f bus.Factory) (bus.Event, error) {
	return f.ServiceActionEvent(at(41*time.Second+77*time.Millisecond), serviceArn, bus.ServiceAction{
		EventType:             bus.EventTypeError,
		EventName:             bus.ServiceTaskPlacementFailure,
		ClusterArn:            clusterArn,
		ContainerInstanceArns: []string{instanceArn},
		Reason:                ecs.ReasonResourceMem,
	})
}

func deployment(name string) func(bus.Factory) (bus.Event, error) {
	return func(f bus.Factory) (bus.Event, error) {
		d := bus.DeploymentStateChange{EventType: bus.EventTypeInfo, EventName: name, DeploymentID: deploymentID}
		when := at(0)
		switch name {
		case bus.DeploymentInProgress:
			d.Reason = "ECS deployment " + deploymentID + " in progress."
		case bus.DeploymentCompleted:
			d.Reason = "ECS deployment " + deploymentID + " completed."
			when = at(3*time.Minute + 12*time.Second + 305*time.Millisecond)
		case bus.DeploymentFailed:
			d.EventType = bus.EventTypeError
			d.Reason = "ECS deployment circuit breaker: task failed to start."
			when = at(9*time.Minute + 47*time.Second + 260*time.Millisecond)
		}
		return f.DeploymentEvent(when, serviceArn, d)
	}
}

func task(build func() ecs.Task) func(bus.Factory) (bus.Event, error) {
	return func(f bus.Factory) (bus.Event, error) {
		t := build()
		updated := t.CreatedAt.Time
		for _, ts := range []ecs.Timestamp{t.StartedAt, t.StoppedAt} {
			if ts.After(updated) {
				updated = ts.Time
			}
		}
		return f.TaskEvent(updated.Add(15*time.Millisecond), &t)
	}
}

func scheduled(f bus.Factory) (bus.Event, error) {
	return f.ScheduledEvent(at(49*time.Second), bus.ScheduleMonitor)
}
