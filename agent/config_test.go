package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig(map[string]string{"BERTH_ENDPOINT": "http://127.0.0.1:4566"})
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Endpoint = "http://127.0.0.1:4566"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("ParseConfig with only an endpoint = %+v; want the defaults %+v", c, want)
	}
	if c.Cluster != "default" || c.StopTimeout != 30*time.Second || !slices.Equal(c.ReservedPorts, []int{22, 2375, 2376, 51678, 51679}) ||
		c.Driver != DriverDocker || c.DataDir != "/var/lib/ecs/data" || !slices.Equal(c.LoggingDrivers, []string{"json-file", "none"}) {
		t.Fatalf("defaults are not ECS's: %+v", c)
	}
}

func TestParseConfigReadsEveryVariable(t *testing.T) {
	c, err := ParseConfig(map[string]string{
		"BERTH_ENDPOINT":                        "https://berth.example.com",
		"ECS_CLUSTER":                           "prod",
		"BERTH_DRIVER":                          "process",
		"ECS_DATADIR":                           "/data",
		"ECS_INSTANCE_ATTRIBUTES":               `{"stack":"blue","team":"a b"}`,
		"ECS_RESERVED_MEMORY":                   "256",
		"ECS_RESERVED_PORTS":                    "[8080, 22, 22]",
		"ECS_RESERVED_PORTS_UDP":                "[53]",
		"ECS_CONTAINER_STOP_TIMEOUT":            "45s",
		"ECS_CONTAINER_START_TIMEOUT":           "90",
		"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION": "1h",
		"ECS_AVAILABLE_LOGGING_DRIVERS":         `["json-file","awslogs"]`,
		"BERTH_AVAILABILITY_ZONE":               "eu-west-1c",
		"BERTH_INSTANCE_TYPE":                   "m7g.large",
		"BERTH_DISABLE_IMDS":                    "true",
		"BERTH_CPU_UNITS":                       "2048",
		"BERTH_MEMORY_MIB":                      "4096",
		"BERTH_GPU_IDS":                         `["GPU-1","GPU-2"]`,
		"BERTH_DOCKER_SCOPE":                    "blue",
		"BERTH_POLL_WAIT":                       "5s",
		"BERTH_RESYNC_EVERY":                    "1m",
		"BERTH_HEALTH_CHECK_SCALE":              "0.5",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Cluster: "prod", Endpoint: "https://berth.example.com", Driver: "process", DataDir: "/data",
		InstanceAttributes: map[string]string{"stack": "blue", "team": "a b"},
		ReservedMemoryMiB:  256, ReservedPorts: []int{22, 8080}, ReservedPortsUDP: []int{53},
		StopTimeout: 45 * time.Second, StartTimeout: 90 * time.Second, CleanupWait: time.Hour,
		LoggingDrivers:   []string{"json-file", "awslogs"},
		AvailabilityZone: "eu-west-1c", InstanceType: "m7g.large", DisableIMDS: true,
		CPUUnits: 2048, MemoryMiB: 4096, GPUIDs: []string{"GPU-1", "GPU-2"}, DockerScope: "blue",
		PollWait: 5 * time.Second, ResyncEvery: time.Minute, HealthCheckScale: 0.5,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("ParseConfig =\n%+v\nwant\n%+v", c, want)
	}
}

func TestParseConfigNamesTheMalformedVariable(t *testing.T) {
	cases := map[string]string{
		"ECS_RESERVED_MEMORY":                   "lots",
		"ECS_RESERVED_PORTS":                    "22,80",
		"ECS_RESERVED_PORTS_UDP":                "[70000]",
		"ECS_INSTANCE_ATTRIBUTES":               `["stack"]`,
		"ECS_CONTAINER_STOP_TIMEOUT":            "soon",
		"ECS_CONTAINER_START_TIMEOUT":           "-5s",
		"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION": "1 hour",
		"ECS_AVAILABLE_LOGGING_DRIVERS":         `"json-file"`,
		"BERTH_DISABLE_IMDS":                    "perhaps",
		"BERTH_CPU_UNITS":                       "-1",
		"BERTH_GPU_IDS":                         `[""]`,
		"BERTH_AVAILABILITY_ZONE":               "zone #1",
		"BERTH_HEALTH_CHECK_SCALE":              "fast",
		"BERTH_DRIVER":                          "podman",
		"ECS_CLUSTER":                           "no spaces please",
		"BERTH_POLL_WAIT":                       "10ms",
	}
	for name, value := range cases {
		vars := map[string]string{"BERTH_ENDPOINT": "http://localhost:1", name: value}
		_, err := ParseConfig(vars)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v; want one naming %s", name, value, err, name)
		}
	}
}

