package ecs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Task definition limits ECS enforces.
const (
	MaxContainers          = 10
	MaxTaskDefinitionBytes = 64 * 1024
	MinContainerMemoryMiB  = 6
	MinTaskCPU             = 128
	MaxTaskCPU             = 196608
	MaxConstraints         = 10
	MaxStrategies          = 5
	MaxExpressionLength    = 2000
)

var (
	networkModes     = set(NetworkBridge, NetworkHost, NetworkAwsvpc, NetworkNone)
	compatibilities  = set("EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES")
	protocols        = set("tcp", "udp")
	appProtocols     = set("http", "http2", "grpc")
	dependConditions = set(DependStart, DependComplete, DependSuccess, DependHealthy)
	logDrivers       = set("json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "awsfirelens", "none", "local")
	pidIpcModes      = set("host", "task")
	ipcModes         = set("host", "task", "none")
)

func set(vals ...string) map[string]bool {
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[v] = true
	}
	return m
}

// PrepareTaskDefinition checks a task definition about to be registered
// against ECS's rules and fills in what ECS fills in: the default network
// mode, task cpu and memory converted to units and MiB, empty lists where
// ECS returns them, and the compatibilities. The first broken rule is
// returned as a ClientException naming the field.
func PrepareTaskDefinition(td *TaskDefinition) error {
	if err := validateTaskLevel(td); err != nil {
		return err
	}
	if err := validateContainers(td); err != nil {
		return err
	}
	normalizeTaskDefinition(td)
	if b, err := json.Marshal(td); err == nil && len(b) > MaxTaskDefinitionBytes {
		return Client("task definition: %d bytes exceeds the %d-byte limit", len(b), MaxTaskDefinitionBytes)
	}
	return nil
}

func validateTaskLevel(td *TaskDefinition) error {
	if td.Family == "" {
		return Client("family: must not be empty")
	}
	if !validName(td.Family) {
		return Client("family: %q must be 1-255 letters, numbers, hyphens and underscores", td.Family)
	}
	if td.NetworkMode == "" {
		td.NetworkMode = NetworkBridge
	}
	if !networkModes[td.NetworkMode] {
		return Client("networkMode: %q is not valid; valid: bridge, host, awsvpc, none", td.NetworkMode)
	}
	fargate := false
	for i, c := range td.RequiresCompatibilities {
		if !compatibilities[c] {
			return Client("requiresCompatibilities[%d]: %q is not valid; valid: EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES", i, c)
		}
		fargate = fargate || c == LaunchFargate
	}
	if err := normalizeTaskCPU(td); err != nil {
		return err
	}
	if err := normalizeTaskMemory(td); err != nil {
		return err
	}
	if fargate {
		if td.NetworkMode != NetworkAwsvpc {
			return Client("networkMode: tasks requiring FARGATE must use awsvpc, not %q", td.NetworkMode)
		}
		if td.CPU == "" || td.Memory == "" {
			return Client("cpu, memory: tasks requiring FARGATE must set task-level cpu and memory")
		}
	}
	if td.PidMode != "" && !pidIpcModes[td.PidMode] {
		return Client("pidMode: %q is not valid; valid: host, task", td.PidMode)
	}
	if td.IpcMode != "" && !ipcModes[td.IpcMode] {
		return Client("ipcMode: %q is not valid; valid: host, task, none", td.IpcMode)
	}
	if len(td.PlacementConstraints) > MaxConstraints {
		return Client("placementConstraints: at most %d are allowed, got %d", MaxConstraints, len(td.PlacementConstraints))
	}
	for i, pc := range td.PlacementConstraints {
		if pc.Type != ConstraintMemberOf {
			return Client("placementConstraints[%d].type: %q is not valid in a task definition; valid: memberOf", i, pc.Type)
		}
		if pc.Expression == "" || len(pc.Expression) > MaxExpressionLength {
			return Client("placementConstraints[%d].expression: must be 1-%d characters", i, MaxExpressionLength)
		}
	}
	n := len(td.ContainerDefinitions)
	if n == 0 {
		return Client("containerDefinitions: at least one container definition is required")
	}
	if n > MaxContainers {
		return Client("containerDefinitions: too many containers (%d); at most %d are allowed", n, MaxContainers)
	}
	return nil
}

func normalizeTaskCPU(td *TaskDefinition) error {
	if td.CPU == "" {
		return nil
	}
	cpu, err := ParseTaskCPU(td.CPU)
	if err != nil {
		return err
	}
	if cpu < MinTaskCPU || cpu > MaxTaskCPU {
		return Client("cpu: invalid 'cpu' setting for task: %d units is outside %d-%d", cpu, MinTaskCPU, MaxTaskCPU)
	}
	td.CPU = strconv.Itoa(cpu)
	return nil
}

