package docker

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/docker/go-connections/nat"
)

func TestCreateRequestMapsTheSpec(t *testing.T) {
	spec := agent.ContainerSpec{
		TaskARN: "arn:aws:ecs:us-east-1:1:task/c/t1", Cluster: "c", Family: "web", Revision: 7, ContainerName: "app",
		Image: "img:1", EntryPoint: []string{"/bin/app"}, Command: []string{"--flag"},
		Environment: map[string]string{"B": "2", "A": "1"}, User: "1000:1000", WorkingDirectory: "/srv",
		CPU: 512, MemoryMiB: 128, MemoryReservationMiB: 64, GPUIDs: []string{"GPU-a"},
		PortMappings: []agent.PortMapping{{ContainerPort: 80}, {ContainerPort: 53, HostPort: 5353, Protocol: "udp"}},
		HealthCheck:  &agent.HealthCheck{Command: []string{"CMD-SHELL", "true"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, Retries: 4, StartPeriod: time.Second},
		StopTimeout:  1500 * time.Millisecond,
		LogDriver:    "syslog", LogOptions: map[string]string{"tag": "x"},
	}
	req, err := buildCreateRequest(spec, "s1", "sha256:abc")
	if err != nil {
		t.Fatal(err)
	}
	c, h := req.config, req.host
	if !reflect.DeepEqual(c.Env, []string{"A=1", "B=2"}) || c.User != "1000:1000" || c.WorkingDir != "/srv" {
		t.Errorf("env/user/dir: %q %q %q", c.Env, c.User, c.WorkingDir)
	}
	if *c.StopTimeout != 2 {
		t.Errorf("stop timeout %d s, want 1.5 s rounded up to 2", *c.StopTimeout)
	}
	if c.Healthcheck.Retries != 4 || c.Healthcheck.Interval != 5*time.Second || c.Healthcheck.StartPeriod != time.Second || c.Healthcheck.Test[0] != "CMD-SHELL" {
		t.Errorf("health check %+v", c.Healthcheck)
	}
	if c.Labels[LabelRevision] != "7" || c.Labels[LabelScope] != "s1" || c.Labels[LabelImageDigest] != "sha256:abc" {
		t.Errorf("labels %v", c.Labels)
	}
	wantBindings := nat.PortMap{"80/tcp": {{HostPort: ""}}, "53/udp": {{HostPort: "5353"}}}
	if !reflect.DeepEqual(h.PortBindings, wantBindings) || h.NetworkMode != "bridge" {
		t.Errorf("bindings %v mode %s", h.PortBindings, h.NetworkMode)
	}
	if h.LogConfig.Type != "syslog" || h.LogConfig.Config["tag"] != "x" {
		t.Errorf("log config %+v", h.LogConfig)
	}
	r := h.Resources
	if r.CPUShares != 512 || r.Memory != 128<<20 || r.MemorySwap != 128<<20 || r.MemoryReservation != 64<<20 {
		t.Errorf("resources %+v", r)
	}
	if len(r.DeviceRequests) != 1 || !reflect.DeepEqual(r.DeviceRequests[0].DeviceIDs, []string{"GPU-a"}) {
		t.Errorf("GPU requests %+v", r.DeviceRequests)
	}
}

func TestCreateRequestWithoutHealthCheckDisablesTheImages(t *testing.T) {
	req, err := buildCreateRequest(agent.ContainerSpec{Image: "i"}, "s", "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(req.config.Healthcheck.Test, []string{"NONE"}) {
		t.Fatalf("health check %v, want NONE", req.config.Healthcheck.Test)
	}
	if req.host.LogConfig.Type != "json-file" || req.host.CPUShares != minCPUShares || req.host.Memory != 0 {
		t.Fatalf("defaults: log %s shares %d memory %d", req.host.LogConfig.Type, req.host.CPUShares, req.host.Memory)
	}
}

func TestCreateRequestRejectsBadPorts(t *testing.T) {
	cases := map[string]agent.ContainerSpec{
		"host mode with another host port": {NetworkMode: "host", PortMappings: []agent.PortMapping{{ContainerPort: 80, HostPort: 81}}},
		"none with ports":                  {NetworkMode: "none", PortMappings: []agent.PortMapping{{ContainerPort: 80}}},
		"container port 0":                 {PortMappings: []agent.PortMapping{{}}},
		"bad protocol":                     {PortMappings: []agent.PortMapping{{ContainerPort: 80, Protocol: "sctp!"}}},
	}
	for name, spec := range cases {
		if _, err := buildCreateRequest(spec, "s", ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if name := containerName(agent.ContainerSpec{Family: "f", Revision: 2, ContainerName: "a b"}); !strings.HasPrefix(name, "berth-f-2-a_b-") {
		t.Errorf("container name %q", name)
	}
}
