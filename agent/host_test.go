package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/berth-run/berth/shared/ecs"
)

const meminfo = `MemTotal:       16318356 kB
MemFree:         1229596 kB
MemAvailable:    9517868 kB
`

func TestParseMemTotal(t *testing.T) {
	mib, err := ParseMemTotal(strings.NewReader(meminfo))
	if err != nil || mib != 16318356/1024 {
		t.Fatalf("ParseMemTotal = %d, %v; want %d", mib, err, 16318356/1024)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: lots kB\n", "MemTotal: 100 MB\n"} {
		if _, err := ParseMemTotal(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseMemTotal(%q) accepted it", bad)
		}
	}
}

func TestDescribeHost(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ReservedMemoryMiB = 512
	h, err := DescribeHost(cfg, Metadata{}, 4, strings.NewReader(meminfo))
	if err != nil {
		t.Fatal(err)
	}
	if h.CPUUnits != 4096 || h.MemoryMiB != 16318356/1024-512 {
		t.Errorf("cpu %d memory %d; want 4 cores x 1024 and MemTotal less the reserve", h.CPUUnits, h.MemoryMiB)
	}
	if h.AvailabilityZone != LocalAvailabilityZone || h.InstanceType != LocalInstanceType || h.AMIID != "" {
		t.Errorf("off EC2 without settings: zone %q type %q ami %q; want the local values and no AMI", h.AvailabilityZone, h.InstanceType, h.AMIID)
	}

	md := Metadata{AvailabilityZone: "us-west-2b", InstanceType: "c7g.xlarge", AMIID: "ami-123", Region: "us-west-2"}
	h, _ = DescribeHost(cfg, md, 4, strings.NewReader(meminfo))
	if h.AvailabilityZone != "us-west-2b" || h.InstanceType != "c7g.xlarge" || h.AMIID != "ami-123" {
		t.Errorf("on EC2: %+v; want the metadata's values", h)
	}
	cfg.AvailabilityZone, cfg.CPUUnits, cfg.MemoryMiB = "us-west-2z", 1024, 2048
	h, _ = DescribeHost(cfg, md, 4, strings.NewReader(""))
	if h.AvailabilityZone != "us-west-2z" || h.InstanceType != "c7g.xlarge" || h.CPUUnits != 1024 || h.MemoryMiB != 2048-512 {
		t.Errorf("with settings: %+v; want the configured zone, CPU and memory to win", h)
	}
	cfg.ReservedMemoryMiB = 4096
	if _, err := DescribeHost(cfg, md, 4, nil); err == nil || !strings.Contains(err.Error(), "ECS_RESERVED_MEMORY") {
		t.Errorf("a reserve above the memory gave %v; want an error naming ECS_RESERVED_MEMORY", err)
	}
}

func TestRegistration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cluster = "prod"
	cfg.InstanceAttributes = map[string]string{"stack": "blue"}
	cfg.ReservedPortsUDP = []int{53}
	cfg.GPUIDs = []string{"GPU-a"}
	cfg.LoggingDrivers = []string{"json-file", "awslogs"}
	h := Host{CPUUnits: 2048, MemoryMiB: 3000, AvailabilityZone: "us-east-1a", InstanceType: "t3.medium", AMIID: "ami-1",
		Architecture: "x86_64", IdentityDocument: `{"instanceId":"i-1"}`, IdentityDocumentSignature: "sig"}
	in := Registration(cfg, h, RuntimeInfo{Driver: "docker", Version: "28.2.2", APIVersion: "1.41"}, "0.3.0")
	capacity, err := ecs.CapacityOf("totalResources", in.TotalResources)
	if err != nil {
		t.Fatal(err)
	}
	if capacity.CPU != 2048 || capacity.Memory != 3000 || !slices.Equal(capacity.Ports, ecs.DefaultReservedPorts) || !slices.Equal(capacity.PortsUDP, []int{53}) {
		t.Errorf("resources %+v; want the host's CPU and memory and the reserved ports", capacity)
	}
	if in.Cluster != "prod" || in.VersionInfo.AgentVersion != "0.3.0" || in.VersionInfo.DockerVersion != "28.2.2" ||
		in.InstanceIdentityDocument != h.IdentityDocument || in.InstanceIdentityDocumentSignature != "sig" {
		t.Errorf("registration %+v; want cluster, versions and identity document", in)
	}
	if len(in.PlatformDevices) != 1 || in.PlatformDevices[0] != (ecs.PlatformDevice{ID: "GPU-a", Type: "GPU"}) {
		t.Errorf("platform devices %v; want the configured GPU", in.PlatformDevices)
	}
	attrs := map[string]string{}
	for _, a := range in.Attributes {
		if err := ecs.ValidateAttribute("attributes", a); err != nil {
			t.Errorf("attribute %+v is not valid: %v", a, err)
		}
		attrs[a.Name] = a.Value
	}
	for name, want := range map[string]string{
		"ecs.availability-zone": "us-east-1a", "ecs.instance-type": "t3.medium", "ecs.os-type": "linux", "ecs.os-family": "LINUX",
		"ecs.cpu-architecture": "x86_64", "ecs.ami-id": "ami-1", "stack": "blue",
		"com.amazonaws.ecs.capability.logging-driver.awslogs": "", "com.amazonaws.ecs.capability.docker-remote-api.1.41": "",
		"ecs.capability.container-ordering": "",
	} {
		if got, ok := attrs[name]; !ok || got != want {
			t.Errorf("attribute %s = %q (present %v); want %q", name, got, ok, want)
		}
	}
	if n := ecs.CountCustomAttributes(in.Attributes); n != 1 {
		t.Errorf("%d custom attributes; want only the configured one", n)
	}
}

// imdsServer answers like EC2's IMDSv2: a token first, then metadata for
// requests carrying it.
func imdsServer(t *testing.T, values map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			_, _ = w.Write([]byte("token-1"))
			return
		}
		if r.Header.Get("X-Aws-Ec2-Metadata-Token") != "token-1" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		v, ok := values[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestReadMetadataFromIMDSv2(t *testing.T) {
	srv := imdsServer(t, map[string]string{
		"/latest/meta-data/placement/availability-zone": "eu-central-1b",
		"/latest/meta-data/instance-type":               "m7i.large",
		"/latest/meta-data/ami-id":                      "ami-0abc",
		"/latest/meta-data/placement/region":            "eu-central-1",
		"/latest/dynamic/instance-identity/document":    `{"instanceId":"i-0123"}`,
		"/latest/dynamic/instance-identity/signature":   "c2ln\n",
	})
	md, err := ReadMetadata(context.Background(), imds.New(imds.Options{Endpoint: srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	want := Metadata{AvailabilityZone: "eu-central-1b", InstanceType: "m7i.large", AMIID: "ami-0abc", Region: "eu-central-1",
		IdentityDocument: `{"instanceId":"i-0123"}`, IdentityDocumentSignature: "c2ln"}
	if md != want {
		t.Fatalf("ReadMetadata = %+v; want %+v", md, want)
	}
}

func TestReadMetadataFailsWithoutIMDS(t *testing.T) {
	srv := imdsServer(t, map[string]string{})
	if _, err := ReadMetadata(context.Background(), imds.New(imds.Options{Endpoint: srv.URL})); err == nil {
		t.Fatal("ReadMetadata succeeded against a metadata service that knows nothing")
	}
}
