package docker

import (
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
)

// ReasonOOM is ECS's reason for a container the kernel killed for its memory.
const ReasonOOM = "OutOfMemoryError: Container killed due to memory usage"

func isNotFound(err error) bool { return errors.Is(err, agent.ErrNotFound) }

func stateOf(resp container.InspectResponse) agent.ContainerState {
	st := agent.ContainerState{ID: resp.ID, HealthStatus: ecs.HealthUnknown}
	if resp.Config != nil {
		st.TaskARN = resp.Config.Labels[LabelTaskARN]
		st.ContainerName = resp.Config.Labels[LabelContainerName]
		st.ImageDigest = resp.Config.Labels[LabelImageDigest]
	}
	if st.ImageDigest == "" {
		st.ImageDigest = resp.Image
	}
	if resp.State == nil {
		st.Status = agent.StatusCreated
		return st
	}
	s := resp.State
	st.Status = statusOf(s.Status)
	st.StartedAt = parseDockerTime(s.StartedAt)
	st.FinishedAt = parseDockerTime(s.FinishedAt)
	if st.Status == agent.StatusExited {
		code := s.ExitCode
		st.ExitCode = &code
	}
	switch {
	case s.OOMKilled:
		st.Reason = ReasonOOM
	case s.Error != "":
		st.Reason = "CannotStartContainerError: " + s.Error
	}
	if s.Health != nil {
		st.HealthStatus = healthOf(s.Health.Status)
	}
	if st.Status == agent.StatusRunning {
		st.NetworkBindings = bindingsOf(resp)
	}
	return st
}

// statusOf folds Docker's seven states into the driver's three: a paused or
// restarting container still holds its resources, a dead one has exited.
func statusOf(s container.ContainerState) string {
	switch s {
	case container.StateCreated:
		return agent.StatusCreated
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return agent.StatusRunning
	default:
		return agent.StatusExited
	}
}

func healthOf(s container.HealthStatus) string {
	switch s {
	case container.Healthy:
		return ecs.HealthHealthy
	case container.Unhealthy:
		return ecs.HealthUnhealthy
	default:
		return ecs.HealthUnknown
	}
}

func parseDockerTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// bindingsOf reads the host ports Docker bound (including the ephemeral ones
// it chose), or, in host mode, the exposed ports themselves.
func bindingsOf(resp container.InspectResponse) []ecs.NetworkBinding {
	var out []ecs.NetworkBinding
	if resp.HostConfig != nil && resp.HostConfig.NetworkMode.IsHost() && resp.Config != nil {
		for port := range resp.Config.ExposedPorts {
			out = append(out, ecs.NetworkBinding{
				BindIP: "0.0.0.0", ContainerPort: port.Int(), HostPort: port.Int(), Protocol: port.Proto(),
			})
		}
		sortBindings(out)
		return out
	}
	if resp.NetworkSettings == nil {
		return nil
	}
	for port, bindings := range resp.NetworkSettings.Ports {
		out = append(out, bindingsOfPort(port, bindings)...)
	}
	sortBindings(out)
	return out
}

func bindingsOfPort(port nat.Port, bindings []nat.PortBinding) []ecs.NetworkBinding {
	var out []ecs.NetworkBinding
	for _, b := range bindings {
		hostPort, err := strconv.Atoi(b.HostPort)
		if err != nil || hostPort == 0 {
			continue
		}
		ip := b.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		out = append(out, ecs.NetworkBinding{
			BindIP: ip, ContainerPort: port.Int(), HostPort: hostPort, Protocol: port.Proto(),
		})
	}
	return out
}

func sortBindings(b []ecs.NetworkBinding) {
	sort.Slice(b, func(i, j int) bool {
		if b[i].ContainerPort != b[j].ContainerPort {
			return b[i].ContainerPort < b[j].ContainerPort
		}
		if b[i].Protocol != b[j].Protocol {
			return b[i].Protocol < b[j].Protocol
		}
		return b[i].BindIP < b[j].BindIP
	})
}
