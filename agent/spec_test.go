package agent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

func intp(n int) *int { return &n }

func TestContainerSpecForMapsTheDefinitionAndOverrides(t *testing.T) {
	td := &ecs.TaskDefinition{
		Family: "web", Revision: 7, NetworkMode: "bridge",
		ContainerDefinitions: []ecs.ContainerDefinition{{
			Name: "app", Image: "nginx:1", CPU: 256, Memory: intp(512), MemoryReservation: intp(128),
			EntryPoint: []string{"/bin/app"}, Command: []string{"serve"},
			Environment:  []ecs.KeyValuePair{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
			PortMappings: []ecs.PortMapping{{ContainerPort: intp(80)}, {ContainerPort: intp(53), HostPort: intp(5353), Protocol: "udp"}},
			HealthCheck:  &ecs.HealthCheck{Command: []string{"CMD", "true"}, Interval: intp(10), Retries: intp(2)},
			StopTimeout:  intp(12), User: "nobody", WorkingDirectory: "/srv",
			LogConfiguration: &ecs.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "g"}},
			DockerLabels:     map[string]string{"team": "web"},
		}},
	}
	ov := &ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{
		Name: "app", Command: []string{"migrate"}, Environment: []ecs.KeyValuePair{{Name: "B", Value: "override"}}, Memory: intp(1024), CPU: intp(512),
	}}}
	defs := Containers(td, ov)
	spec, err := ContainerSpecFor(SpecInput{TaskArn: "arn:task", Cluster: "prod", TD: td, Def: defs[0], StopTimeout: 30 * time.Second, HealthCheckScale: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := ContainerSpec{
		TaskARN: "arn:task", Cluster: "prod", Family: "web", Revision: 7, ContainerName: "app", Image: "nginx:1",
		EntryPoint: []string{"/bin/app"}, Command: []string{"migrate"},
		Environment: map[string]string{"A": "1", "B": "override"}, User: "nobody", WorkingDirectory: "/srv",
		CPU: 512, MemoryMiB: 1024, MemoryReservationMiB: 128, NetworkMode: "bridge",
		PortMappings: []PortMapping{{ContainerPort: 80, HostPort: 0, Protocol: "tcp"}, {ContainerPort: 53, HostPort: 5353, Protocol: "udp"}},
		HealthCheck:  &HealthCheck{Command: []string{"CMD", "true"}, Interval: 10 * time.Second, Timeout: 5 * time.Second, Retries: 2},
		StopTimeout:  12 * time.Second, LogDriver: "awslogs", LogOptions: map[string]string{"awslogs-group": "g"},
		DockerLabels: map[string]string{"team": "web"},
	}
	if !reflect.DeepEqual(spec, want) {
		t.Fatalf("spec =\n%+v\nwant\n%+v", spec, want)
	}
}

func TestContainerSpecForScalesHealthChecksAndDefaultsStopTimeout(t *testing.T) {
	td := &ecs.TaskDefinition{Family: "f", ContainerDefinitions: []ecs.ContainerDefinition{{
		Name: "c", HealthCheck: &ecs.HealthCheck{Command: []string{"CMD-SHELL", "true"}, Interval: intp(5), StartPeriod: intp(10)},
	}}}
	spec, err := ContainerSpecFor(SpecInput{TD: td, Def: td.ContainerDefinitions[0], StopTimeout: 7 * time.Second, HealthCheckScale: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	hc := spec.HealthCheck
	if hc.Interval != 500*time.Millisecond || hc.Timeout != 500*time.Millisecond || hc.StartPeriod != time.Second || hc.Retries != 3 {
		t.Errorf("scaled health check %+v; want a tenth of 5s, 5s and 10s, retries kept", hc)
	}
	if spec.StopTimeout != 7*time.Second {
		t.Errorf("stop timeout %v; want the agent's default 7s", spec.StopTimeout)
	}
}

func TestContainerSpecForRefusesWhatTheAgentCannotProvide(t *testing.T) {
	cases := map[string]ecs.ContainerDefinition{
		"secrets":               {Name: "c", Secrets: []ecs.Secret{{Name: "PW", ValueFrom: "arn:aws:ssm:x"}}},
		"environmentFiles":      {Name: "c", EnvironmentFiles: []ecs.EnvironmentFile{{Value: "arn:aws:s3:::b/f", Type: "s3"}}},
		"repositoryCredentials": {Name: "c", RepositoryCredentials: &ecs.RepositoryCredentials{CredentialsParameter: "arn"}},
		"secretOptions":         {Name: "c", LogConfiguration: &ecs.LogConfiguration{LogDriver: "splunk", SecretOptions: []ecs.Secret{{Name: "t", ValueFrom: "x"}}}},
	}
	for what, def := range cases {
		_, err := ContainerSpecFor(SpecInput{TD: &ecs.TaskDefinition{}, Def: def})
		if err == nil || !strings.Contains(err.Error(), what) || !strings.Contains(err.Error(), "Error:") {
			t.Errorf("%s: error %v; want an ECS-style reason naming it", what, err)
		}
	}
}

func TestAssignGPUs(t *testing.T) {
	gpu := func(n string) []ecs.ResourceRequirement { return []ecs.ResourceRequirement{{Type: "GPU", Value: n}} }
	defs := []ecs.ContainerDefinition{{Name: "a", ResourceRequirements: gpu("1")}, {Name: "b"}, {Name: "c", ResourceRequirements: gpu("2")}}
	got := AssignGPUs(defs, []string{"g0", "g1", "g2"})
	want := map[string][]string{"a": {"g0"}, "c": {"g1", "g2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AssignGPUs = %v; want %v", got, want)
	}
}

func TestStartTimeoutOf(t *testing.T) {
	if got := StartTimeoutOf(ecs.ContainerDefinition{StartTimeout: intp(20)}, time.Minute); got != 20*time.Second {
		t.Errorf("StartTimeoutOf with startTimeout 20 = %v", got)
	}
	if got := StartTimeoutOf(ecs.ContainerDefinition{}, time.Minute); got != time.Minute {
		t.Errorf("StartTimeoutOf without one = %v; want the default", got)
	}
}