func normalizeTaskMemory(td *TaskDefinition) error {
	if td.Memory == "" {
		return nil
	}
	mem, err := ParseTaskMemory(td.Memory)
	if err != nil {
		return err
	}
	if mem < MinContainerMemoryMiB {
		return Client("memory: invalid 'memory' setting for task: %d MiB is below the %d MiB minimum", mem, MinContainerMemoryMiB)
	}
	td.Memory = strconv.Itoa(mem)
	return nil
}

func validateContainers(td *TaskDefinition) error {
	byName := make(map[string]*ContainerDefinition, len(td.ContainerDefinitions))
	essential := false
	cpuSum := 0
	taskMem, _ := strconv.Atoi(td.Memory)
	taskCPU, _ := strconv.Atoi(td.CPU)
	hostPorts := map[string]string{}
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		field := fmt.Sprintf("containerDefinitions[%d]", i)
		if err := validateContainer(field, td, c, taskMem); err != nil {
			return err
		}
		if byName[c.Name] != nil {
			return Client("%s.name: container name %q is used twice", field, c.Name)
		}
		byName[c.Name] = c
		essential = essential || c.IsEssential()
		cpuSum += c.CPU
		if err := claimHostPorts(field, td.NetworkMode, c, hostPorts); err != nil {
			return err
		}
	}
	if !essential {
		return Client("containerDefinitions: at least one container must be essential")
	}
	if taskCPU > 0 && cpuSum > taskCPU {
		return Client("containerDefinitions: the containers' cpu (%d units together) is greater than the task's cpu (%d)", cpuSum, taskCPU)
	}
	for i := range td.ContainerDefinitions {
		if err := validateDependsOn(fmt.Sprintf("containerDefinitions[%d]", i), &td.ContainerDefinitions[i], byName); err != nil {
			return err
		}
	}
	return checkDependencyCycles(td.ContainerDefinitions, byName)
}

func validateContainer(field string, td *TaskDefinition, c *ContainerDefinition, taskMem int) error {
	if c.Name == "" {
		return Client("%s.name: must not be empty", field)
	}
	if !validName(c.Name) {
		return Client("%s.name: %q must be 1-255 letters, numbers, hyphens and underscores", field, c.Name)
	}
	if c.Image == "" {
		return Client("%s.image: must not be empty", field)
	}
	if len(c.Image) > 255 || strings.ContainsAny(c.Image, " \t\r\n") {
		return Client("%s.image: %q must be up to 255 characters with no spaces", field, c.Image)
	}
	if c.CPU < 0 {
		return Client("%s.cpu: must not be negative", field)
	}
	if err := validateContainerMemory(field, c, taskMem); err != nil {
		return err
	}
	if err := validatePortMappings(field, td.NetworkMode, c.PortMappings); err != nil {
		return err
	}
	if c.HealthCheck != nil {
		if err := validateHealthCheck(field+".healthCheck", c.HealthCheck); err != nil {
			return err
		}
	}
	if err := validateTimeouts(field, c); err != nil {
		return err
	}
	for j, s := range c.Secrets {
		if s.Name == "" || s.ValueFrom == "" {
			return Client("%s.secrets[%d]: name and valueFrom are required", field, j)
		}
	}
	for j, e := range c.Environment {
		if e.Name == "" {
			return Client("%s.environment[%d].name: must not be empty", field, j)
		}
	}
	if lc := c.LogConfiguration; lc != nil && !logDrivers[lc.LogDriver] {
		return Client("%s.logConfiguration.logDriver: %q is not valid; valid: json-file, syslog, journald, gelf, fluentd, awslogs, splunk, awsfirelens", field, lc.LogDriver)
	}
	for j, r := range c.ResourceRequirements {
		if err := validateResourceRequirement(fmt.Sprintf("%s.resourceRequirements[%d]", field, j), r); err != nil {
			return err
		}
	}
	return nil
}

func validateContainerMemory(field string, c *ContainerDefinition, taskMem int) error {
	if c.Memory == nil && c.MemoryReservation == nil && taskMem == 0 {
		return Client("%s: invalid setting for container %q: at least one of 'memory' or 'memoryReservation' must be specified", field, c.Name)
	}
	if c.Memory != nil && *c.Memory < MinContainerMemoryMiB {
		return Client("%s.memory: invalid 'memory' setting for container %q: must be at least %d MiB", field, c.Name, MinContainerMemoryMiB)
	}
	if c.MemoryReservation != nil && *c.MemoryReservation < MinContainerMemoryMiB {
		return Client("%s.memoryReservation: invalid 'memoryReservation' setting for container %q: must be at least %d MiB", field, c.Name, MinContainerMemoryMiB)
	}
	if c.Memory != nil && c.MemoryReservation != nil && *c.Memory <= *c.MemoryReservation {
		return Client("%s.memory: the 'memory' setting for container %q (%d) must be greater than its 'memoryReservation' (%d)", field, c.Name, *c.Memory, *c.MemoryReservation)
	}
	if taskMem > 0 && c.Memory != nil && *c.Memory > taskMem {
		return Client("%s.memory: the 'memory' setting for container %q is greater than for the task", field, c.Name)
	}
	return nil
}

