package scheduler

import (
	"strconv"
	"strings"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// Detail types of the events the scheduler decides (reference §1.5, §1.6).
const (
	DetailServiceAction         = "ECS Service Action"
	DetailDeploymentStateChange = "ECS Deployment State Change"
)

// Event types.
const (
	EventInfo  = "INFO"
	EventWarn  = "WARN"
	EventError = "ERROR"
)

// Service Action event names the scheduler emits.
const (
	ServiceSteadyState                       = "SERVICE_STEADY_STATE"
	ServiceDesiredCountUpdated               = "SERVICE_DESIRED_COUNT_UPDATED"
	ServiceTaskStartImpaired                 = "SERVICE_TASK_START_IMPAIRED"
	ServiceDaemonPlacementConstraintViolated = "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED"
	ServiceTaskPlacementFailure              = "SERVICE_TASK_PLACEMENT_FAILURE"
	ServiceTaskConfigurationFailure          = "SERVICE_TASK_CONFIGURATION_FAILURE"
)

// Deployment State Change event names.
const (
	DeploymentInProgress = "SERVICE_DEPLOYMENT_IN_PROGRESS"
	DeploymentCompleted  = "SERVICE_DEPLOYMENT_COMPLETED"
	DeploymentFailed     = "SERVICE_DEPLOYMENT_FAILED"
)

// Event is an ECS Service Action or Deployment State Change event the
// scheduler decided; the control layer appends it to the service's outbox
// (store.OutboxEvent has the same fields) in the same commit.
type Event struct {
	DetailType   string
	EventType    string
	EventName    string
	Reason       string
	DeploymentID string
	// Instances are container instance ARNs (containerInstanceArns).
	Instances []string
	At        ecs.Timestamp
}

// Service event messages (reference §5.9), each beginning "service <name>".

// SteadyStateMessage is recorded when the service reaches a steady state,
// and again every six hours while it stays there.
func SteadyStateMessage(service string) string {
	return "service " + service + " has reached a steady state."
}

// StartImpairedMessage is recorded while the start throttle holds.
func StartImpairedMessage(service string) string {
	return "service " + service + " is unable to consistently start tasks successfully."
}

// DeploymentConfigurationMessage is recorded when minimumHealthyPercent and
// maximumPercent together allow neither a stop nor a start.
func DeploymentConfigurationMessage(service string) string {
	return "service " + service + " was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
}

// StoppedTasksMessage reports the tasks one pass stopped.
func StoppedTasksMessage(service string, taskIDs []string) string {
	return "service " + service + " has stopped " + strconv.Itoa(len(taskIDs)) + " running tasks: " + taskList(taskIDs) + "."
}

// StartedTasksMessage reports the tasks one pass started.
func StartedTasksMessage(service string, taskIDs []string) string {
	return "service " + service + " has started " + strconv.Itoa(len(taskIDs)) + " tasks: " + taskList(taskIDs) + "."
}

func taskList(ids []string) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("task ")
		b.WriteString(id)
	}
	return b.String()
}

// Deployment reasons (rolloutStateReason and the Deployment State Change
// reason). ECS documents the in-progress, completed, circuit-breaker
// start-failure and rollback texts; the health-check and alarm texts follow
// their pattern.
const (
	CircuitBreakerStartFailure  = "ECS deployment circuit breaker: task failed to start."
	CircuitBreakerHealthFailure = "ECS deployment circuit breaker: task failed health checks."
	circuitBreakerLabel         = "ECS deployment circuit breaker"
	alarmsLabel                 = "ECS deployment alarms"
)

// InProgressReason is a new deployment's reason.
func InProgressReason(id string) string { return "ECS deployment " + id + " in progress." }

// CompletedReason is a completed deployment's reason.
func CompletedReason(id string) string { return "ECS deployment " + id + " completed." }

// RollbackReason is the reason of a deployment rolling back to target after
// the circuit breaker (or, with alarms true, an alarm) failed the previous one.
func RollbackReason(alarms bool, target string) string {
	label := circuitBreakerLabel
	if alarms {
		label = alarmsLabel
	}
	return label + ": rolling back to deploymentId " + target + "."
}

// AlarmFailureReason is the reason of a deployment an alarm failed.
func AlarmFailureReason(alarms []string) string {
	return alarmsLabel + ": " + strings.Join(alarms, ", ") + " in ALARM state."
}

// Stopped reasons the scheduler gives the tasks it stops (stopCode
// ServiceSchedulerInitiated).
const (
	// StoppedUnhealthy is ECS's text for a task its health checks failed;
	// the circuit breaker counts tasks stopped with it.
	StoppedUnhealthy = "Task failed container health checks"
)

func stoppedScaling(deployment string) string {
	return "Scaling activity initiated by (deployment " + deployment + ")"
}

func stoppedDraining(instanceID string) string {
	return "Container instance " + instanceID + " is draining"
}

func stoppedInstanceGone(instanceID string) string {
	return "Container instance " + instanceID + " is no longer ACTIVE"
}

func stoppedConstraintViolated(instanceID string) string {
	return "Container instance " + instanceID + " no longer meets the placement constraints of the daemon service"
}

func stoppedDuplicate(instanceID string) string {
	return "Another task of the daemon service runs on container instance " + instanceID
}

func stoppedServiceDeleted(service string) string {
	return "Service " + service + " is being deleted"
}

// Service event bookkeeping.
const (
	// EventRepeat is how long a holding condition's message is suppressed.
	EventRepeat = 6 * time.Hour
	// MaxServiceEvents is how many events[] keeps, newest first.
	MaxServiceEvents = 100
)
