package ecs

// TaskDefinition is a registered revision of a task family.
type TaskDefinition struct {
	TaskDefinitionArn       string                              `json:"taskDefinitionArn,omitempty"`
	ContainerDefinitions    []ContainerDefinition               `json:"containerDefinitions"`
	Family                  string                              `json:"family,omitempty"`
	TaskRoleArn             string                              `json:"taskRoleArn,omitempty"`
	ExecutionRoleArn        string                              `json:"executionRoleArn,omitempty"`
	NetworkMode             string                              `json:"networkMode,omitempty"`
	Revision                int                                 `json:"revision,omitempty"`
	Volumes                 []Raw                               `json:"volumes"`
	Status                  string                              `json:"status,omitempty"`
	RequiresAttributes      []Attribute                         `json:"requiresAttributes,omitempty"`
	PlacementConstraints    []TaskDefinitionPlacementConstraint `json:"placementConstraints"`
	Compatibilities         []string                            `json:"compatibilities,omitempty"`
	RuntimePlatform         Raw                                 `json:"runtimePlatform,omitempty"`
	RequiresCompatibilities []string                            `json:"requiresCompatibilities,omitempty"`
	CPU                     string                              `json:"cpu,omitempty"`
	Memory                  string                              `json:"memory,omitempty"`
	InferenceAccelerators   []Raw                               `json:"inferenceAccelerators,omitempty"`
	PidMode                 string                              `json:"pidMode,omitempty"`
	IpcMode                 string                              `json:"ipcMode,omitempty"`
	ProxyConfiguration      Raw                                 `json:"proxyConfiguration,omitempty"`
	RegisteredAt            Timestamp                           `json:"registeredAt,omitzero"`
	DeregisteredAt          Timestamp                           `json:"deregisteredAt,omitzero"`
	DeleteRequestedAt       Timestamp                           `json:"deleteRequestedAt,omitzero"`
	RegisteredBy            string                              `json:"registeredBy,omitempty"`
	EphemeralStorage        Raw                                 `json:"ephemeralStorage,omitempty"`
	EnableFaultInjection    *bool                               `json:"enableFaultInjection,omitempty"`
}