func validatePortMappings(field, mode string, pms []PortMapping) error {
	if mode == NetworkNone && len(pms) > 0 {
		return Client("%s.portMappings: port mappings are not allowed with network mode none", field)
	}
	for j, pm := range pms {
		f := fmt.Sprintf("%s.portMappings[%d]", field, j)
		if pm.ContainerPort == nil && pm.ContainerPortRange == "" {
			return Client("%s.containerPort: must be set (or containerPortRange)", f)
		}
		if pm.ContainerPort != nil && (*pm.ContainerPort < 1 || *pm.ContainerPort > 65535) {
			return Client("%s.containerPort: %d is outside 1-65535", f, *pm.ContainerPort)
		}
		if pm.HostPort != nil && (*pm.HostPort < 0 || *pm.HostPort > 65535) {
			return Client("%s.hostPort: %d is outside 0-65535", f, *pm.HostPort)
		}
		if !protocols[pm.ProtocolOrDefault()] {
			return Client("%s.protocol: %q is not valid; valid: tcp, udp", f, pm.Protocol)
		}
		if pm.AppProtocol != "" && !appProtocols[pm.AppProtocol] {
			return Client("%s.appProtocol: %q is not valid; valid: http, http2, grpc", f, pm.AppProtocol)
		}
		if (mode == NetworkHost || mode == NetworkAwsvpc) && pm.HostPort != nil && *pm.HostPort != 0 &&
			pm.ContainerPort != nil && *pm.HostPort != *pm.ContainerPort {
			return Client("%s.hostPort: with network mode %s, hostPort must be empty or equal containerPort (%d)", f, mode, *pm.ContainerPort)
		}
	}
	return nil
}

// claimHostPorts rejects two static mappings of one host port and protocol
// within a task: they could never be placed.
func claimHostPorts(field, mode string, c *ContainerDefinition, claimed map[string]string) error {
	for j, pm := range c.PortMappings {
		port := EffectiveHostPort(mode, pm)
		if port == 0 {
			continue
		}
		key := strconv.Itoa(port) + "/" + pm.ProtocolOrDefault()
		if prev, ok := claimed[key]; ok {
			return Client("%s.portMappings[%d].hostPort: host port %s is already mapped by %s", field, j, key, prev)
		}
		claimed[key] = fmt.Sprintf("%s.portMappings[%d]", field, j)
	}
	return nil
}

// EffectiveHostPort is the host port a mapping occupies under a network
// mode: in host and awsvpc modes the container port itself, in bridge mode
// the static hostPort, and 0 for a dynamically assigned one.
func EffectiveHostPort(mode string, pm PortMapping) int {
	if (mode == NetworkHost || mode == NetworkAwsvpc) && pm.ContainerPort != nil {
		return *pm.ContainerPort
	}
	return pm.StaticHostPort()
}

func validateHealthCheck(field string, h *HealthCheck) error {
	if len(h.Command) == 0 {
		return Client("%s.command: must not be empty", field)
	}
	if first := h.Command[0]; first != "CMD" && first != "CMD-SHELL" && first != "NONE" {
		return Client("%s.command: must start with CMD or CMD-SHELL, got %q", field, first)
	}
	if h.Command[0] != "NONE" && len(h.Command) < 2 {
		return Client("%s.command: %s needs a command after it", field, h.Command[0])
	}
	checks := []struct {
		name     string
		v        *int
		min, max int
	}{
		{"interval", h.Interval, 5, 300},
		{"timeout", h.Timeout, 2, 60},
		{"retries", h.Retries, 1, 10},
		{"startPeriod", h.StartPeriod, 0, 300},
	}
	for _, c := range checks {
		if c.v != nil && (*c.v < c.min || *c.v > c.max) {
			return Client("%s.%s: %d is outside %d-%d", field, c.name, *c.v, c.min, c.max)
		}
	}
	return nil
}

