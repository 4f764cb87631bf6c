package bus

import (
	"github.com/berth-run/berth/shared/ecs"
)

// ContainerInstanceStateChange is the detail of an "ECS Container Instance
// State Change" event: the members of the ContainerInstance object ECS puts
// in it, plus the cluster's ARN and updatedAt (the time of the change).
// detail.version is the instance's version.
type ContainerInstanceStateChange struct {
	AgentConnected       bool            `json:"agentConnected"`
	Attributes           []ecs.Attribute `json:"attributes"`
	ClusterArn           string          `json:"clusterArn"`
	ContainerInstanceArn string          `json:"containerInstanceArn"`
	Ec2InstanceID        string          `json:"ec2InstanceId,omitempty"`
	RegisteredResources  []ecs.Resource  `json:"registeredResources"`
	RemainingResources   []ecs.Resource  `json:"remainingResources"`
	Status               string          `json:"status"`
	Version              int64           `json:"version"`
	VersionInfo          ecs.VersionInfo `json:"versionInfo"`
	UpdatedAt            ISOTime         `json:"updatedAt"`
}

// DetailType names the event this detail belongs to.
func (ContainerInstanceStateChange) DetailType() string {
	return DetailTypeContainerInstanceStateChange
}

// NewContainerInstanceStateChange takes the event's members from ci; the
// cluster comes from ci's ARN (arn:...:container-instance/<cluster>/<id>).
func NewContainerInstanceStateChange(ci *ecs.ContainerInstance, at ISOTime) (ContainerInstanceStateChange, error) {
	a, ok := ecs.ParseARN(ci.ContainerInstanceArn)
	if !ok || a.Type != "container-instance" || len(a.Path) != 2 {
		return ContainerInstanceStateChange{}, invalidEvent("detail.containerInstanceArn",
			"%q is not a container instance ARN of the form arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id>", ci.ContainerInstanceArn)
	}
	d := ContainerInstanceStateChange{
		AgentConnected:       ci.AgentConnected,
		Attributes:           nonNil(ci.Attributes),
		ClusterArn:           ecs.Account{Region: a.Region, ID: a.Account}.ClusterARN(a.Path[0]),
		ContainerInstanceArn: ci.ContainerInstanceArn,
		Ec2InstanceID:        ci.Ec2InstanceID,
		RegisteredResources:  nonNil(ci.RegisteredResources),
		RemainingResources:   nonNil(ci.RemainingResources),
		Status:               ci.Status,
		Version:              ci.Version,
		UpdatedAt:            at,
	}
	if ci.VersionInfo != nil {
		d.VersionInfo = *ci.VersionInfo
	}
	return d, nil
}

// ContainerInstance returns the ContainerInstance members the event carries;
// the others (counts, registeredAt, tags, ...) are zero.
func (d ContainerInstanceStateChange) ContainerInstance() ecs.ContainerInstance {
	vi := d.VersionInfo
	return ecs.ContainerInstance{
		ContainerInstanceArn: d.ContainerInstanceArn,
		Ec2InstanceID:        d.Ec2InstanceID,
		Version:              d.Version,
		VersionInfo:          &vi,
		RemainingResources:   d.RemainingResources,
		RegisteredResources:  d.RegisteredResources,
		Status:               d.Status,
		AgentConnected:       d.AgentConnected,
		Attributes:           d.Attributes,
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
