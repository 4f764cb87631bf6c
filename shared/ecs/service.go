package ecs

// Service keeps a number of copies of a task definition running.
type Service struct {
	ServiceArn                    string                         `json:"serviceArn,omitempty"`
	ServiceName                   string                         `json:"serviceName,omitempty"`
	ClusterArn                    string                         `json:"clusterArn,omitempty"`
	LoadBalancers                 []Raw                          `json:"loadBalancers"`
	ServiceRegistries             []Raw                          `json:"serviceRegistries"`
	Status                        string                         `json:"status,omitempty"`
	DesiredCount                  int                            `json:"desiredCount"`
	RunningCount                  int                            `json:"runningCount"`
	PendingCount                  int                            `json:"pendingCount"`
	LaunchType                    string                         `json:"launchType,omitempty"`
	CapacityProviderStrategy      []CapacityProviderStrategyItem `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion               string                         `json:"platformVersion,omitempty"`
	PlatformFamily                string                         `json:"platformFamily,omitempty"`
	TaskDefinition                string                         `json:"taskDefinition,omitempty"`
	DeploymentConfiguration       *DeploymentConfiguration       `json:"deploymentConfiguration,omitempty"`
	Deployments                   []Deployment                   `json:"deployments"`
	RoleArn                       string                         `json:"roleArn,omitempty"`
	Events                        []ServiceEvent                 `json:"events"`
	CreatedAt                     Timestamp                      `json:"createdAt,omitzero"`
	PlacementConstraints          []PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy             []PlacementStrategy            `json:"placementStrategy"`
	NetworkConfiguration          Raw                            `json:"networkConfiguration,omitempty"`
	HealthCheckGracePeriodSeconds *int                           `json:"healthCheckGracePeriodSeconds,omitempty"`
	SchedulingStrategy            string                         `json:"schedulingStrategy,omitempty"`
	DeploymentController          *DeploymentController          `json:"deploymentController,omitempty"`
	Tags                          []Tag                          `json:"tags,omitempty"`
	CreatedBy                     string                         `json:"createdBy,omitempty"`
	EnableECSManagedTags          bool                           `json:"enableECSManagedTags"`
	PropagateTags                 string                         `json:"propagateTags,omitempty"`
	EnableExecuteCommand          bool                           `json:"enableExecuteCommand"`
	AvailabilityZoneRebalancing   string                         `json:"availabilityZoneRebalancing,omitempty"`
}

// DeploymentController selects who deploys the service; Berth implements ECS (rolling).
type DeploymentController struct {
	Type string `json:"type"`
}

// DeploymentConfiguration bounds a rolling deployment and configures its
// failure detection.
type DeploymentConfiguration struct {
	DeploymentCircuitBreaker *DeploymentCircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           *int                      `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int                      `json:"minimumHealthyPercent,omitempty"`
	Alarms                   *DeploymentAlarms         `json:"alarms,omitempty"`
	Strategy                 string                    `json:"strategy,omitempty"`
	BakeTimeInMinutes        *int                      `json:"bakeTimeInMinutes,omitempty"`
	LifecycleHooks           []Raw                     `json:"lifecycleHooks,omitempty"`
	LinearConfiguration      Raw                       `json:"linearConfiguration,omitempty"`
	CanaryConfiguration      Raw                       `json:"canaryConfiguration,omitempty"`
}

// DeploymentCircuitBreaker fails (and optionally rolls back) a deployment
// whose tasks keep failing.
type DeploymentCircuitBreaker struct {
	Enable                 bool  `json:"enable"`
	Rollback               bool  `json:"rollback"`
	ResetOnHealthyTask     *bool `json:"resetOnHealthyTask,omitempty"`
	ThresholdConfiguration Raw   `json:"thresholdConfiguration,omitempty"`
}

// DeploymentAlarms fails a deployment when one of the named alarms goes to ALARM.
type DeploymentAlarms struct {
	AlarmNames []string `json:"alarmNames"`
	Rollback   bool     `json:"rollback"`
	Enable     bool     `json:"enable"`
}

// Deployment is one rollout of a task definition within a service.
type Deployment struct {
	ID                       string                         `json:"id,omitempty"`
	Status                   string                         `json:"status,omitempty"`
	TaskDefinition           string                         `json:"taskDefinition,omitempty"`
	DesiredCount             int                            `json:"desiredCount"`
	PendingCount             int                            `json:"pendingCount"`
	RunningCount             int                            `json:"runningCount"`
	FailedTasks              int                            `json:"failedTasks"`
	CreatedAt                Timestamp                      `json:"createdAt,omitzero"`
	UpdatedAt                Timestamp                      `json:"updatedAt,omitzero"`
	CapacityProviderStrategy []CapacityProviderStrategyItem `json:"capacityProviderStrategy,omitempty"`
	LaunchType               string                         `json:"launchType,omitempty"`
	PlatformVersion          string                         `json:"platformVersion,omitempty"`
	PlatformFamily           string                         `json:"platformFamily,omitempty"`
	NetworkConfiguration     Raw                            `json:"networkConfiguration,omitempty"`
	RolloutState             string                         `json:"rolloutState,omitempty"`
	RolloutStateReason       string                         `json:"rolloutStateReason,omitempty"`
}

// ServiceEvent is a message in a service's events[].
type ServiceEvent struct {
	ID        string    `json:"id,omitempty"`
	CreatedAt Timestamp `json:"createdAt,omitzero"`
	Message   string    `json:"message,omitempty"`
}
