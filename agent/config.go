package agent

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// DefaultConfigFile is where the agent reads KEY=VALUE settings, as the ECS
// agent's user data writes them.
const DefaultConfigFile = "/etc/ecs/ecs.config"

// ConfigFileVariable names the variable that moves the config file.
const ConfigFileVariable = "BERTH_ECS_CONFIG_FILE"

// Drivers the agent can run containers with.
const (
	DriverDocker  = "docker"
	DriverProcess = "process"
)

// Config is the agent's configuration. Its fields come from the ECS agent's
// variables (ECS_*) where ECS has one, else from BERTH_* variables.
type Config struct {
	// Cluster is the cluster to join (ECS_CLUSTER; default "default").
	Cluster string
	// Endpoint is the control plane's URL (BERTH_ENDPOINT). Required.
	Endpoint string
	// Driver runs the containers: docker or process (BERTH_DRIVER; default docker).
	Driver string
	// DataDir holds the agent's state (ECS_DATADIR; default /var/lib/ecs/data).
	DataDir string

	// InstanceAttributes are custom attributes to register
	// (ECS_INSTANCE_ATTRIBUTES, a JSON object of strings).
	InstanceAttributes map[string]string
	// ReservedMemoryMiB is memory kept from tasks (ECS_RESERVED_MEMORY).
	ReservedMemoryMiB int
	// ReservedPorts and ReservedPortsUDP are host ports kept from tasks
	// (ECS_RESERVED_PORTS, ECS_RESERVED_PORTS_UDP: JSON arrays).
	ReservedPorts    []int
	ReservedPortsUDP []int
	// StopTimeout is the grace period between SIGTERM and SIGKILL for
	// containers without a stopTimeout (ECS_CONTAINER_STOP_TIMEOUT; 30s).
	StopTimeout time.Duration
	// StartTimeout bounds a container start and, for containers without a
	// startTimeout, the wait for a container's dependencies
	// (ECS_CONTAINER_START_TIMEOUT; 3m).
	StartTimeout time.Duration
	// CleanupWait is how long a stopped task's containers are kept for
	// inspection before they are removed
	// (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION; 10m).
	CleanupWait time.Duration
	// LoggingDrivers are the log drivers the host offers
	// (ECS_AVAILABLE_LOGGING_DRIVERS, a JSON array; default json-file, none).
	LoggingDrivers []string

	// AvailabilityZone and InstanceType describe the host when EC2 instance
	// metadata does not (BERTH_AVAILABILITY_ZONE, BERTH_INSTANCE_TYPE); when
	// set they win over the metadata.
	AvailabilityZone string
	InstanceType     string
	// DisableIMDS skips EC2 instance metadata (BERTH_DISABLE_IMDS=true).
	DisableIMDS bool
	// CPUUnits and MemoryMiB override the host's measured CPU (1024 units
	// per core) and memory (BERTH_CPU_UNITS, BERTH_MEMORY_MIB), so that
	// several agents on one machine can each claim a share of it.
	CPUUnits  int
	MemoryMiB int
	// GPUIDs are the host's GPUs to offer to tasks (BERTH_GPU_IDS, a JSON
	// array of device IDs); none by default.
	GPUIDs []string
	// DockerScope separates this agent's containers from other agents'
	// on a shared Docker engine (BERTH_DOCKER_SCOPE; default "default").
	DockerScope string

	// PollWait is how long a poll may wait for a change (BERTH_POLL_WAIT;
	// 20s; the control plane caps it).
	PollWait time.Duration
	// ResyncEvery is how often every task is re-inspected and the host's
	// containers re-listed, in case an event was missed (BERTH_RESYNC_EVERY; 15s).
	ResyncEvery time.Duration
	// HealthCheckScale multiplies health-check intervals, timeouts and
	// start periods (BERTH_HEALTH_CHECK_SCALE; 1). Values below 1 make
	// checks run faster than ECS allows, for tests and demos.
	HealthCheckScale float64
}

// Defaults of the settings that have one.
const (
	DefaultDataDir     = "/var/lib/ecs/data"
	DefaultStopTimeout = 30 * time.Second
	// DefaultStartTimeout is ECS_CONTAINER_START_TIMEOUT's Linux default.
	DefaultStartTimeout = 3 * time.Minute
	DefaultCleanupWait  = 10 * time.Minute
	DefaultPollWait     = 20 * time.Second
	DefaultResyncEvery  = 15 * time.Second
)

// DefaultLoggingDrivers are the log drivers offered when
// ECS_AVAILABLE_LOGGING_DRIVERS is unset (the ECS agent's default).
var DefaultLoggingDrivers = []string{"json-file", "none"}

