package bus

// Event types of Service Action and Deployment State Change events.
const (
	EventTypeInfo  = "INFO"
	EventTypeWarn  = "WARN"
	EventTypeError = "ERROR"
)

// Service Action event names ECS emits (reference §1.5).
const (
	ServiceSteadyState                       = "SERVICE_STEADY_STATE"
	TaskSetSteadyState                       = "TASKSET_STEADY_STATE"
	CapacityProviderSteadyState              = "CAPACITY_PROVIDER_STEADY_STATE"
	ServiceDesiredCountUpdated               = "SERVICE_DESIRED_COUNT_UPDATED"
	ServiceTasksStopped                      = "TASKS_STOPPED"
	ServiceTaskStartImpaired                 = "SERVICE_TASK_START_IMPAIRED"
	ServiceDiscoveryInstanceUnhealthy        = "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY"
	ServiceDaemonPlacementConstraintViolated = "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED"
	ECSOperationThrottled                    = "ECS_OPERATION_THROTTLED"
	ServiceDiscoveryOperationThrottled       = "SERVICE_DISCOVERY_OPERATION_THROTTLED"
	ServiceTaskPlacementFailure              = "SERVICE_TASK_PLACEMENT_FAILURE"
	ServiceTaskConfigurationFailure          = "SERVICE_TASK_CONFIGURATION_FAILURE"
)

// Deployment State Change event names.
const (
	DeploymentInProgress = "SERVICE_DEPLOYMENT_IN_PROGRESS"
	DeploymentCompleted  = "SERVICE_DEPLOYMENT_COMPLETED"
	DeploymentFailed     = "SERVICE_DEPLOYMENT_FAILED"
)

// ServiceAction is the detail of an "ECS Service Action" event; the
// event's resources hold the service's ARN. It has no version.
type ServiceAction struct {
	EventType             string   `json:"eventType"`
	EventName             string   `json:"eventName"`
	ClusterArn            string   `json:"clusterArn"`
	CreatedAt             ISOTime  `json:"createdAt"`
	CapacityProviderArns  []string `json:"capacityProviderArns,omitempty"`
	ContainerInstanceArns []string `json:"containerInstanceArns,omitempty"`
	// Reason is set on failures, e.g. RESOURCE:MEMORY on a placement failure.
	Reason string `json:"reason,omitempty"`
}

// DetailType names the event this detail belongs to.
func (ServiceAction) DetailType() string { return DetailTypeServiceAction }

func (d ServiceAction) validate() error {
	if !validEventType(d.EventType, true) {
		return invalidEvent("detail.eventType", "must be INFO, WARN or ERROR, got %q", d.EventType)
	}
	if d.EventName == "" {
		return invalidEvent("detail.eventName", "must not be empty")
	}
	if d.ClusterArn == "" {
		return invalidEvent("detail.clusterArn", "must not be empty")
	}
	return nil
}

// DeploymentStateChange is the detail of an "ECS Deployment State Change"
// event; the event's resources hold the service's ARN. It has no version.
type DeploymentStateChange struct {
	EventType    string  `json:"eventType"`
	EventName    string  `json:"eventName"`
	DeploymentID string  `json:"deploymentId"`
	UpdatedAt    ISOTime `json:"updatedAt"`
	Reason       string  `json:"reason"`
}

// DetailType names the event this detail belongs to.
func (DeploymentStateChange) DetailType() string { return DetailTypeDeploymentStateChange }

func (d DeploymentStateChange) validate() error {
	if !validEventType(d.EventType, false) {
		return invalidEvent("detail.eventType", "must be INFO or ERROR, got %q", d.EventType)
	}
	switch d.EventName {
	case DeploymentInProgress, DeploymentCompleted, DeploymentFailed:
	default:
		return invalidEvent("detail.eventName", "must be %s, %s or %s, got %q",
			DeploymentInProgress, DeploymentCompleted, DeploymentFailed, d.EventName)
	}
	if d.DeploymentID == "" {
		return invalidEvent("detail.deploymentId", "must not be empty")
	}
	return nil
}

// ServiceChange is the detail of the Berth-internal "Berth Service Change"
// event, emitted when a service item changes so the reconciler runs for it.
// Version is the service item's version when known.
type ServiceChange struct {
	ClusterArn  string `json:"clusterArn"`
	ServiceArn  string `json:"serviceArn"`
	ServiceName string `json:"serviceName"`
	Version     int64  `json:"version,omitempty"`
}

// DetailType names the event this detail belongs to.
func (ServiceChange) DetailType() string { return DetailTypeServiceChange }

func (d ServiceChange) validate() error {
	switch {
	case d.ClusterArn == "":
		return invalidEvent("detail.clusterArn", "must not be empty")
	case d.ServiceArn == "":
		return invalidEvent("detail.serviceArn", "must not be empty")
	case d.ServiceName == "":
		return invalidEvent("detail.serviceName", "must not be empty")
	}
	return nil
}

// Scheduled is the (empty) detail of the "Scheduled Event" a schedule rule
// emits; the event's resources hold the rule's ARN.
type Scheduled struct{}

// DetailType names the event this detail belongs to.
func (Scheduled) DetailType() string { return DetailTypeScheduled }

func validEventType(t string, warnAllowed bool) bool {
	return t == EventTypeInfo || t == EventTypeError || (warnAllowed && t == EventTypeWarn)
}