func TestParseConfigRejectsBadAttributes(t *testing.T) {
	cases := map[string]string{
		`{"ecs.instance-type":"x"}`: "set by the agent",
		`{"bad name!":"x"}`:         "letters",
		`{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11"}`: "limit of 10",
	}
	for value, want := range cases {
		_, err := ParseConfig(map[string]string{"BERTH_ENDPOINT": "http://x", "ECS_INSTANCE_ATTRIBUTES": value})
		if err == nil || !strings.Contains(err.Error(), "ECS_INSTANCE_ATTRIBUTES") || !strings.Contains(err.Error(), want) {
			t.Errorf("ECS_INSTANCE_ATTRIBUTES=%s: error %v; want one naming the variable and %q", value, err, want)
		}
	}
}

func TestParseConfigRequiresAnEndpoint(t *testing.T) {
	for _, endpoint := range []string{"", "127.0.0.1:4566"} {
		_, err := ParseConfig(map[string]string{"BERTH_ENDPOINT": endpoint})
		if err == nil || !strings.Contains(err.Error(), "BERTH_ENDPOINT") {
			t.Errorf("endpoint %q: error %v; want one naming BERTH_ENDPOINT", endpoint, err)
		}
	}
}

func TestParseConfigFile(t *testing.T) {
	vars, err := ParseConfigFile(strings.NewReader(`
# written by user data
ECS_CLUSTER=prod
export ECS_RESERVED_MEMORY = 128
ECS_INSTANCE_ATTRIBUTES='{"stack":"blue"}'
ECS_AVAILABLE_LOGGING_DRIVERS="[\"json-file\"]"
EMPTY=
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ECS_CLUSTER": "prod", "ECS_RESERVED_MEMORY": "128", "ECS_INSTANCE_ATTRIBUTES": `{"stack":"blue"}`,
		"ECS_AVAILABLE_LOGGING_DRIVERS": `[\"json-file\"]`, "EMPTY": "",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Fatalf("ParseConfigFile = %v; want %v", vars, want)
	}
	if _, err := ParseConfigFile(strings.NewReader("ECS_CLUSTER prod\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("a line without = gave %v; want an error naming line 1", err)
	}
}

// TestLoadConfigEnvironmentWinsOverTheFile: the file fills in, the
// environment overrides.
func TestLoadConfigEnvironmentWinsOverTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ecs.config")
	content := "ECS_CLUSTER=from-file\nECS_RESERVED_MEMORY=64\nBERTH_ENDPOINT=http://file:1\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ConfigFileVariable, path)
	t.Setenv("ECS_CLUSTER", "from-env")
	t.Setenv("BERTH_ENDPOINT", "")
	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster != "from-env" || c.ReservedMemoryMiB != 64 || c.Endpoint != "http://file:1" {
		t.Fatalf("cluster %q memory %d endpoint %q; want the environment's cluster, the file's memory and (an empty variable does not override) the file's endpoint",
			c.Cluster, c.ReservedMemoryMiB, c.Endpoint)
	}
	t.Setenv(ConfigFileVariable, filepath.Join(t.TempDir(), "absent"))
	t.Setenv("BERTH_ENDPOINT", "http://env:1")
	if c, err := LoadConfig(); err != nil || c.Endpoint != "http://env:1" {
		t.Fatalf("without a file: %+v, %v; want the environment alone", c, err)
	}
}