func validateTimeouts(field string, c *ContainerDefinition) error {
	if c.StartTimeout != nil && (*c.StartTimeout < 2 || *c.StartTimeout > 120) {
		return Client("%s.startTimeout: %d is outside 2-120 seconds", field, *c.StartTimeout)
	}
	if c.StopTimeout != nil && (*c.StopTimeout < 2 || *c.StopTimeout > 120) {
		return Client("%s.stopTimeout: %d is outside 2-120 seconds", field, *c.StopTimeout)
	}
	return nil
}

func validateResourceRequirement(field string, r ResourceRequirement) error {
	switch r.Type {
	case ResourceGPU:
		if _, err := parsePositiveInt(r.Value); err != nil {
			return Client("%s.value: GPU count %q must be a positive integer", field, r.Value)
		}
	case "InferenceAccelerator":
		if r.Value == "" {
			return Client("%s.value: must name an inference accelerator", field)
		}
	default:
		return Client("%s.type: %q is not valid; valid: GPU, InferenceAccelerator", field, r.Type)
	}
	return nil
}

func validateDependsOn(field string, c *ContainerDefinition, byName map[string]*ContainerDefinition) error {
	for j, d := range c.DependsOn {
		f := fmt.Sprintf("%s.dependsOn[%d]", field, j)
		target := byName[d.ContainerName]
		if target == nil {
			return Client("%s.containerName: %q is not a container in this task definition", f, d.ContainerName)
		}
		if d.ContainerName == c.Name {
			return Client("%s.containerName: container %q cannot depend on itself", f, c.Name)
		}
		if !dependConditions[d.Condition] {
			return Client("%s.condition: %q is not valid; valid: START, COMPLETE, SUCCESS, HEALTHY", f, d.Condition)
		}
		if (d.Condition == DependComplete || d.Condition == DependSuccess) && target.IsEssential() {
			return Client("%s.condition: %s cannot be used on essential container %q", f, d.Condition, d.ContainerName)
		}
		if d.Condition == DependHealthy && target.HealthCheck == nil {
			return Client("%s.condition: HEALTHY requires container %q to have a healthCheck", f, d.ContainerName)
		}
	}
	return nil
}

// checkDependencyCycles rejects dependsOn cycles, which could never start.
func checkDependencyCycles(defs []ContainerDefinition, byName map[string]*ContainerDefinition) error {
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case visiting:
			return Client("containerDefinitions: dependsOn has a cycle: %s", strings.Join(append(path, name), " -> "))
		case done:
			return nil
		}
		state[name] = visiting
		for _, d := range byName[name].DependsOn {
			if err := visit(d.ContainerName, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for i := range defs {
		if err := visit(defs[i].Name, nil); err != nil {
			return err
		}
	}
	return nil
}

// normalizePortMapping spells out the protocol and host port as ECS returns
// them: the container port in host and awsvpc modes, 0 (dynamic) when
// omitted in bridge mode.
func normalizePortMapping(mode string, pm *PortMapping) {
	pm.Protocol = pm.ProtocolOrDefault()
	switch {
	case (mode == NetworkHost || mode == NetworkAwsvpc) && pm.ContainerPort != nil:
		pm.HostPort = intPtr(*pm.ContainerPort)
	case mode == NetworkBridge && pm.HostPort == nil && pm.ContainerPort != nil:
		pm.HostPort = intPtr(0)
	}
}

func intPtr(v int) *int { return &v }

// normalizeTaskDefinition fills the defaults and empty lists ECS returns.
func normalizeTaskDefinition(td *TaskDefinition) {
	if td.Volumes == nil {
		td.Volumes = []Raw{}
	}
	if td.PlacementConstraints == nil {
		td.PlacementConstraints = []TaskDefinitionPlacementConstraint{}
	}
	td.Compatibilities = []string{LaunchEC2, LaunchExternal}
	if td.NetworkMode == NetworkAwsvpc && td.CPU != "" && td.Memory != "" {
		td.Compatibilities = append(td.Compatibilities, LaunchFargate)
	}
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.PortMappings == nil {
			c.PortMappings = []PortMapping{}
		}
		for j := range c.PortMappings {
			normalizePortMapping(td.NetworkMode, &c.PortMappings[j])
		}
		if h := c.HealthCheck; h != nil {
			h.Interval, h.Timeout, h.Retries = intPtr(h.IntervalOrDefault()), intPtr(h.TimeoutOrDefault()), intPtr(h.RetriesOrDefault())
		}
		if c.Essential == nil {
			t := true
			c.Essential = &t
		}
		if c.Environment == nil {
			c.Environment = []KeyValuePair{}
		}
		if c.MountPoints == nil {
			c.MountPoints = []Raw{}
		}
		if c.VolumesFrom == nil {
			c.VolumesFrom = []Raw{}
		}
		if c.SystemControls == nil {
			c.SystemControls = []SystemControl{}
		}
	}
}
