package ecs

import (
	"encoding/json"
	"strings"
	"testing"
)

func intp(v int) *int    { return &v }
func boolp(v bool) *bool { return &v }

func validTaskDefinition() TaskDefinition {
	return TaskDefinition{
		Family: "web",
		ContainerDefinitions: []ContainerDefinition{{
			Name:         "app",
			Image:        "berth-testapp:latest",
			Memory:       intp(256),
			PortMappings: []PortMapping{{ContainerPort: intp(8080)}},
		}},
	}
}

func TestPrepareTaskDefinitionFillsECSDefaults(t *testing.T) {
	td := validTaskDefinition()
	td.CPU, td.Memory = "0.5 vCPU", "1GB"
	if err := PrepareTaskDefinition(&td); err != nil {
		t.Fatal(err)
	}
	c := td.ContainerDefinitions[0]
	switch {
	case td.NetworkMode != NetworkBridge:
		t.Errorf("networkMode = %q, want bridge", td.NetworkMode)
	case td.CPU != "512" || td.Memory != "1024":
		t.Errorf("cpu, memory = %q, %q; want 512, 1024", td.CPU, td.Memory)
	case c.Essential == nil || !*c.Essential:
		t.Error("essential should default to true")
	case c.PortMappings[0].Protocol != "tcp":
		t.Errorf("protocol = %q, want tcp", c.PortMappings[0].Protocol)
	case c.Environment == nil || c.MountPoints == nil || td.Volumes == nil:
		t.Error("ECS returns empty lists, not null")
	}
	b, _ := json.Marshal(td)
	for _, want := range []string{`"volumes":[]`, `"environment":[]`, `"mountPoints":[]`, `"cpu":0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("wire form lacks %s: %s", want, b)
		}
	}
}

func TestPrepareTaskDefinitionRules(t *testing.T) {
	cases := []struct {
		name   string
		change func(*TaskDefinition)
		field  string // must appear in the message
	}{
		{"empty family", func(td *TaskDefinition) { td.Family = "" }, "family"},
		{"family charset", func(td *TaskDefinition) { td.Family = "web app" }, "family"},
		{"family length", func(td *TaskDefinition) { td.Family = strings.Repeat("a", 256) }, "family"},
		{"no containers", func(td *TaskDefinition) { td.ContainerDefinitions = nil }, "containerDefinitions"},
		{"eleven containers", func(td *TaskDefinition) {
			for i := range 10 {
				c := td.ContainerDefinitions[0]
				c.Name = "c" + string(rune('a'+i))
				c.PortMappings = nil
				td.ContainerDefinitions = append(td.ContainerDefinitions, c)
			}
		}, "too many containers"},
		{"no essential", func(td *TaskDefinition) { td.ContainerDefinitions[0].Essential = boolp(false) }, "essential"},
		{"no memory", func(td *TaskDefinition) { td.ContainerDefinitions[0].Memory = nil }, "memoryReservation"},
		{"memory below reservation", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].MemoryReservation = intp(512)
		}, "containerDefinitions[0].memory"},
		{"memory too small", func(td *TaskDefinition) { td.ContainerDefinitions[0].Memory = intp(4) }, "memory"},
		{"container memory over task", func(td *TaskDefinition) { td.Memory = "128" }, "greater than for the task"},
		{"cpu over task", func(td *TaskDefinition) { td.CPU = "256"; td.ContainerDefinitions[0].CPU = 512 }, "cpu"},
		{"bad task cpu", func(td *TaskDefinition) { td.CPU = "lots" }, "cpu"},
		{"task cpu range", func(td *TaskDefinition) { td.CPU = "64" }, "cpu"},
		{"bad task memory", func(td *TaskDefinition) { td.Memory = "2 TB" }, "memory"},
		{"duplicate names", func(td *TaskDefinition) {
			c := td.ContainerDefinitions[0]
			c.PortMappings = nil
			td.ContainerDefinitions = append(td.ContainerDefinitions, c)
		}, "used twice"},
		{"no image", func(td *TaskDefinition) { td.ContainerDefinitions[0].Image = "" }, "image"},
		{"bad network mode", func(td *TaskDefinition) { td.NetworkMode = "overlay" }, "networkMode"},
		{"ports with none", func(td *TaskDefinition) { td.NetworkMode = NetworkNone }, "portMappings"},
		{"host port differs in host mode", func(td *TaskDefinition) {
			td.NetworkMode = NetworkHost
			td.ContainerDefinitions[0].PortMappings[0].HostPort = intp(9090)
		}, "hostPort"},
		{"container port range", func(td *TaskDefinition) { td.ContainerDefinitions[0].PortMappings[0].ContainerPort = intp(70000) }, "containerPort"},
		{"missing container port", func(td *TaskDefinition) { td.ContainerDefinitions[0].PortMappings[0].ContainerPort = nil }, "containerPort"},
		{"bad protocol", func(td *TaskDefinition) { td.ContainerDefinitions[0].PortMappings[0].Protocol = "sctp" }, "protocol"},
		{"same host port twice", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].PortMappings = []PortMapping{{ContainerPort: intp(80), HostPort: intp(8080)}, {ContainerPort: intp(81), HostPort: intp(8080)}}
		}, "already mapped"},
		{"health command", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].HealthCheck = &HealthCheck{Command: []string{"curl", "x"}}
		}, "healthCheck.command"},
		{"health interval", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].HealthCheck = &HealthCheck{Command: []string{"CMD", "true"}, Interval: intp(4)}
		}, "healthCheck.interval"},
		{"health timeout", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].HealthCheck = &HealthCheck{Command: []string{"CMD", "true"}, Timeout: intp(61)}
		}, "healthCheck.timeout"},
		{"health retries", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].HealthCheck = &HealthCheck{Command: []string{"CMD", "true"}, Retries: intp(11)}
		}, "healthCheck.retries"},
		{"health start period", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].HealthCheck = &HealthCheck{Command: []string{"CMD-SHELL", "true"}, StartPeriod: intp(301)}
		}, "healthCheck.startPeriod"},
		{"depends on unknown", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].DependsOn = []ContainerDependency{{ContainerName: "db", Condition: DependStart}}
		}, "dependsOn[0].containerName"},
		{"depends on self", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].DependsOn = []ContainerDependency{{ContainerName: "app", Condition: DependStart}}
		}, "itself"},
		{"bad condition", func(td *TaskDefinition) {
			addSidecar(td, true)
			td.ContainerDefinitions[0].DependsOn = []ContainerDependency{{ContainerName: "side", Condition: "READY"}}
		}, "condition"},
		{"complete on essential", func(td *TaskDefinition) {
			addSidecar(td, true)
			td.ContainerDefinitions[0].DependsOn = []ContainerDependency{{ContainerName: "side", Condition: DependComplete}}
		}, "essential"},
		{"healthy without check", func(td *TaskDefinition) {
			addSidecar(td, true)
			td.ContainerDefinitions[0].DependsOn = []ContainerDependency{{ContainerName: "side", Condition: DependHealthy}}
		}, "healthCheck"},
		{"dependency cycle", func(td *TaskDefinition) {
			addSidecar(td, true)
			td.ContainerDefinitions[0].DependsOn = []ContainerDependency{{ContainerName: "side", Condition: DependStart}}
			td.ContainerDefinitions[1].DependsOn = []ContainerDependency{{ContainerName: "app", Condition: DependStart}}
		}, "cycle"},
		{"stop timeout", func(td *TaskDefinition) { td.ContainerDefinitions[0].StopTimeout = intp(121) }, "stopTimeout"},
		{"secret without valueFrom", func(td *TaskDefinition) { td.ContainerDefinitions[0].Secrets = []Secret{{Name: "X"}} }, "secrets"},
		{"log driver", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].LogConfiguration = &LogConfiguration{LogDriver: "papertrail"}
		}, "logDriver"},
		{"gpu value", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].ResourceRequirements = []ResourceRequirement{{Type: "GPU", Value: "two"}}
		}, "resourceRequirements"},
		{"constraint type", func(td *TaskDefinition) {
			td.PlacementConstraints = []TaskDefinitionPlacementConstraint{{Type: ConstraintDistinctInstance}}
		}, "placementConstraints"},
		{"fargate needs awsvpc", func(td *TaskDefinition) {
			td.RequiresCompatibilities = []string{LaunchFargate}
			td.CPU, td.Memory = "256", "512"
		}, "awsvpc"},
		{"compatibility", func(td *TaskDefinition) { td.RequiresCompatibilities = []string{"LAMBDA"} }, "requiresCompatibilities"},
		{"too large", func(td *TaskDefinition) {
			td.ContainerDefinitions[0].Environment = []KeyValuePair{{Name: "BIG", Value: strings.Repeat("x", 70000)}}
		}, "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			td := validTaskDefinition()
			c.change(&td)
			err := PrepareTaskDefinition(&td)
			if !IsCode(err, ClientException) {
				t.Fatalf("error = %v, want ClientException", err)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("error %q does not mention %q", err, c.field)
			}
		})
	}
}

func addSidecar(td *TaskDefinition, essential bool) {
	td.ContainerDefinitions = append(td.ContainerDefinitions, ContainerDefinition{
		Name: "side", Image: "busybox", Memory: intp(64), Essential: boolp(essential),
	})
}

func TestDependsOnAcceptedForms(t *testing.T) {
	td := validTaskDefinition()
	addSidecar(&td, false)
	td.ContainerDefinitions[1].HealthCheck = &HealthCheck{Command: []string{"CMD", "/testapp", "check"}}
	td.ContainerDefinitions[0].DependsOn = []ContainerDependency{
		{ContainerName: "side", Condition: DependSuccess},
	}
	if err := PrepareTaskDefinition(&td); err != nil {
		t.Fatalf("SUCCESS on a non-essential container: %v", err)
	}
	td.ContainerDefinitions[0].DependsOn[0].Condition = DependHealthy
	if err := PrepareTaskDefinition(&td); err != nil {
		t.Fatalf("HEALTHY on a container with a health check: %v", err)
	}
}

func TestTaskUnits(t *testing.T) {
	cpu := map[string]int{"1024": 1024, "1 vCPU": 1024, "0.25 vcpu": 256, "2vCPU": 2048}
	for in, want := range cpu {
		if got, err := ParseTaskCPU(in); err != nil || got != want {
			t.Errorf("ParseTaskCPU(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	mem := map[string]int{"512": 512, "1GB": 1024, "2 GB": 2048, "0.5GB": 512, "3 GiB": 3072, "300 MiB": 300}
	for in, want := range mem {
		if got, err := ParseTaskMemory(in); err != nil || got != want {
			t.Errorf("ParseTaskMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "x", "0", "vCPU"} {
		if _, err := ParseTaskCPU(bad); err == nil {
			t.Errorf("ParseTaskCPU(%q) succeeded", bad)
		}
		if _, err := ParseTaskMemory(bad); err == nil {
			t.Errorf("ParseTaskMemory(%q) succeeded", bad)
		}
	}
}

func TestTaskRequirements(t *testing.T) {
	td := validTaskDefinition()
	td.ContainerDefinitions[0].CPU = 256
	td.ContainerDefinitions[0].PortMappings = []PortMapping{{ContainerPort: intp(80), HostPort: intp(8080)}, {ContainerPort: intp(53), HostPort: intp(5353), Protocol: "udp"}, {ContainerPort: intp(81)}}
	addSidecar(&td, false)
	td.ContainerDefinitions[1].MemoryReservation = intp(32)
	td.ContainerDefinitions[1].ResourceRequirements = []ResourceRequirement{{Type: "GPU", Value: "2"}}
	r := TaskRequirements(&td, nil)
	if r.CPU != 256 || r.Memory != 256+32 || r.GPUs != 2 || len(r.Ports) != 1 || r.Ports[0] != 8080 || len(r.PortsUDP) != 1 || r.PortsUDP[0] != 5353 {
		t.Errorf("requirements = %+v", r)
	}
	r = TaskRequirements(&td, &TaskOverride{Memory: "1GB", ContainerOverrides: []ContainerOverride{{Name: "app", CPU: intp(1024)}}})
	if r.CPU != 1024 || r.Memory != 1024 {
		t.Errorf("with overrides = %+v", r)
	}
	td.CPU = "2048"
	if r := TaskRequirements(&td, nil); r.CPU != 2048 {
		t.Errorf("task-level cpu wins: %+v", r)
	}
}

func TestValidateTags(t *testing.T) {
	if err := ValidateTags("tags", []Tag{{Key: "team", Value: "core"}, {Key: "env"}}); err != nil {
		t.Fatal(err)
	}
	bad := [][]Tag{
		{{Key: ""}},
		{{Key: strings.Repeat("k", 129)}},
		{{Key: "k", Value: strings.Repeat("v", 257)}},
		{{Key: "aws:owner", Value: "x"}},
		{{Key: "a"}, {Key: "a"}},
	}
	for _, tags := range bad {
		if err := ValidateTags("tags", tags); !IsCode(err, InvalidParameterException) {
			t.Errorf("ValidateTags(%v) = %v", tags, err)
		}
	}
	many := make([]Tag, 51)
	for i := range many {
		many[i] = Tag{Key: strings.Repeat("k", i+1)}
	}
	if err := ValidateTags("tags", many); err == nil {
		t.Error("51 tags accepted")
	}
}

func TestValidateAttribute(t *testing.T) {
	good := []Attribute{{Name: "stack"}, {Name: "stack", Value: "prod"}, {Name: "a.b/c_d-e", Value: "x y@z:1"}}
	for _, a := range good {
		if err := ValidateAttribute("attributes[0]", a); err != nil {
			t.Errorf("%+v: %v", a, err)
		}
	}
	bad := []Attribute{{Name: ""}, {Name: "bad name"}, {Name: "x", Value: " lead"}, {Name: "x", Value: "a#b"}, {Name: strings.Repeat("n", 129)}}
	for _, a := range bad {
		if err := ValidateAttribute("attributes[0]", a); !IsCode(err, InvalidParameterException) {
			t.Errorf("%+v accepted: %v", a, err)
		}
	}
}

func TestCapacityRoundTrip(t *testing.T) {
	c := Capacity{CPU: 2048, Memory: 3900, Ports: []int{22, 2375}, PortsUDP: []int{53}, GPUs: []string{"gpu0"}}
	back, err := CapacityOf("totalResources", c.Resources())
	if err != nil {
		t.Fatal(err)
	}
	if back.CPU != c.CPU || back.Memory != c.Memory || len(back.Ports) != 2 || back.PortsUDP[0] != 53 || back.GPUs[0] != "gpu0" {
		t.Errorf("round trip = %+v", back)
	}
	if _, err := CapacityOf("totalResources", []Resource{{Name: "PORTS", Type: "STRINGSET", StringSetValue: []string{"http"}}}); err == nil {
		t.Error("non-numeric port accepted")
	}
	if _, err := CapacityOf("totalResources", []Resource{{Name: "CPU", IntegerValue: 1}, {Name: "CPU", IntegerValue: 2}}); err == nil {
		t.Error("duplicate resource accepted")
	}
}
