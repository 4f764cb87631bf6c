package agentproto

import "github.com/berth-run/berth/shared/ecs"

// Version is the protocol version; an agent sends its own and the control
// plane refuses one it does not speak.
const Version = 1

// TargetPrefix is the X-Amz-Target prefix of the protocol's actions.
const TargetPrefix = "BerthAgent"

// PollInput asks for the instance's desired tasks; the poll is also the
// agent's heartbeat.
type PollInput struct {
	ProtocolVersion      int    `json:"protocolVersion"`
	Cluster              string `json:"cluster"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
	// Digest is the digest of the last answer the agent acted on; with
	// WaitSeconds > 0 the server may hold the poll until the answer changes.
	Digest      string `json:"digest,omitempty"`
	WaitSeconds int    `json:"waitSeconds,omitempty"`
}

// PollOutput is what the instance should converge to.
type PollOutput struct {
	Digest         string `json:"digest"`
	InstanceStatus string `json:"instanceStatus"`
	// Tasks are the instance's tasks that have not stopped, including those
	// whose desiredStatus is STOPPED (the agent must stop them).
	Tasks []Task `json:"tasks"`
	// TaskDefinitions holds each task's definition, by ARN.
	TaskDefinitions map[string]ecs.TaskDefinition `json:"taskDefinitions"`
	// PollIntervalSeconds is how long the agent may wait before polling again.
	PollIntervalSeconds int `json:"pollIntervalSeconds"`
}

// Task is one task as the agent needs it.
type Task struct {
	TaskArn           string            `json:"taskArn"`
	TaskDefinitionArn string            `json:"taskDefinitionArn"`
	DesiredStatus     string            `json:"desiredStatus"`
	LastStatus        string            `json:"lastStatus"`
	Group             string            `json:"group,omitempty"`
	StartedBy         string            `json:"startedBy,omitempty"`
	Overrides         *ecs.TaskOverride `json:"overrides,omitempty"`
	Containers        []ecs.Container   `json:"containers"`
	GPUIDs            []string          `json:"gpuIds,omitempty"`
	// Seq is the sequence number of the last report the server applied, so
	// a restarted agent numbers its next report above it.
	Seq int64 `json:"seq"`
}

// TaskStateInput reports the state of one task and its containers as the
// agent observed it.
type TaskStateInput struct {
	ProtocolVersion      int              `json:"protocolVersion"`
	Cluster              string           `json:"cluster"`
	ContainerInstanceArn string           `json:"containerInstanceArn"`
	TaskArn              string           `json:"taskArn"`
	Seq                  int64            `json:"seq"`
	Status               string           `json:"status"`
	HealthStatus         string           `json:"healthStatus,omitempty"`
	StopCode             string           `json:"stopCode,omitempty"`
	Reason               string           `json:"reason,omitempty"`
	Containers           []ContainerState `json:"containers"`
	PullStartedAt        ecs.Timestamp    `json:"pullStartedAt,omitzero"`
	PullStoppedAt        ecs.Timestamp    `json:"pullStoppedAt,omitzero"`
	StartedAt            ecs.Timestamp    `json:"startedAt,omitzero"`
	ExecutionStoppedAt   ecs.Timestamp    `json:"executionStoppedAt,omitzero"`
}

// ContainerState is one container's observed state.
type ContainerState struct {
	ContainerName   string               `json:"containerName"`
	RuntimeID       string               `json:"runtimeId,omitempty"`
	ImageDigest     string               `json:"imageDigest,omitempty"`
	Status          string               `json:"status"`
	ExitCode        *int                 `json:"exitCode,omitempty"`
	Reason          string               `json:"reason,omitempty"`
	HealthStatus    string               `json:"healthStatus,omitempty"`
	NetworkBindings []ecs.NetworkBinding `json:"networkBindings,omitempty"`
}

// TaskStateOutput says whether the report changed the task, and the
// sequence number the server has for it, so an agent whose report was
// stale can number the next one above it.
type TaskStateOutput struct {
	Applied  bool  `json:"applied"`
	Version  int64 `json:"version"`
	AgentSeq int64 `json:"agentSeq"`
}

// MetricsInput is an agent's report of its tasks' usage.
type MetricsInput struct {
	ProtocolVersion      int         `json:"protocolVersion"`
	Cluster              string      `json:"cluster"`
	ContainerInstanceArn string      `json:"containerInstanceArn"`
	Tasks                []TaskUsage `json:"tasks"`
}

// TaskUsage is one task's usage: its average CPU over the sampling
// interval in CPU units (1024 per vCPU) and its memory in MiB.
type TaskUsage struct {
	TaskArn   string  `json:"taskArn"`
	CPUUnits  float64 `json:"cpuUnits"`
	MemoryMiB float64 `json:"memoryMiB"`
}

// MetricsOutput says how many task samples counted towards service
// metrics, and how long the agent should wait before its next report.
type MetricsOutput struct {
	Accepted           int `json:"accepted"`
	ReportEverySeconds int `json:"reportEverySeconds,omitempty"`
}