// DefaultConfig is the configuration with every default applied and no endpoint.
func DefaultConfig() Config {
	return Config{
		Cluster:          ecs.DefaultCluster,
		Driver:           DriverDocker,
		DataDir:          DefaultDataDir,
		ReservedPorts:    slices.Clone(ecs.DefaultReservedPorts),
		ReservedPortsUDP: []int{},
		StopTimeout:      DefaultStopTimeout,
		StartTimeout:     DefaultStartTimeout,
		CleanupWait:      DefaultCleanupWait,
		LoggingDrivers:   slices.Clone(DefaultLoggingDrivers),
		DockerScope:      "default",
		PollWait:         DefaultPollWait,
		ResyncEvery:      DefaultResyncEvery,
		HealthCheckScale: 1,
	}
}

// LoadConfig reads the config file (DefaultConfigFile, or the file named by
// BERTH_ECS_CONFIG_FILE; a missing file is no error) and the environment,
// whose non-empty variables win, and parses the result.
func LoadConfig() (Config, error) {
	env := environ(os.Environ())
	path := DefaultConfigFile
	if p := env[ConfigFileVariable]; p != "" {
		path = p
	}
	file, err := readConfigFile(path)
	if err != nil {
		return Config{}, err
	}
	for k, v := range env {
		if strings.TrimSpace(v) != "" {
			file[k] = v
		}
	}
	return ParseConfig(file)
}

func environ(kvs []string) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

func readConfigFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read agent config: %w", err)
	}
	defer f.Close()
	vars, err := ParseConfigFile(f)
	if err != nil {
		return nil, fmt.Errorf("read agent config %s: %w", path, err)
	}
	return vars, nil
}

// ParseConfigFile reads KEY=VALUE lines as systemd's EnvironmentFile does:
// blank lines and lines starting with # are skipped, "export " before a key
// is allowed, and a value may be wrapped in single or double quotes.
func ParseConfigFile(r io.Reader) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("line %d: want KEY=VALUE, got %q", n, line)
		}
		vars[key] = unquote(strings.TrimSpace(value))
	}
	return vars, sc.Err()
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// ParseConfig builds a Config from variables, applying defaults to what is
// unset. A malformed value is an error naming its variable.
func ParseConfig(vars map[string]string) (Config, error) {
	c := DefaultConfig()
	p := parser{vars: vars}
	p.str("ECS_CLUSTER", &c.Cluster)
	p.str("BERTH_ENDPOINT", &c.Endpoint)
	p.str("BERTH_DRIVER", &c.Driver)
	p.str("ECS_DATADIR", &c.DataDir)
	p.attributes("ECS_INSTANCE_ATTRIBUTES", &c.InstanceAttributes)
	p.nonNegativeInt("ECS_RESERVED_MEMORY", &c.ReservedMemoryMiB)
	p.ports("ECS_RESERVED_PORTS", &c.ReservedPorts)
	p.ports("ECS_RESERVED_PORTS_UDP", &c.ReservedPortsUDP)
	p.duration("ECS_CONTAINER_STOP_TIMEOUT", &c.StopTimeout)
	p.duration("ECS_CONTAINER_START_TIMEOUT", &c.StartTimeout)
	p.duration("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", &c.CleanupWait)
	p.stringList("ECS_AVAILABLE_LOGGING_DRIVERS", &c.LoggingDrivers)
	p.attributeValue("BERTH_AVAILABILITY_ZONE", &c.AvailabilityZone)
	p.attributeValue("BERTH_INSTANCE_TYPE", &c.InstanceType)
	p.boolean("BERTH_DISABLE_IMDS", &c.DisableIMDS)
	p.nonNegativeInt("BERTH_CPU_UNITS", &c.CPUUnits)
	p.nonNegativeInt("BERTH_MEMORY_MIB", &c.MemoryMiB)
	p.stringList("BERTH_GPU_IDS", &c.GPUIDs)
	p.str("BERTH_DOCKER_SCOPE", &c.DockerScope)
	p.duration("BERTH_POLL_WAIT", &c.PollWait)
	p.duration("BERTH_RESYNC_EVERY", &c.ResyncEvery)
	p.scale("BERTH_HEALTH_CHECK_SCALE", &c.HealthCheckScale)
	if p.err != nil {
		return Config{}, p.err
	}
	return c, c.Validate()
}

