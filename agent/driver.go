package agent

import (
	"context"
	"errors"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// Driver runs containers on one host. The docker driver (agent/docker) runs
// them with the Docker Engine; the process driver (agent/process) runs a
// container's entryPoint+command as a host process.
//
// Every method is safe for concurrent use. Container ids are the driver's
// own and opaque to the agent.
type Driver interface {
	// Name is the driver's name ("docker", "process").
	Name() string
	// Info describes the runtime, e.g. for versionInfo.dockerVersion.
	Info(ctx context.Context) (RuntimeInfo, error)
	// Create makes a container ready to start, pulling its image first if
	// the host does not have it. The container is labelled with spec's task
	// ARN and name so that List finds it again after an agent restart.
	Create(ctx context.Context, spec ContainerSpec) (id string, err error)
	// Start starts a created container and returns once it runs (or has
	// failed to start).
	Start(ctx context.Context, id string) error
	// Stop sends the container SIGTERM, then SIGKILL once timeout has passed,
	// and returns once it has exited. Stopping an exited container does nothing.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// Inspect reads a container's current state. An unknown id yields an
	// error wrapping ErrNotFound.
	Inspect(ctx context.Context, id string) (ContainerState, error)
	// List returns every container this driver manages on this host, running
	// or not, so that a restarted agent can adopt them.
	List(ctx context.Context) ([]ContainerState, error)
	// Remove deletes a container, killing it first if it still runs.
	// Removing an unknown container does nothing.
	Remove(ctx context.Context, id string) error
	// Events wakes the agent when a container may have changed (started,
	// exited, health changed, removed): it yields container ids until ctx is
	// done, then closes. Ids are hints: the agent still calls Inspect.
	Events(ctx context.Context) <-chan string
}

// ErrNotFound is wrapped by the errors drivers return for unknown containers.
var ErrNotFound = errors.New("container not found")

// RuntimeInfo describes a driver's container runtime.
type RuntimeInfo struct {
	// Driver is the driver's name.
	Driver string
	// Version is the runtime's version, e.g. the Docker Engine's "20.10.24".
	Version string
	// APIVersion is the API version in use, when the runtime has one.
	APIVersion string
}

// Container statuses as drivers report them.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
)

// Network modes a task definition may ask for.
const (
	NetworkBridge = "bridge"
	NetworkHost   = "host"
	NetworkNone   = "none"
)

// ContainerSpec is everything a driver needs to create one container of a
// task: the container definition after overrides, and the task's identity.
type ContainerSpec struct {
	TaskARN       string
	Cluster       string
	Family        string
	Revision      int
	ContainerName string

	Image      string
	EntryPoint []string
	Command    []string
	// Environment maps variable names to values.
	Environment map[string]string
	User        string
	// WorkingDirectory is the container's working directory; empty means the
	// runtime's default.
	WorkingDirectory string

	// CPU is in ECS cpu units (1024 per vCPU); 0 means unset.
	CPU int
	// MemoryMiB is the hard memory limit and MemoryReservationMiB the soft
	// one, both in MiB; 0 means unset.
	MemoryMiB            int
	MemoryReservationMiB int
	// GPUIDs are the host GPUs assigned to the container.
	GPUIDs []string

	// NetworkMode is bridge (the default when empty), host or none.
	NetworkMode  string
	PortMappings []PortMapping

	// HealthCheck is the container's health check; nil means none (the
	// container's health stays UNKNOWN).
	HealthCheck *HealthCheck
	// StopTimeout is the container's default grace period between SIGTERM
	// and SIGKILL; 0 means the runtime's default.
	StopTimeout time.Duration

	// LogDriver and LogOptions come from logConfiguration; an empty driver
	// means json-file.
	LogDriver  string
	LogOptions map[string]string
	// DockerLabels are the task definition's dockerLabels.
	DockerLabels map[string]string
}

// PortMapping maps a container port to a host port.
type PortMapping struct {
	ContainerPort int
	// HostPort 0 asks for an ephemeral host port chosen at start.
	HostPort int
	// Protocol is tcp (the default when empty) or udp.
	Protocol string
}

// ProtocolOrDefault is the mapping's protocol, tcp when unset.
func (p PortMapping) ProtocolOrDefault() string {
	if p.Protocol == "" {
		return "tcp"
	}
	return p.Protocol
}

// HealthCheck is a container health check with durations instead of ECS's
// whole seconds, so that tests can run checks faster than ECS allows.
type HealthCheck struct {
	// Command starts with "CMD" (the rest is an argv) or "CMD-SHELL" (the
	// rest is one shell command line).
	Command     []string
	Interval    time.Duration
	Timeout     time.Duration
	Retries     int
	StartPeriod time.Duration
}

// HealthCheckFromECS converts a task definition's health check, applying
// ECS's defaults. It returns nil for a nil check.
func HealthCheckFromECS(h *ecs.HealthCheck) *HealthCheck {
	if h == nil {
		return nil
	}
	return &HealthCheck{
		Command:     append([]string(nil), h.Command...),
		Interval:    time.Duration(h.IntervalOrDefault()) * time.Second,
		Timeout:     time.Duration(h.TimeoutOrDefault()) * time.Second,
		Retries:     h.RetriesOrDefault(),
		StartPeriod: time.Duration(h.StartPeriodOrDefault()) * time.Second,
	}
}

// ContainerState is what a driver knows about one container.
type ContainerState struct {
	ID            string
	TaskARN       string
	ContainerName string
	// Status is StatusCreated, StatusRunning or StatusExited.
	Status string
	// ExitCode is set once the container has exited with a known status; a
	// process killed by signal N exits with 128+N.
	ExitCode *int
	// Reason explains an abnormal end, e.g. "OutOfMemoryError: ...".
	Reason string
	// HealthStatus is ecs.HealthHealthy, ecs.HealthUnhealthy or
	// ecs.HealthUnknown.
	HealthStatus    string
	NetworkBindings []ecs.NetworkBinding
	StartedAt       time.Time
	FinishedAt      time.Time
	// ImageDigest is the image's digest ("sha256:..."), when known.
	ImageDigest string
}