// TaskDefinitionPlacementConstraint is a constraint in a task definition
// (memberOf only).
type TaskDefinitionPlacementConstraint struct {
	Type       string `json:"type,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// ContainerDefinition describes one container of a task definition. Fields
// Berth does not act on (Linux parameters, mounts, ...) are kept verbatim.
type ContainerDefinition struct {
	Name                   string                 `json:"name,omitempty"`
	Image                  string                 `json:"image,omitempty"`
	RepositoryCredentials  *RepositoryCredentials `json:"repositoryCredentials,omitempty"`
	CPU                    int                    `json:"cpu"`
	Memory                 *int                   `json:"memory,omitempty"`
	MemoryReservation      *int                   `json:"memoryReservation,omitempty"`
	Links                  []string               `json:"links,omitempty"`
	PortMappings           []PortMapping          `json:"portMappings"`
	Essential              *bool                  `json:"essential,omitempty"`
	RestartPolicy          Raw                    `json:"restartPolicy,omitempty"`
	EntryPoint             []string               `json:"entryPoint,omitempty"`
	Command                []string               `json:"command,omitempty"`
	Environment            []KeyValuePair         `json:"environment"`
	EnvironmentFiles       []EnvironmentFile      `json:"environmentFiles,omitempty"`
	MountPoints            []Raw                  `json:"mountPoints"`
	VolumesFrom            []Raw                  `json:"volumesFrom"`
	LinuxParameters        Raw                    `json:"linuxParameters,omitempty"`
	Secrets                []Secret               `json:"secrets,omitempty"`
	DependsOn              []ContainerDependency  `json:"dependsOn,omitempty"`
	StartTimeout           *int                   `json:"startTimeout,omitempty"`
	StopTimeout            *int                   `json:"stopTimeout,omitempty"`
	VersionConsistency     string                 `json:"versionConsistency,omitempty"`
	Hostname               string                 `json:"hostname,omitempty"`
	User                   string                 `json:"user,omitempty"`
	WorkingDirectory       string                 `json:"workingDirectory,omitempty"`
	DisableNetworking      *bool                  `json:"disableNetworking,omitempty"`
	Privileged             *bool                  `json:"privileged,omitempty"`
	ReadonlyRootFilesystem *bool                  `json:"readonlyRootFilesystem,omitempty"`
	DNSServers             []string               `json:"dnsServers,omitempty"`
	DNSSearchDomains       []string               `json:"dnsSearchDomains,omitempty"`
	ExtraHosts             []HostEntry            `json:"extraHosts,omitempty"`
	DockerSecurityOptions  []string               `json:"dockerSecurityOptions,omitempty"`
	Interactive            *bool                  `json:"interactive,omitempty"`
	PseudoTerminal         *bool                  `json:"pseudoTerminal,omitempty"`
	DockerLabels           map[string]string      `json:"dockerLabels,omitempty"`
	Ulimits                []Ulimit               `json:"ulimits,omitempty"`
	LogConfiguration       *LogConfiguration      `json:"logConfiguration,omitempty"`
	HealthCheck            *HealthCheck           `json:"healthCheck,omitempty"`
	SystemControls         []SystemControl        `json:"systemControls"`
	ResourceRequirements   []ResourceRequirement  `json:"resourceRequirements,omitempty"`
	FirelensConfiguration  Raw                    `json:"firelensConfiguration,omitempty"`
	CredentialSpecs        []string               `json:"credentialSpecs,omitempty"`
}

// IsEssential applies ECS's default: a container is essential unless it says otherwise.
func (c *ContainerDefinition) IsEssential() bool { return c.Essential == nil || *c.Essential }

// ReservedMemory is the memory placement reserves for the container:
// memoryReservation if set, else memory (MiB).
func (c *ContainerDefinition) ReservedMemory() int {
	if c.MemoryReservation != nil {
		return *c.MemoryReservation
	}
	if c.Memory != nil {
		return *c.Memory
	}
	return 0
}

// GPUs is the number of GPUs the container requires.
func (c *ContainerDefinition) GPUs() int {
	for _, r := range c.ResourceRequirements {
		if r.Type == "GPU" {
			n, _ := parsePositiveInt(r.Value)
			return n
		}
	}
	return 0
}

// RepositoryCredentials names the secret holding private registry credentials.
type RepositoryCredentials struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

// PortMapping maps a container port to a host port.
type PortMapping struct {
	ContainerPort      *int   `json:"containerPort,omitempty"`
	HostPort           *int   `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	Name               string `json:"name,omitempty"`
	AppProtocol        string `json:"appProtocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
}

// ProtocolOrDefault is the mapping's protocol, tcp when unset.
func (p PortMapping) ProtocolOrDefault() string {
	if p.Protocol == "" {
		return "tcp"
	}
	return p.Protocol
}

// StaticHostPort is the host port the mapping needs reserved, or 0 when the
// port is assigned dynamically (hostPort omitted or 0).
func (p PortMapping) StaticHostPort() int {
	if p.HostPort == nil {
		return 0
	}
	return *p.HostPort
}

// EnvironmentFile is an S3 object holding environment variables.
type EnvironmentFile struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// Secret injects a value from Secrets Manager or SSM as an environment variable.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// ContainerDependency orders container start-up.
type ContainerDependency struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

// Dependency conditions.
const (
	DependStart    = "START"
	DependComplete = "COMPLETE"
	DependSuccess  = "SUCCESS"
	DependHealthy  = "HEALTHY"
)

// HostEntry is an /etc/hosts entry.
type HostEntry struct {
	Hostname  string `json:"hostname"`
	IPAddress string `json:"ipAddress"`
}

// Ulimit is a resource limit for a container.
type Ulimit struct {
	Name      string `json:"name"`
	SoftLimit int    `json:"softLimit"`
	HardLimit int    `json:"hardLimit"`
}

// LogConfiguration selects and configures the container's log driver.
type LogConfiguration struct {
	LogDriver     string            `json:"logDriver"`
	Options       map[string]string `json:"options,omitempty"`
	SecretOptions []Secret          `json:"secretOptions,omitempty"`
}

// HealthCheck is a container health check. Durations are seconds; nil means
// ECS's default.
type HealthCheck struct {
	Command     []string `json:"command"`
	Interval    *int     `json:"interval,omitempty"`
	Timeout     *int     `json:"timeout,omitempty"`
	Retries     *int     `json:"retries,omitempty"`
	StartPeriod *int     `json:"startPeriod,omitempty"`
}

// Health check defaults, in seconds and tries.
const (
	DefaultHealthInterval = 30
	DefaultHealthTimeout  = 5
	DefaultHealthRetries  = 3
)

// IntervalOrDefault, TimeoutOrDefault, RetriesOrDefault and
// StartPeriodOrDefault apply ECS's defaults.
func (h *HealthCheck) IntervalOrDefault() int { return orDefault(h.Interval, DefaultHealthInterval) }

// TimeoutOrDefault is the check timeout in seconds.
func (h *HealthCheck) TimeoutOrDefault() int { return orDefault(h.Timeout, DefaultHealthTimeout) }

// RetriesOrDefault is the number of consecutive failures that mean UNHEALTHY.
func (h *HealthCheck) RetriesOrDefault() int { return orDefault(h.Retries, DefaultHealthRetries) }

// StartPeriodOrDefault is the grace period in seconds (0: none).
func (h *HealthCheck) StartPeriodOrDefault() int { return orDefault(h.StartPeriod, 0) }

func orDefault(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// SystemControl is a namespaced kernel parameter.
type SystemControl struct {
	Namespace string `json:"namespace,omitempty"`
	Value     string `json:"value,omitempty"`
}

// ResourceRequirement asks for GPUs or an inference accelerator.
type ResourceRequirement struct {
	Value           string `json:"value"`
	Type            string `json:"type"`
	SharingStrategy string `json:"sharingStrategy,omitempty"`
}
