package ecs

// DefaultCluster is the cluster every action uses when none is named.
const DefaultCluster = "default"

// Cluster statuses.
const (
	ClusterActive   = "ACTIVE"
	ClusterInactive = "INACTIVE"
)

// InstanceStatus is a container instance's status.
type InstanceStatus = string

// Container instance statuses.
const (
	InstanceRegistering        InstanceStatus = "REGISTERING"
	InstanceRegistrationFailed InstanceStatus = "REGISTRATION_FAILED"
	InstanceActive             InstanceStatus = "ACTIVE"
	InstanceDraining           InstanceStatus = "DRAINING"
	InstanceDeregistering      InstanceStatus = "DEREGISTERING"
	InstanceInactive           InstanceStatus = "INACTIVE"
)

// TaskStatus is a task's lastStatus or desiredStatus.
type TaskStatus = string

// Task statuses, in lifecycle order.
const (
	TaskProvisioning   TaskStatus = "PROVISIONING"
	TaskPending        TaskStatus = "PENDING"
	TaskActivating     TaskStatus = "ACTIVATING"
	TaskRunning        TaskStatus = "RUNNING"
	TaskDeactivating   TaskStatus = "DEACTIVATING"
	TaskStopping       TaskStatus = "STOPPING"
	TaskDeprovisioning TaskStatus = "DEPROVISIONING"
	TaskStopped        TaskStatus = "STOPPED"
	TaskDeleted        TaskStatus = "DELETED"
)

var taskOrder = map[TaskStatus]int{
	TaskProvisioning: 1, TaskPending: 2, TaskActivating: 3, TaskRunning: 4,
	TaskDeactivating: 5, TaskStopping: 6, TaskDeprovisioning: 7, TaskStopped: 8, TaskDeleted: 9,
}

// TaskStatusOrder is s's position in the lifecycle (1 for PROVISIONING ...
// 9 for DELETED); 0 for an unknown status. A task never moves to a lower one.
func TaskStatusOrder(s TaskStatus) int { return taskOrder[s] }

// ValidTaskStatus reports whether s is one of the task lifecycle statuses.
func ValidTaskStatus(s string) bool { return taskOrder[s] > 0 }

// Container statuses, in lifecycle order.
const (
	ContainerPending = "PENDING"
	ContainerRunning = "RUNNING"
	ContainerStopped = "STOPPED"
)

var containerOrder = map[string]int{ContainerPending: 1, ContainerRunning: 2, ContainerStopped: 3}

// ContainerStatusOrder is s's position in the container lifecycle; 0 if unknown.
func ContainerStatusOrder(s string) int { return containerOrder[s] }

// Health statuses, for containers, tasks and container instances.
const (
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
	HealthUnknown   = "UNKNOWN"
)

// Task definition statuses.
const (
	TaskDefinitionActive           = "ACTIVE"
	TaskDefinitionInactive         = "INACTIVE"
	TaskDefinitionDeleteInProgress = "DELETE_IN_PROGRESS"
)

// Service statuses.
const (
	ServiceActive   = "ACTIVE"
	ServiceDraining = "DRAINING"
	ServiceInactive = "INACTIVE"
)

// Scheduling strategies.
const (
	SchedulingReplica = "REPLICA"
	SchedulingDaemon  = "DAEMON"
)

// Deployment statuses and rollout states.
const (
	DeploymentPrimary  = "PRIMARY"
	DeploymentActive   = "ACTIVE"
	DeploymentInactive = "INACTIVE"

	RolloutInProgress = "IN_PROGRESS"
	RolloutCompleted  = "COMPLETED"
	RolloutFailed     = "FAILED"
)

// Task stop codes.
const (
	StopTaskFailedToStart         = "TaskFailedToStart"
	StopEssentialContainerExited  = "EssentialContainerExited"
	StopUserInitiated             = "UserInitiated"
	StopServiceSchedulerInitiated = "ServiceSchedulerInitiated"
	StopSpotInterruption          = "SpotInterruption"
	StopTerminationNotice         = "TerminationNotice"
	StopInfrastructureHealth      = "InfrastructureHealth"
)

// Launch types.
const (
	LaunchEC2      = "EC2"
	LaunchExternal = "EXTERNAL"
	LaunchFargate  = "FARGATE"
)

// Network modes.
const (
	NetworkBridge = "bridge"
	NetworkHost   = "host"
	NetworkAwsvpc = "awsvpc"
	NetworkNone   = "none"
)

// Placement constraint and strategy types.
const (
	ConstraintDistinctInstance = "distinctInstance"
	ConstraintMemberOf         = "memberOf"

	StrategyBinpack = "binpack"
	StrategySpread  = "spread"
	StrategyRandom  = "random"
)

// Failure reasons ECS puts in failures[].
const (
	ReasonMissing       = "MISSING"
	ReasonInactive      = "INACTIVE"
	ReasonAgent         = "AGENT"
	ReasonAttribute     = "ATTRIBUTE"
	ReasonResourceCPU   = "RESOURCE:CPU"
	ReasonResourceMem   = "RESOURCE:MEMORY"
	ReasonResourcePorts = "RESOURCE:PORTS"
	ReasonResourceUDP   = "RESOURCE:PORTS_UDP"
	ReasonResourceGPU   = "RESOURCE:GPU"
)
