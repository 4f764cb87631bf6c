package ecs

import (
	"encoding/json"
	"slices"
	"strconv"
)

// ContainerInstance is a host registered to a cluster.
type ContainerInstance struct {
	ContainerInstanceArn string       `json:"containerInstanceArn,omitempty"`
	Ec2InstanceID        string       `json:"ec2InstanceId,omitempty"`
	CapacityProviderName string       `json:"capacityProviderName,omitempty"`
	Version              int64        `json:"version"`
	VersionInfo          *VersionInfo `json:"versionInfo,omitempty"`
	RemainingResources   []Resource   `json:"remainingResources,omitempty"`
	RegisteredResources  []Resource   `json:"registeredResources,omitempty"`
	Status               string       `json:"status,omitempty"`
	StatusReason         string       `json:"statusReason,omitempty"`
	AgentConnected       bool         `json:"agentConnected"`
	RunningTasksCount    int          `json:"runningTasksCount"`
	PendingTasksCount    int          `json:"pendingTasksCount"`
	AgentUpdateStatus    string       `json:"agentUpdateStatus,omitempty"`
	Attributes           []Attribute  `json:"attributes,omitempty"`
	RegisteredAt         Timestamp    `json:"registeredAt,omitzero"`
	Attachments          []Attachment `json:"attachments,omitempty"`
	Tags                 []Tag        `json:"tags,omitempty"`
	HealthStatus         Raw          `json:"healthStatus,omitempty"`
}

// VersionInfo describes the agent and Docker versions on an instance.
type VersionInfo struct {
	AgentVersion  string `json:"agentVersion,omitempty"`
	AgentHash     string `json:"agentHash,omitempty"`
	DockerVersion string `json:"dockerVersion,omitempty"`
}

// PlatformDevice is a device (a GPU) an instance reports at registration.
type PlatformDevice struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Resource is a registered or remaining resource of an instance.
type Resource struct {
	Name           string   `json:"name,omitempty"`
	Type           string   `json:"type,omitempty"`
	DoubleValue    float64  `json:"doubleValue"`
	LongValue      int64    `json:"longValue"`
	IntegerValue   int      `json:"integerValue"`
	StringSetValue []string `json:"stringSetValue,omitempty"`
}

// MarshalJSON writes stringSetValue exactly for STRINGSET resources, empty
// or not, as ECS does.
func (r Resource) MarshalJSON() ([]byte, error) {
	type plain Resource
	if r.Type != TypeStringSet {
		r.StringSetValue = nil
		return json.Marshal(plain(r))
	}
	set := r.StringSetValue
	if set == nil {
		set = []string{}
	}
	return json.Marshal(struct {
		plain
		StringSetValue []string `json:"stringSetValue"`
	}{plain(r), set})
}

// Resource names and types ECS uses.
const (
	ResourceCPU      = "CPU"
	ResourceMemory   = "MEMORY"
	ResourcePorts    = "PORTS"
	ResourcePortsUDP = "PORTS_UDP"
	ResourceGPU      = "GPU"

	TypeInteger   = "INTEGER"
	TypeLong      = "LONG"
	TypeDouble    = "DOUBLE"
	TypeStringSet = "STRINGSET"
)

// DefaultReservedPorts are the host ports the ECS agent reserves by default.
var DefaultReservedPorts = []int{22, 2375, 2376, 51678, 51679}

// Capacity is an instance's resources in the form placement works with.
type Capacity struct {
	CPU      int      `json:"cpu"`                // CPU units (1024 per vCPU)
	Memory   int      `json:"memory"`             // MiB
	Ports    []int    `json:"ports,omitempty"`    // reserved TCP host ports, sorted
	PortsUDP []int    `json:"portsUdp,omitempty"` // reserved UDP host ports, sorted
	GPUs     []string `json:"gpus,omitempty"`     // GPU IDs
}

// Resources renders c as ECS Resource entries (CPU, MEMORY, PORTS, PORTS_UDP, GPU).
func (c Capacity) Resources() []Resource {
	res := []Resource{
		{Name: ResourceCPU, Type: TypeInteger, IntegerValue: c.CPU},
		{Name: ResourceMemory, Type: TypeInteger, IntegerValue: c.Memory},
		{Name: ResourcePorts, Type: TypeStringSet, StringSetValue: portStrings(c.Ports)},
		{Name: ResourcePortsUDP, Type: TypeStringSet, StringSetValue: portStrings(c.PortsUDP)},
	}
	if len(c.GPUs) > 0 {
		res = append(res, Resource{Name: ResourceGPU, Type: TypeStringSet, StringSetValue: slices.Clone(c.GPUs)})
	}
	return res
}

func portStrings(ports []int) []string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		out = append(out, strconv.Itoa(p))
	}
	return out
}

// CapacityOf reads resources in ECS form. Unknown resource names are ignored;
// a malformed entry is an InvalidParameterException naming it.
func CapacityOf(field string, res []Resource) (Capacity, error) {
	var c Capacity
	seen := map[string]bool{}
	for i, r := range res {
		if seen[r.Name] {
			return c, InvalidParameter("%s[%d].name: resource %q is listed twice", field, i, r.Name)
		}
		seen[r.Name] = true
		var err error
		switch r.Name {
		case ResourceCPU:
			c.CPU, err = intResource(field, i, r)
		case ResourceMemory:
			c.Memory, err = intResource(field, i, r)
		case ResourcePorts:
			c.Ports, err = portResource(field, i, r)
		case ResourcePortsUDP:
			c.PortsUDP, err = portResource(field, i, r)
		case ResourceGPU:
			c.GPUs = slices.Clone(r.StringSetValue)
		case "":
			err = InvalidParameter("%s[%d].name: must not be empty", field, i)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func intResource(field string, i int, r Resource) (int, error) {
	v := r.IntegerValue
	switch r.Type {
	case TypeInteger, "":
	case TypeLong:
		v = int(r.LongValue)
	case TypeDouble:
		v = int(r.DoubleValue)
	default:
		return 0, InvalidParameter("%s[%d].type: %q is not valid for %s; use INTEGER", field, i, r.Type, r.Name)
	}
	if v < 0 {
		return 0, InvalidParameter("%s[%d]: %s must not be negative", field, i, r.Name)
	}
	return v, nil
}

func portResource(field string, i int, r Resource) ([]int, error) {
	if r.Type != TypeStringSet && r.Type != "" {
		return nil, InvalidParameter("%s[%d].type: %q is not valid for %s; use STRINGSET", field, i, r.Type, r.Name)
	}
	if len(r.StringSetValue) > 100 {
		return nil, InvalidParameter("%s[%d]: at most 100 reserved ports are allowed, got %d", field, i, len(r.StringSetValue))
	}
	ports := make([]int, 0, len(r.StringSetValue))
	for _, s := range r.StringSetValue {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > 65535 {
			return nil, InvalidParameter("%s[%d].stringSetValue: %q is not a port number (1-65535)", field, i, s)
		}
		ports = append(ports, p)
	}
	slices.Sort(ports)
	return slices.Compact(ports), nil
}

// AttributeValue returns the value of the named attribute and whether it is set.
func (ci *ContainerInstance) AttributeValue(name string) (string, bool) {
	for _, a := range ci.Attributes {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// ID is the instance's ID: the last part of its ARN.
func (ci *ContainerInstance) ID() string { return lastPathPart(ci.ContainerInstanceArn) }

func lastPathPart(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}
