package docker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/berth-run/berth/agent"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
)

// The labels the real ECS agent puts on task containers; Berth uses the same
// names so that tools built for ECS hosts keep working.
const (
	LabelTaskARN       = "com.amazonaws.ecs.task-arn"
	LabelContainerName = "com.amazonaws.ecs.container-name"
	LabelCluster       = "com.amazonaws.ecs.cluster"
	LabelFamily        = "com.amazonaws.ecs.task-definition-family"
	LabelRevision      = "com.amazonaws.ecs.task-definition-version"
)

// Berth's own labels.
const (
	// LabelScope separates the containers of agents that share one engine
	// (e.g. several local agents in tests): each driver lists, watches and
	// adopts only its own scope.
	LabelScope = "run.berth.scope"
	// LabelImageDigest remembers the image digest resolved at create.
	LabelImageDigest = "run.berth.image-digest"
)

// minCPUShares is the kernel's lowest cpu.shares; ECS gives containers
// without cpu units this minimum too.
const minCPUShares = 2

const defaultLogDriver = "json-file"

// createRequest is what the Engine API's container create takes.
type createRequest struct {
	config *container.Config
	host   *container.HostConfig
}

func buildCreateRequest(spec agent.ContainerSpec, scope, imageDigest string) (createRequest, error) {
	mode, err := networkMode(spec.NetworkMode)
	if err != nil {
		return createRequest{}, err
	}
	exposed, bindings, err := portSets(spec.PortMappings, mode)
	if err != nil {
		return createRequest{}, err
	}
	cfg := &container.Config{
		Image:        spec.Image,
		Env:          environment(spec.Environment),
		Entrypoint:   spec.EntryPoint,
		Cmd:          spec.Command,
		User:         spec.User,
		WorkingDir:   spec.WorkingDirectory,
		ExposedPorts: exposed,
		Labels:       labels(spec, scope, imageDigest),
		Healthcheck:  healthConfig(spec.HealthCheck),
	}
	if spec.StopTimeout > 0 {
		secs := ceilSeconds(spec.StopTimeout)
		cfg.StopTimeout = &secs
	}
	host := &container.HostConfig{
		NetworkMode:  container.NetworkMode(mode),
		PortBindings: bindings,
		LogConfig:    logConfig(spec),
		Resources:    resources(spec),
	}
	return createRequest{config: cfg, host: host}, nil
}

func networkMode(mode string) (string, error) {
	switch mode {
	case "", agent.NetworkBridge:
		return agent.NetworkBridge, nil
	case agent.NetworkHost, agent.NetworkNone:
		return mode, nil
	default:
		return "", fmt.Errorf("network mode %q: the docker driver supports bridge, host and none", mode)
	}
}

// portSets exposes every mapped port and, in bridge mode, binds it to its
// host port; an empty host port lets Docker pick an ephemeral one. Host mode
// uses the container's ports directly, so only the exposure is kept (Inspect
// derives the bindings from it).
func portSets(mappings []agent.PortMapping, mode string) (nat.PortSet, nat.PortMap, error) {
	if len(mappings) == 0 {
		return nil, nil, nil
	}
	if mode == agent.NetworkNone {
		return nil, nil, fmt.Errorf("portMappings: network mode none cannot map ports")
	}
	exposed := nat.PortSet{}
	bindings := nat.PortMap{}
	for i, m := range mappings {
		if m.ContainerPort < 1 || m.ContainerPort > 65535 {
			return nil, nil, fmt.Errorf("portMappings[%d].containerPort %d: must be 1-65535", i, m.ContainerPort)
		}
		if m.HostPort < 0 || m.HostPort > 65535 {
			return nil, nil, fmt.Errorf("portMappings[%d].hostPort %d: must be 0-65535", i, m.HostPort)
		}
		if mode == agent.NetworkHost && m.HostPort != 0 && m.HostPort != m.ContainerPort {
			return nil, nil, fmt.Errorf("portMappings[%d]: in host mode hostPort must be empty or equal containerPort", i)
		}
		if p := m.ProtocolOrDefault(); p != "tcp" && p != "udp" {
			return nil, nil, fmt.Errorf("portMappings[%d].protocol %q: must be tcp or udp", i, p)
		}
		port, err := nat.NewPort(m.ProtocolOrDefault(), strconv.Itoa(m.ContainerPort))
		if err != nil {
			return nil, nil, fmt.Errorf("portMappings[%d]: %w", i, err)
		}
		exposed[port] = struct{}{}
		if mode != agent.NetworkBridge {
			continue
		}
		hostPort := ""
		if m.HostPort != 0 {
			hostPort = strconv.Itoa(m.HostPort)
		}
		bindings[port] = append(bindings[port], nat.PortBinding{HostPort: hostPort})
	}
	if mode != agent.NetworkBridge {
		bindings = nil
	}
	return exposed, bindings, nil
}

func environment(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, name := range slices.Sorted(maps.Keys(env)) {
		out = append(out, name+"="+env[name])
	}
	return out
}

// labels are the task definition's dockerLabels plus the agent's own, which
// win so that a definition cannot hide a container from re-adoption.
func labels(spec agent.ContainerSpec, scope, imageDigest string) map[string]string {
	out := maps.Clone(spec.DockerLabels)
	if out == nil {
		out = map[string]string{}
	}
	out[LabelTaskARN] = spec.TaskARN
	out[LabelContainerName] = spec.ContainerName
	out[LabelCluster] = spec.Cluster
	out[LabelFamily] = spec.Family
	out[LabelRevision] = strconv.Itoa(spec.Revision)
	out[LabelScope] = scope
	if imageDigest != "" {
		out[LabelImageDigest] = imageDigest
	}
	return out
}

// healthConfig turns the task definition's check into Docker's. Without one
// the image's own HEALTHCHECK is disabled: ECS honours only task-definition
// checks.
func healthConfig(h *agent.HealthCheck) *container.HealthConfig {
	if h == nil {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	return &container.HealthConfig{
		Test:        h.Command,
		Interval:    h.Interval,
		Timeout:     h.Timeout,
		Retries:     h.Retries,
		StartPeriod: h.StartPeriod,
	}
}

func logConfig(spec agent.ContainerSpec) container.LogConfig {
	driver := spec.LogDriver
	if driver == "" {
		driver = defaultLogDriver
	}
	return container.LogConfig{Type: driver, Config: maps.Clone(spec.LogOptions)}
}

func resources(spec agent.ContainerSpec) container.Resources {
	r := container.Resources{CPUShares: int64(max(spec.CPU, minCPUShares))}
	if spec.MemoryMiB > 0 {
		r.Memory = int64(spec.MemoryMiB) << 20
		// Like the ECS agent without linuxParameters.maxSwap: no swap, so
		// the memory limit is a hard one.
		r.MemorySwap = r.Memory
	}
	if spec.MemoryReservationMiB > 0 {
		r.MemoryReservation = int64(spec.MemoryReservationMiB) << 20
	}
	if len(spec.GPUIDs) > 0 {
		r.DeviceRequests = []container.DeviceRequest{{
			Driver:       "nvidia",
			DeviceIDs:    spec.GPUIDs,
			Capabilities: [][]string{{"gpu"}},
		}}
	}
	return r
}
