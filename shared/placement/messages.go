package placement

import (
	"github.com/berth-run/berth/shared/ecs"
)

// Failures is RunTask's and StartTask's failures[] for the unplaced tasks:
// one entry per task, naming the closest matching instance and why it
// refused, as ECS reports them.
func (r Result) Failures() []ecs.Failure {
	if r.Unplaced == 0 {
		return nil
	}
	f := ecs.Failure{Reason: ecs.ReasonMissing, Detail: noInstancesMessage}
	if r.Closest != nil {
		f = ecs.Failure{Arn: r.Closest.ARN, Reason: r.Closest.Reason}
	}
	out := make([]ecs.Failure, r.Unplaced)
	for i := range out {
		out[i] = f
	}
	return out
}

const noInstancesMessage = "No Container Instances were found in your cluster."

// NoInstancesError is what RunTask returns, instead of failures, when the
// cluster has no container instances at all.
func NoInstancesError() *ecs.Error { return ecs.InvalidParameter(noInstancesMessage) }

// UnableToPlaceMessage is the service event ECS records when a service's
// task fits nowhere, e.g. "service web was unable to place a task because
// no container instance met all of its requirements. The closest matching
// container-instance 0123abcd has insufficient memory available. For more
// information, see the Troubleshooting section of the Amazon ECS Developer
// Guide."
func UnableToPlaceMessage(service string, r Result) string {
	msg := "service " + service + " was unable to place a task because no container instance met all of its requirements."
	if r.Closest == nil {
		return msg
	}
	return msg + " The closest matching container-instance " + r.Closest.ID + " " + closestProblem(r.Closest.Reason) +
		" For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
}

// closestProblem phrases a rejection the way ECS's service events do.
func closestProblem(reason string) string {
	switch reason {
	case ReasonCPU:
		return "has insufficient CPU units available."
	case ReasonMemory:
		return "has insufficient memory available."
	case ReasonPorts, ReasonPortsUDP:
		return "is already using a port required by your task."
	case ReasonAttribute:
		return "is missing an attribute required by your task."
	}
	return `encountered error "` + reason + `".`
}