// Validate checks the settings that depend on each other or on no single
// variable's syntax.
func (c Config) Validate() error {
	if c.Endpoint == "" {
		return errors.New("BERTH_ENDPOINT: the control plane's URL is required (e.g. http://127.0.0.1:4566)")
	}
	if !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		return fmt.Errorf("BERTH_ENDPOINT: %q must be an http:// or https:// URL", c.Endpoint)
	}
	if _, err := ecs.ClusterName(c.Cluster); err != nil || c.Cluster == "" {
		return fmt.Errorf("ECS_CLUSTER: %q is not a cluster name or ARN", c.Cluster)
	}
	if c.Driver != DriverDocker && c.Driver != DriverProcess {
		return fmt.Errorf("BERTH_DRIVER: %q is not a driver; valid: docker, process", c.Driver)
	}
	if c.DataDir == "" {
		return errors.New("ECS_DATADIR: must name a directory")
	}
	if c.StopTimeout <= 0 || c.StartTimeout <= 0 {
		return errors.New("ECS_CONTAINER_STOP_TIMEOUT and ECS_CONTAINER_START_TIMEOUT: must be positive durations")
	}
	if c.PollWait < time.Second {
		return fmt.Errorf("BERTH_POLL_WAIT: %v is below the 1s minimum", c.PollWait)
	}
	if c.ResyncEvery <= 0 {
		return errors.New("BERTH_RESYNC_EVERY: must be a positive duration")
	}
	if c.HealthCheckScale <= 0 || c.HealthCheckScale > 1 {
		return fmt.Errorf("BERTH_HEALTH_CHECK_SCALE: %v must be above 0 and at most 1", c.HealthCheckScale)
	}
	if n := len(c.ReservedPorts) + len(c.ReservedPortsUDP); n > 100 {
		return fmt.Errorf("ECS_RESERVED_PORTS and ECS_RESERVED_PORTS_UDP: %d ports exceed ECS's limit of 100 reserved ports", n)
	}
	return nil
}

// parser reads variables into fields, keeping the first error.
type parser struct {
	vars map[string]string
	err  error
}

func (p *parser) get(name string) (string, bool) {
	if p.err != nil {
		return "", false
	}
	v, ok := p.vars[name]
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (p *parser) fail(name, value, format string, args ...any) {
	p.err = fmt.Errorf("%s=%q: %s", name, value, fmt.Sprintf(format, args...))
}

func (p *parser) str(name string, dst *string) {
	if v, ok := p.get(name); ok {
		*dst = v
	}
}

func (p *parser) attributeValue(name string, dst *string) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	if err := ecs.ValidateAttribute(name, ecs.Attribute{Name: "x", Value: v}); err != nil {
		p.fail(name, v, "not a valid attribute value (1-128 letters, numbers, spaces or -_.@/\\:)")
		return
	}
	*dst = v
}

func (p *parser) boolean(name string, dst *bool) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, v, "want true or false")
		return
	}
	*dst = b
}

func (p *parser) nonNegativeInt(name string, dst *int) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(name, v, "want a whole number, 0 or more")
		return
	}
	*dst = n
}

// duration reads a Go duration ("30s", "2m30s"); a bare number is seconds.
func (p *parser) duration(name string, dst *time.Duration) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		*dst = time.Duration(n) * time.Second
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.fail(name, v, "want a duration such as 30s or 2m")
		return
	}
	*dst = d
}

func (p *parser) scale(name string, dst *float64) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		p.fail(name, v, "want a number above 0 and at most 1")
		return
	}
	*dst = f
}

func (p *parser) stringList(name string, dst *[]string) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	var list []string
	if err := json.Unmarshal([]byte(v), &list); err != nil {
		p.fail(name, v, "want a JSON array of strings, e.g. [\"json-file\",\"awslogs\"]")
		return
	}
	for _, s := range list {
		if strings.TrimSpace(s) == "" {
			p.fail(name, v, "an entry is empty")
			return
		}
	}
	*dst = list
}

func (p *parser) ports(name string, dst *[]int) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	var list []int
	if err := json.Unmarshal([]byte(v), &list); err != nil {
		p.fail(name, v, "want a JSON array of port numbers, e.g. [22, 2375]")
		return
	}
	for _, port := range list {
		if port < 1 || port > 65535 {
			p.fail(name, v, "port %d is not 1-65535", port)
			return
		}
	}
	slices.Sort(list)
	*dst = slices.Compact(list)
}

func (p *parser) attributes(name string, dst *map[string]string) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	var attrs map[string]string
	if err := json.Unmarshal([]byte(v), &attrs); err != nil {
		p.fail(name, v, "want a JSON object of strings, e.g. {\"stack\":\"prod\"}")
		return
	}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if err := ecs.ValidateAttribute("attribute "+k, ecs.Attribute{Name: k, Value: attrs[k]}); err != nil {
			p.fail(name, v, "%v", err)
			return
		}
		if ecs.IsBuiltinAttribute(k) {
			p.fail(name, v, "attribute %q: names starting with ecs. or com.amazonaws.ecs. are set by the agent", k)
			return
		}
	}
	if len(attrs) > ecs.MaxCustomAttributes {
		p.fail(name, v, "%d attributes exceed ECS's limit of %d custom attributes", len(attrs), ecs.MaxCustomAttributes)
		return
	}
	*dst = attrs
}
