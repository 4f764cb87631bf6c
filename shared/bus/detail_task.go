package bus

import (
	"encoding/json"

	"github.com/berth-run/berth/shared/ecs"
)

// TaskStateChange is the detail of an "ECS Task State Change" event: the
// Task object as DescribeTasks returns it, with its timestamps written as
// ISO-8601 strings, plus updatedAt (the time of the change). As in ECS's
// current events, the task-level healthStatus is left out (container health
// stays) and detail.version is the task's version. Members Berth keeps
// opaque (managedAgents, ephemeralStorage, ...) pass through unchanged.
type TaskStateChange struct {
	Task      ecs.Task
	UpdatedAt ISOTime
}

// DetailType names the event this detail belongs to.
func (TaskStateChange) DetailType() string { return DetailTypeTaskStateChange }

// taskWire is the detail's JSON: the Task's members, with each timestamp
// member shadowed by an ISO one (encoding/json prefers the shallower field).
type taskWire struct {
	ecs.Task
	ConnectivityAt     ISOTime `json:"connectivityAt,omitzero"`
	CreatedAt          ISOTime `json:"createdAt,omitzero"`
	ExecutionStoppedAt ISOTime `json:"executionStoppedAt,omitzero"`
	PullStartedAt      ISOTime `json:"pullStartedAt,omitzero"`
	PullStoppedAt      ISOTime `json:"pullStoppedAt,omitzero"`
	StartedAt          ISOTime `json:"startedAt,omitzero"`
	StoppedAt          ISOTime `json:"stoppedAt,omitzero"`
	StoppingAt         ISOTime `json:"stoppingAt,omitzero"`
	UpdatedAt          ISOTime `json:"updatedAt,omitzero"`
}

// MarshalJSON writes the detail as ECS does.
func (d TaskStateChange) MarshalJSON() ([]byte, error) {
	t := d.Task
	t.HealthStatus = ""
	t.Containers = eventContainers(t.Containers)
	return json.Marshal(taskWire{
		Task:               t,
		ConnectivityAt:     FromTimestamp(t.ConnectivityAt),
		CreatedAt:          FromTimestamp(t.CreatedAt),
		ExecutionStoppedAt: FromTimestamp(t.ExecutionStoppedAt),
		PullStartedAt:      FromTimestamp(t.PullStartedAt),
		PullStoppedAt:      FromTimestamp(t.PullStoppedAt),
		StartedAt:          FromTimestamp(t.StartedAt),
		StoppedAt:          FromTimestamp(t.StoppedAt),
		StoppingAt:         FromTimestamp(t.StoppingAt),
		UpdatedAt:          d.UpdatedAt,
	})
}

// UnmarshalJSON reads the detail back into a Task with API timestamps.
func (d *TaskStateChange) UnmarshalJSON(b []byte) error {
	var w taskWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t := w.Task
	t.ConnectivityAt = w.ConnectivityAt.Timestamp()
	t.CreatedAt = w.CreatedAt.Timestamp()
	t.ExecutionStoppedAt = w.ExecutionStoppedAt.Timestamp()
	t.PullStartedAt = w.PullStartedAt.Timestamp()
	t.PullStoppedAt = w.PullStoppedAt.Timestamp()
	t.StartedAt = w.StartedAt.Timestamp()
	t.StoppedAt = w.StoppedAt.Timestamp()
	t.StoppingAt = w.StoppingAt.Timestamp()
	*d = TaskStateChange{Task: t, UpdatedAt: w.UpdatedAt}
	return nil
}

// eventContainers copies cs with empty lists written as [] rather than
// null, as ECS's events have them.
func eventContainers(cs []ecs.Container) []ecs.Container {
	out := make([]ecs.Container, len(cs))
	for i, c := range cs {
		if c.NetworkBindings == nil {
			c.NetworkBindings = []ecs.NetworkBinding{}
		}
		if c.NetworkInterfaces == nil {
			c.NetworkInterfaces = []ecs.Raw{}
		}
		out[i] = c
	}
	return out
}
