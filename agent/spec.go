package agent

import (
	"fmt"
	"maps"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// Containers lists a task's containers with its overrides applied, in
// task-definition order.
func Containers(td *ecs.TaskDefinition, ov *ecs.TaskOverride) []ecs.ContainerDefinition {
	out := make([]ecs.ContainerDefinition, len(td.ContainerDefinitions))
	for i, c := range td.ContainerDefinitions {
		out[i] = ecs.EffectiveContainer(c, ov)
	}
	return out
}

// AssignGPUs hands the task's GPUs to its containers in definition order,
// each taking as many as its resourceRequirements ask for.
func AssignGPUs(defs []ecs.ContainerDefinition, gpus []string) map[string][]string {
	out := map[string][]string{}
	next := 0
	for _, c := range defs {
		n := c.GPUs()
		if n == 0 {
			continue
		}
		end := min(next+n, len(gpus))
		out[c.Name] = append([]string(nil), gpus[next:end]...)
		next = end
	}
	return out
}

// SpecInput is what one container's spec is built from.
type SpecInput struct {
	TaskArn string
	Cluster string
	TD      *ecs.TaskDefinition
	// Def is the container definition with the task's overrides applied.
	Def    ecs.ContainerDefinition
	GPUIDs []string
	// StopTimeout applies when the definition has no stopTimeout.
	StopTimeout time.Duration
	// HealthCheckScale multiplies health-check durations (1 keeps them).
	HealthCheckScale float64
}

// ContainerSpecFor builds a driver's ContainerSpec. Definitions that need
// what the agent cannot provide (secrets, environment files, private
// registry credentials from Secrets Manager) fail with a reason a user can
// act on.
func ContainerSpecFor(in SpecInput) (ContainerSpec, error) {
	d := in.Def
	if err := unsupported(d); err != nil {
		return ContainerSpec{}, err
	}
	spec := ContainerSpec{
		TaskARN:          in.TaskArn,
		Cluster:          in.Cluster,
		Family:           in.TD.Family,
		Revision:         in.TD.Revision,
		ContainerName:    d.Name,
		Image:            d.Image,
		EntryPoint:       append([]string(nil), d.EntryPoint...),
		Command:          append([]string(nil), d.Command...),
		Environment:      environmentOf(d.Environment),
		User:             d.User,
		WorkingDirectory: d.WorkingDirectory,
		CPU:              d.CPU,
		GPUIDs:           append([]string(nil), in.GPUIDs...),
		NetworkMode:      in.TD.NetworkMode,
		HealthCheck:      scaleHealthCheck(HealthCheckFromECS(d.HealthCheck), in.HealthCheckScale),
		StopTimeout:      StopTimeoutOf(d, in.StopTimeout),
		DockerLabels:     maps.Clone(d.DockerLabels),
	}
	if d.Memory != nil {
		spec.MemoryMiB = *d.Memory
	}
	if d.MemoryReservation != nil {
		spec.MemoryReservationMiB = *d.MemoryReservation
	}
	for _, pm := range d.PortMappings {
		if pm.ContainerPort == nil {
			continue
		}
		spec.PortMappings = append(spec.PortMappings, PortMapping{
			ContainerPort: *pm.ContainerPort,
			HostPort:      pm.StaticHostPort(),
			Protocol:      pm.ProtocolOrDefault(),
		})
	}
	if lc := d.LogConfiguration; lc != nil {
		spec.LogDriver = lc.LogDriver
		spec.LogOptions = maps.Clone(lc.Options)
	}
	return spec, nil
}

func unsupported(d ecs.ContainerDefinition) error {
	switch {
	case len(d.Secrets) > 0:
		return fmt.Errorf("ResourceInitializationError: container %s: secrets are not supported by the Berth agent; pass the values in environment instead", d.Name)
	case len(d.EnvironmentFiles) > 0:
		return fmt.Errorf("ResourceInitializationError: container %s: environmentFiles are not supported by the Berth agent; pass the values in environment instead", d.Name)
	case d.RepositoryCredentials != nil:
		return fmt.Errorf("CannotPullContainerError: container %s: repositoryCredentials (Secrets Manager) are not supported by the Berth agent; log the host in to the registry instead", d.Name)
	case d.LogConfiguration != nil && len(d.LogConfiguration.SecretOptions) > 0:
		return fmt.Errorf("ResourceInitializationError: container %s: logConfiguration.secretOptions are not supported by the Berth agent", d.Name)
	}
	return nil
}

// environmentOf turns ECS's list into a map; a later entry wins, so that an
// override's variables replace the definition's.
func environmentOf(kvs []ecs.KeyValuePair) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.Name] = kv.Value
	}
	return out
}

// StopTimeoutOf is a container's grace period: its stopTimeout, else the
// agent's default.
func StopTimeoutOf(d ecs.ContainerDefinition, def time.Duration) time.Duration {
	if d.StopTimeout != nil && *d.StopTimeout > 0 {
		return time.Duration(*d.StopTimeout) * time.Second
	}
	return def
}

// StartTimeoutOf is how long dependents wait for a container: its
// startTimeout, else the agent's default.
func StartTimeoutOf(d ecs.ContainerDefinition, def time.Duration) time.Duration {
	if d.StartTimeout != nil && *d.StartTimeout > 0 {
		return time.Duration(*d.StartTimeout) * time.Second
	}
	return def
}

func scaleHealthCheck(h *HealthCheck, scale float64) *HealthCheck {
	if h == nil || scale <= 0 || scale == 1 {
		return h
	}
	s := func(d time.Duration) time.Duration {
		if d == 0 {
			return 0
		}
		return max(time.Duration(float64(d)*scale), time.Millisecond)
	}
	h.Interval, h.Timeout, h.StartPeriod = s(h.Interval), s(h.Timeout), s(h.StartPeriod)
	return h
}
