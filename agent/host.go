package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/berth-run/berth/shared/ecs"
)

// Built-in attribute names the agent sets.
const (
	AttrAvailabilityZone = "ecs.availability-zone"
	AttrInstanceType     = "ecs.instance-type"
	AttrOSType           = "ecs.os-type"
	AttrOSFamily         = "ecs.os-family"
	AttrCPUArchitecture  = "ecs.cpu-architecture"
	AttrAMIID            = "ecs.ami-id"
)

// Local values for hosts outside EC2 that configure none.
const (
	LocalAvailabilityZone = "local"
	LocalInstanceType     = "berth.local"
)

// imdsTimeout bounds the whole metadata lookup: off EC2 nothing answers.
const imdsTimeout = 1500 * time.Millisecond

// Host is what the agent registers about its machine.
type Host struct {
	CPUUnits         int
	MemoryMiB        int
	AvailabilityZone string
	InstanceType     string
	AMIID            string
	// Region is the EC2 region, when instance metadata gave one.
	Region string
	// IdentityDocument and its signature come from instance metadata.
	IdentityDocument          string
	IdentityDocumentSignature string
	Architecture              string
}

// Metadata is what EC2 instance metadata says about the host.
type Metadata struct {
	AvailabilityZone          string
	InstanceType              string
	AMIID                     string
	Region                    string
	IdentityDocument          string
	IdentityDocumentSignature string
}

// ReadMetadata asks EC2 instance metadata (IMDSv2) about the host. client
// nil means the SDK's default client (which honours
// AWS_EC2_METADATA_SERVICE_ENDPOINT). It fails fast off EC2.
func ReadMetadata(ctx context.Context, client *imds.Client) (Metadata, error) {
	if client == nil {
		client = imds.New(imds.Options{})
	}
	ctx, cancel := context.WithTimeout(ctx, imdsTimeout)
	defer cancel()
	var md Metadata
	var err error
	get := func(path string) string {
		if err != nil {
			return ""
		}
		var out *imds.GetMetadataOutput
		out, err = client.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
		if err != nil {
			err = fmt.Errorf("instance metadata %s: %w", path, err)
			return ""
		}
		defer out.Content.Close()
		b, rerr := io.ReadAll(io.LimitReader(out.Content, 64<<10))
		if rerr != nil {
			err = fmt.Errorf("instance metadata %s: %w", path, rerr)
		}
		return strings.TrimSpace(string(b))
	}
	md.AvailabilityZone = get("placement/availability-zone")
	md.InstanceType = get("instance-type")
	md.AMIID = get("ami-id")
	md.Region = get("placement/region")
	if err != nil {
		return Metadata{}, err
	}
	doc, derr := client.GetDynamicData(ctx, &imds.GetDynamicDataInput{Path: "instance-identity/document"})
	if derr == nil {
		b, _ := io.ReadAll(io.LimitReader(doc.Content, 64<<10))
		doc.Content.Close()
		md.IdentityDocument = string(b)
	}
	sig, serr := client.GetDynamicData(ctx, &imds.GetDynamicDataInput{Path: "instance-identity/signature"})
	if serr == nil {
		b, _ := io.ReadAll(io.LimitReader(sig.Content, 64<<10))
		sig.Content.Close()
		md.IdentityDocumentSignature = strings.TrimSpace(string(b))
	}
	return md, nil
}

// DescribeHost combines the measured machine, instance metadata (md; zero
// when unavailable) and the configuration, which wins where it says
// something. memInfo is /proc/meminfo's content.
func DescribeHost(cfg Config, md Metadata, cores int, memInfo io.Reader) (Host, error) {
	h := Host{
		CPUUnits:                  cores * 1024,
		AvailabilityZone:          firstOf(cfg.AvailabilityZone, md.AvailabilityZone, LocalAvailabilityZone),
		InstanceType:              firstOf(cfg.InstanceType, md.InstanceType, LocalInstanceType),
		AMIID:                     md.AMIID,
		Region:                    md.Region,
		IdentityDocument:          md.IdentityDocument,
		IdentityDocumentSignature: md.IdentityDocumentSignature,
		Architecture:              cpuArchitecture(runtime.GOARCH),
	}
	if cfg.CPUUnits > 0 {
		h.CPUUnits = cfg.CPUUnits
	}
	mem := cfg.MemoryMiB
	if mem == 0 {
		total, err := ParseMemTotal(memInfo)
		if err != nil {
			return Host{}, err
		}
		mem = total
	}
	h.MemoryMiB = mem - cfg.ReservedMemoryMiB
	if h.MemoryMiB <= 0 {
		return Host{}, fmt.Errorf("ECS_RESERVED_MEMORY: %d MiB reserved leaves nothing of the host's %d MiB", cfg.ReservedMemoryMiB, mem)
	}
	return h, nil
}

