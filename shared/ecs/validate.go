package ecs

import (
	"strconv"
	"strings"
)

// Resource tag limits.
const (
	MaxTags             = 50
	MaxCustomAttributes = 10
)

// ValidateTags applies ECS's tag rules: at most 50, keys 1-128 characters,
// values up to 256, unique keys, and no aws: prefix (reserved by AWS).
func ValidateTags(field string, tags []Tag) error {
	if len(tags) > MaxTags {
		return InvalidParameter("%s: at most %d tags are allowed, got %d", field, MaxTags, len(tags))
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		switch {
		case t.Key == "" || len(t.Key) > 128:
			return InvalidParameter("%s[%d].key: must be 1-128 characters", field, i)
		case len(t.Value) > 256:
			return InvalidParameter("%s[%d].value: must be at most 256 characters", field, i)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return InvalidParameter("%s[%d].key: %q uses the reserved prefix aws:", field, i, t.Key)
		case seen[t.Key]:
			return InvalidParameter("%s[%d].key: %q is given twice", field, i, t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// MergeTags returns tags with add applied: existing keys updated, new ones appended.
func MergeTags(tags, add []Tag) []Tag {
	out := append([]Tag(nil), tags...)
	for _, a := range add {
		replaced := false
		for i := range out {
			if out[i].Key == a.Key {
				out[i].Value = a.Value
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, a)
		}
	}
	return out
}

// RemoveTags returns tags without the given keys.
func RemoveTags(tags []Tag, keys []string) []Tag {
	drop := set(keys...)
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		if !drop[t.Key] {
			out = append(out, t)
		}
	}
	return out
}

// ValidateAttribute applies ECS's attribute rules: name 1-128 of letters,
// digits, hyphens, underscores, slashes, backslashes and periods; value
// (optional) 1-128 of letters, digits, -_.@/\: and spaces, not starting or
// ending with a space.
func ValidateAttribute(field string, a Attribute) error {
	if len(a.Name) == 0 || len(a.Name) > 128 || !allOf(a.Name, "-_/\\.") {
		return InvalidParameter("%s.name: %q must be 1-128 letters, numbers, hyphens, underscores, slashes, backslashes or periods", field, a.Name)
	}
	if a.Value == "" {
		return nil
	}
	if len(a.Value) > 128 || !allOf(a.Value, "-_.@/\\: ") || strings.TrimSpace(a.Value) != a.Value {
		return InvalidParameter("%s.value: %q must be 1-128 letters, numbers, spaces or -_.@/\\: with no leading or trailing space", field, a.Value)
	}
	return nil
}

func allOf(s, extra string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}

// IsBuiltinAttribute reports whether name is set by the agent rather than
// the user; built-in attributes do not count toward the custom limit.
func IsBuiltinAttribute(name string) bool {
	return strings.HasPrefix(name, "ecs.") || strings.HasPrefix(name, "com.amazonaws.ecs.")
}

// CountCustomAttributes counts the attributes that are not built in.
func CountCustomAttributes(attrs []Attribute) int {
	n := 0
	for _, a := range attrs {
		if !IsBuiltinAttribute(a.Name) {
			n++
		}
	}
	return n
}

// Requirements is what one task needs from the instance it is placed on.
type Requirements struct {
	CPU      int   // CPU units
	Memory   int   // MiB
	GPUs     int   // whole GPUs
	Ports    []int // static TCP host ports
	PortsUDP []int // static UDP host ports
}

// TaskRequirements computes a task's needs from its definition and
// overrides: the task-level cpu and memory when set, else the sum over
// containers (memoryReservation, else memory), plus GPUs and static host ports.
func TaskRequirements(td *TaskDefinition, ov *TaskOverride) Requirements {
	var r Requirements
	for i := range td.ContainerDefinitions {
		c := td.ContainerDefinitions[i]
		if co := containerOverride(ov, c.Name); co != nil {
			applyResourceOverride(&c, co)
		}
		r.CPU += c.CPU
		r.Memory += c.ReservedMemory()
		r.GPUs += c.GPUs()
		for _, pm := range c.PortMappings {
			port := EffectiveHostPort(td.NetworkMode, pm)
			if port == 0 || td.NetworkMode == NetworkAwsvpc {
				continue
			}
			if pm.ProtocolOrDefault() == "udp" {
				r.PortsUDP = append(r.PortsUDP, port)
			} else {
				r.Ports = append(r.Ports, port)
			}
		}
	}
	if cpu := taskLevel(td.CPU, ov, func(o *TaskOverride) string { return o.CPU }, ParseTaskCPU); cpu > 0 {
		r.CPU = cpu
	}
	if mem := taskLevel(td.Memory, ov, func(o *TaskOverride) string { return o.Memory }, ParseTaskMemory); mem > 0 {
		r.Memory = mem
	}
	return r
}

func taskLevel(base string, ov *TaskOverride, pick func(*TaskOverride) string, parse func(string) (int, error)) int {
	v := base
	if ov != nil && pick(ov) != "" {
		v = pick(ov)
	}
	if v == "" {
		return 0
	}
	n, err := parse(v)
	if err != nil {
		return 0
	}
	return n
}

func containerOverride(ov *TaskOverride, name string) *ContainerOverride {
	if ov == nil {
		return nil
	}
	for i := range ov.ContainerOverrides {
		if ov.ContainerOverrides[i].Name == name {
			return &ov.ContainerOverrides[i]
		}
	}
	return nil
}

// applyResourceOverride applies a container override's cpu, memory and GPU settings.
func applyResourceOverride(c *ContainerDefinition, co *ContainerOverride) {
	if co.CPU != nil {
		c.CPU = *co.CPU
	}
	if co.Memory != nil {
		c.Memory = co.Memory
	}
	if co.MemoryReservation != nil {
		c.MemoryReservation = co.MemoryReservation
	}
	if len(co.ResourceRequirements) > 0 {
		c.ResourceRequirements = co.ResourceRequirements
	}
}

// EffectiveContainer is a container definition with a task's override applied.
func EffectiveContainer(c ContainerDefinition, ov *TaskOverride) ContainerDefinition {
	co := containerOverride(ov, c.Name)
	if co == nil {
		return c
	}
	applyResourceOverride(&c, co)
	if len(co.Command) > 0 {
		c.Command = co.Command
	}
	if len(co.Environment) > 0 {
		c.Environment = append(append([]KeyValuePair(nil), c.Environment...), co.Environment...)
	}
	return c
}

// ValidateOverrides checks a task override against its task definition.
func ValidateOverrides(field string, td *TaskDefinition, ov *TaskOverride) error {
	if ov == nil {
		return nil
	}
	names := map[string]bool{}
	for _, c := range td.ContainerDefinitions {
		names[c.Name] = true
	}
	for i, co := range ov.ContainerOverrides {
		f := field + ".containerOverrides[" + strconv.Itoa(i) + "]"
		if !names[co.Name] {
			return InvalidParameter("%s.name: %q is not a container in %s", f, co.Name, td.TaskDefinitionArn)
		}
		for _, v := range []*int{co.CPU, co.Memory, co.MemoryReservation} {
			if v != nil && *v < 0 {
				return InvalidParameter("%s: cpu and memory overrides must not be negative", f)
			}
		}
	}
	if ov.CPU != "" {
		if _, err := ParseTaskCPU(ov.CPU); err != nil {
			return InvalidParameter("%s.cpu: %q is not a valid CPU value", field, ov.CPU)
		}
	}
	if ov.Memory != "" {
		if _, err := ParseTaskMemory(ov.Memory); err != nil {
			return InvalidParameter("%s.memory: %q is not a valid memory value", field, ov.Memory)
		}
	}
	return nil
}
