package placement

import (
	"fmt"

	"github.com/berth-run/berth/shared/ecs"
)

// InstanceFrom reads a stored container instance; groups counts the tasks
// on it by task group (tasks not yet stopped).
func InstanceFrom(ci *ecs.ContainerInstance, groups map[string]int) (Instance, error) {
	c, err := ecs.CapacityOf("remainingResources", ci.RemainingResources)
	if err != nil {
		return Instance{}, fmt.Errorf("container instance %s: %w", ci.ContainerInstanceArn, err)
	}
	in := Instance{
		ARN:               ci.ContainerInstanceArn,
		ID:                ci.ID(),
		Status:            ci.Status,
		AgentConnected:    ci.AgentConnected,
		EC2InstanceID:     ci.Ec2InstanceID,
		RegisteredAt:      ci.RegisteredAt.Time,
		Attributes:        make(map[string]string, len(ci.Attributes)),
		Remaining:         Resources{CPU: c.CPU, Memory: c.Memory, GPUs: len(c.GPUs), Ports: c.Ports, PortsUDP: c.PortsUDP},
		RunningTasksCount: ci.RunningTasksCount,
		Groups:            groups,
	}
	if ci.VersionInfo != nil {
		in.AgentVersion = ci.VersionInfo.AgentVersion
	}
	for _, a := range ci.Attributes {
		in.Attributes[a.Name] = a.Value
	}
	return in, nil
}
