package ecs

// Task is a running (or stopped) instantiation of a task definition.
type Task struct {
	Attachments          []Attachment  `json:"attachments,omitempty"`
	Attributes           []Attribute   `json:"attributes,omitempty"`
	AvailabilityZone     string        `json:"availabilityZone,omitempty"`
	CapacityProviderName string        `json:"capacityProviderName,omitempty"`
	ClusterArn           string        `json:"clusterArn,omitempty"`
	Connectivity         string        `json:"connectivity,omitempty"`
	ConnectivityAt       Timestamp     `json:"connectivityAt,omitzero"`
	ContainerInstanceArn string        `json:"containerInstanceArn,omitempty"`
	Containers           []Container   `json:"containers"`
	CPU                  string        `json:"cpu,omitempty"`
	CreatedAt            Timestamp     `json:"createdAt,omitzero"`
	DesiredStatus        string        `json:"desiredStatus,omitempty"`
	EnableExecuteCommand bool          `json:"enableExecuteCommand"`
	ExecutionStoppedAt   Timestamp     `json:"executionStoppedAt,omitzero"`
	Group                string        `json:"group,omitempty"`
	HealthStatus         string        `json:"healthStatus,omitempty"`
	LastStatus           string        `json:"lastStatus,omitempty"`
	LaunchType           string        `json:"launchType,omitempty"`
	Memory               string        `json:"memory,omitempty"`
	Overrides            *TaskOverride `json:"overrides,omitempty"`
	PlatformVersion      string        `json:"platformVersion,omitempty"`
	PlatformFamily       string        `json:"platformFamily,omitempty"`
	PullStartedAt        Timestamp     `json:"pullStartedAt,omitzero"`
	PullStoppedAt        Timestamp     `json:"pullStoppedAt,omitzero"`
	StartedAt            Timestamp     `json:"startedAt,omitzero"`
	StartedBy            string        `json:"startedBy,omitempty"`
	StopCode             string        `json:"stopCode,omitempty"`
	StoppedAt            Timestamp     `json:"stoppedAt,omitzero"`
	StoppedReason        string        `json:"stoppedReason,omitempty"`
	StoppingAt           Timestamp     `json:"stoppingAt,omitzero"`
	Tags                 []Tag         `json:"tags,omitempty"`
	TaskArn              string        `json:"taskArn,omitempty"`
	TaskDefinitionArn    string        `json:"taskDefinitionArn,omitempty"`
	Version              int64         `json:"version"`
	EphemeralStorage     Raw           `json:"ephemeralStorage,omitempty"`
}

// ID is the task's ID: the last part of its ARN.
func (t *Task) ID() string { return lastPathPart(t.TaskArn) }

// Container is the state of one container of a task.
type Container struct {
	ContainerArn      string           `json:"containerArn,omitempty"`
	TaskArn           string           `json:"taskArn,omitempty"`
	Name              string           `json:"name,omitempty"`
	Image             string           `json:"image,omitempty"`
	ImageDigest       string           `json:"imageDigest,omitempty"`
	RuntimeID         string           `json:"runtimeId,omitempty"`
	LastStatus        string           `json:"lastStatus,omitempty"`
	ExitCode          *int             `json:"exitCode,omitempty"`
	Reason            string           `json:"reason,omitempty"`
	NetworkBindings   []NetworkBinding `json:"networkBindings"`
	NetworkInterfaces []Raw            `json:"networkInterfaces"`
	HealthStatus      string           `json:"healthStatus,omitempty"`
	ManagedAgents     []Raw            `json:"managedAgents,omitempty"`
	CPU               string           `json:"cpu,omitempty"`
	Memory            string           `json:"memory,omitempty"`
	MemoryReservation string           `json:"memoryReservation,omitempty"`
	GpuIDs            []string         `json:"gpuIds,omitempty"`
}

// NetworkBinding is a host port bound to a container port.
type NetworkBinding struct {
	BindIP             string `json:"bindIP,omitempty"`
	ContainerPort      int    `json:"containerPort,omitempty"`
	HostPort           int    `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
	HostPortRange      string `json:"hostPortRange,omitempty"`
}

// TaskOverride changes a task definition's settings for one task.
type TaskOverride struct {
	ContainerOverrides            []ContainerOverride `json:"containerOverrides,omitempty"`
	CPU                           string              `json:"cpu,omitempty"`
	InferenceAcceleratorOverrides []Raw               `json:"inferenceAcceleratorOverrides,omitempty"`
	ExecutionRoleArn              string              `json:"executionRoleArn,omitempty"`
	Memory                        string              `json:"memory,omitempty"`
	TaskRoleArn                   string              `json:"taskRoleArn,omitempty"`
	EphemeralStorage              Raw                 `json:"ephemeralStorage,omitempty"`
}

// ContainerOverride changes one container's settings for one task.
type ContainerOverride struct {
	Name                 string                `json:"name,omitempty"`
	Command              []string              `json:"command,omitempty"`
	Environment          []KeyValuePair        `json:"environment,omitempty"`
	EnvironmentFiles     []EnvironmentFile     `json:"environmentFiles,omitempty"`
	CPU                  *int                  `json:"cpu,omitempty"`
	Memory               *int                  `json:"memory,omitempty"`
	MemoryReservation    *int                  `json:"memoryReservation,omitempty"`
	ResourceRequirements []ResourceRequirement `json:"resourceRequirements,omitempty"`
}
