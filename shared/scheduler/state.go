package scheduler

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// State is what the scheduler keeps beside a service because it cannot be
// recomputed from the service and its tasks. The store keeps it opaque
// (store.ServiceState.Scheduler); the API passes it as JSON.
type State struct {
	// Deployments holds per-deployment bookkeeping for the deployments the
	// service still lists.
	Deployments []DeploymentState `json:"deployments,omitempty"`
	// LastCompleted is the most recent deployment that reached COMPLETED:
	// the target of a rollback.
	LastCompleted *DeploymentRef `json:"lastCompleted,omitempty"`
	// Throttle is the back-off for tasks that never reach RUNNING.
	Throttle Throttle `json:"throttle,omitzero"`
	// Counted lists the stopped tasks whose failure was already counted,
	// while they are still visible (stopped tasks stay at least an hour).
	Counted []string `json:"counted,omitempty"`
	// Holding lists the service-event messages whose condition held at the
	// last pass: a message repeats only after its condition resolved or
	// six hours passed.
	Holding []string `json:"holding,omitempty"`
}

// DeploymentRef names a deployment and its task definition.
type DeploymentRef struct {
	ID             string `json:"id"`
	TaskDefinition string `json:"taskDefinition"`
}

// DeploymentState is the circuit breaker's and the alarms' memory of one deployment.
type DeploymentState struct {
	ID string `json:"id"`
	// Failures is the circuit breaker's count (Deployment.failedTasks).
	Failures int `json:"failures,omitempty"`
	// LastFailure is when the latest counted failure stopped.
	LastFailure time.Time `json:"lastFailure,omitzero"`
	// Started is set once a task of the deployment reached RUNNING: the
	// circuit breaker's second stage.
	Started bool `json:"started,omitempty"`
	// AlarmsSeen is set once the alarms were read for this deployment;
	// AlarmBaseline lists those already in ALARM then, ignored for the
	// whole deployment.
	AlarmsSeen    bool     `json:"alarmsSeen,omitempty"`
	AlarmBaseline []string `json:"alarmBaseline,omitempty"`
	// SteadySince is when the deployment first reached its target, for the
	// bake time before COMPLETED.
	SteadySince time.Time `json:"steadySince,omitzero"`
	// Rollback marks a deployment started by a rollback; it is never rolled
	// back itself.
	Rollback bool `json:"rollback,omitempty"`
}

// Throttle is the start back-off (reference §5.6).
type Throttle struct {
	// Failures counts consecutive tasks that stopped without reaching RUNNING.
	Failures int `json:"failures,omitempty"`
	// LastFailure is when the latest of them stopped.
	LastFailure time.Time `json:"lastFailure,omitzero"`
}

// Start throttle: the delay before the next launch after n consecutive
// start failures is min(ThrottleBase × 2^(n-1), ThrottleMax). The service
// reports SERVICE_TASK_START_IMPAIRED from ThrottleImpairedAfter failures.
const (
	ThrottleBase          = 10 * time.Second
	ThrottleMax           = 15 * time.Minute
	ThrottleImpairedAfter = 3
)

// Until is when launches may resume; zero when not throttled.
func (t Throttle) Until() time.Time {
	if t.Failures <= 0 {
		return time.Time{}
	}
	return t.LastFailure.Add(throttleDelay(t.Failures))
}

func throttleDelay(n int) time.Duration {
	d := ThrottleBase
	for i := 1; i < n; i++ {
		d *= 2
		if d >= ThrottleMax {
			return ThrottleMax
		}
	}
	return min(d, ThrottleMax)
}

// maxCounted bounds State.Counted; a crash loop cannot outgrow it, as the
// throttle and the circuit breaker slow it down long before.
const maxCounted = 256

// DecodeState reads a service's scheduler state; empty means a new service.
func DecodeState(raw json.RawMessage) (State, error) {
	var s State
	if len(raw) == 0 || string(raw) == "null" {
		return s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return State{}, fmt.Errorf("decode scheduler state: %w", err)
	}
	return s, nil
}

// Encode writes the state as the store keeps it.
func (s State) Encode() (json.RawMessage, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode scheduler state: %w", err)
	}
	return b, nil
}

// deployment returns the bookkeeping of deployment id, creating it.
func (s *State) deployment(id string) *DeploymentState {
	for i := range s.Deployments {
		if s.Deployments[i].ID == id {
			return &s.Deployments[i]
		}
	}
	s.Deployments = append(s.Deployments, DeploymentState{ID: id})
	return &s.Deployments[len(s.Deployments)-1]
}

// keepDeployments drops the bookkeeping of deployments no longer listed.
func (s *State) keepDeployments(listed func(id string) bool) {
	s.Deployments = slices.DeleteFunc(s.Deployments, func(d DeploymentState) bool { return !listed(d.ID) })
	if len(s.Deployments) == 0 {
		s.Deployments = nil
	}
}