// LocalHost describes this machine: its cores, /proc/meminfo and, unless
// disabled, EC2 instance metadata.
func LocalHost(ctx context.Context, cfg Config) (Host, error) {
	var md Metadata
	if !cfg.DisableIMDS {
		var err error
		if md, err = ReadMetadata(ctx, nil); err != nil {
			md = Metadata{}
		}
	}
	var memInfo io.Reader = strings.NewReader("")
	if cfg.MemoryMiB == 0 {
		f, err := os.Open("/proc/meminfo")
		if err != nil {
			return Host{}, fmt.Errorf("measure host memory (set BERTH_MEMORY_MIB to skip): %w", err)
		}
		defer f.Close()
		memInfo = f
	}
	return DescribeHost(cfg, md, runtime.NumCPU(), memInfo)
}

// ParseMemTotal reads MemTotal from /proc/meminfo's content, in MiB.
func ParseMemTotal(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("/proc/meminfo: unexpected MemTotal line %q", sc.Text())
		}
		kb, err := strconv.Atoi(fields[0])
		if err != nil || kb <= 0 {
			return 0, fmt.Errorf("/proc/meminfo: unexpected MemTotal line %q", sc.Text())
		}
		return kb / 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("/proc/meminfo: %w", err)
	}
	return 0, errors.New("/proc/meminfo: no MemTotal line")
}

// cpuArchitecture names GOARCH as ECS's ecs.cpu-architecture does.
func cpuArchitecture(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	default:
		return goarch
	}
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Registration is the RegisterContainerInstance request for this host.
func Registration(cfg Config, h Host, info RuntimeInfo, version string) *RegisterInput {
	capacity := ecs.Capacity{
		CPU:      h.CPUUnits,
		Memory:   h.MemoryMiB,
		Ports:    slices.Clone(cfg.ReservedPorts),
		PortsUDP: slices.Clone(cfg.ReservedPortsUDP),
	}
	in := &RegisterInput{
		Cluster:                           cfg.Cluster,
		InstanceIdentityDocument:          h.IdentityDocument,
		InstanceIdentityDocumentSignature: h.IdentityDocumentSignature,
		TotalResources:                    capacity.Resources(),
		VersionInfo:                       &ecs.VersionInfo{AgentVersion: version, DockerVersion: info.Version},
		Attributes:                        attributes(cfg, h, info),
	}
	for _, id := range cfg.GPUIDs {
		in.PlatformDevices = append(in.PlatformDevices, ecs.PlatformDevice{ID: id, Type: ecs.ResourceGPU})
	}
	return in
}

// attributes are the built-in attributes (host, OS, capabilities) followed
// by the configured custom ones, sorted by name.
func attributes(cfg Config, h Host, info RuntimeInfo) []ecs.Attribute {
	set := map[string]string{
		AttrAvailabilityZone:                         h.AvailabilityZone,
		AttrInstanceType:                             h.InstanceType,
		AttrOSType:                                   "linux",
		AttrOSFamily:                                 "LINUX",
		AttrCPUArchitecture:                          h.Architecture,
		"ecs.capability.container-health-check":      "",
		"ecs.capability.container-ordering":          "",
		"ecs.capability.task-cpu-mem-limit":          "",
		"ecs.capability.berth-driver." + info.Driver: "",
	}
	if h.AMIID != "" {
		set[AttrAMIID] = h.AMIID
	}
	if info.Driver == DriverDocker && info.APIVersion != "" {
		set["com.amazonaws.ecs.capability.docker-remote-api."+info.APIVersion] = ""
	}
	for _, d := range cfg.LoggingDrivers {
		set["com.amazonaws.ecs.capability.logging-driver."+d] = ""
	}
	maps.Copy(set, cfg.InstanceAttributes)
	out := make([]ecs.Attribute, 0, len(set))
	for _, name := range slices.Sorted(maps.Keys(set)) {
		out = append(out, ecs.Attribute{Name: name, Value: set[name]})
	}
	return out
}
