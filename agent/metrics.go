package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-run/berth/shared/agentproto"
)

// UsageReportEvery is how often the agent samples its tasks' CPU and memory
// and reports them (BerthAgent.SubmitMetrics) for the services' utilization
// metrics, which target tracking scales on, until the control plane asks
// for another interval in its answer.
const UsageReportEvery = 10 * time.Second

// ContainerUsage is a container's resource usage at one moment.
type ContainerUsage struct {
	// CPUTime is the CPU time the container has used since it started.
	CPUTime time.Duration
	// MemoryBytes is the memory it holds now (resident, page cache excluded).
	MemoryBytes uint64
	// At is when it was measured.
	At time.Time
}

// UsageMeter is implemented by drivers that can measure a running
// container's usage; measuring one that does not run is an error.
type UsageMeter interface {
	Usage(ctx context.Context, id string) (ContainerUsage, error)
}

// ErrNotRunning is returned when a container to measure does not run.
var ErrNotRunning = errors.New("container is not running")

// clockTicksPerSecond is Linux's USER_HZ, the unit of /proc/<pid>/stat's
// CPU times: 100 on every architecture Go supports on Linux.
const clockTicksPerSecond = 100

// ProcessUsage measures a host process from procfs (normally "/proc"):
// CPU time from /proc/<pid>/stat (utime + stime, plus the children it has
// waited for), resident memory from /proc/<pid>/statm.
func ProcessUsage(procfs string, pid int, now time.Time) (ContainerUsage, error) {
	dir := filepath.Join(procfs, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return ContainerUsage{}, fmt.Errorf("process %d: %w", pid, err)
	}
	ticks, err := cpuTicks(stat)
	if err != nil {
		return ContainerUsage{}, fmt.Errorf("process %d: %w", pid, err)
	}
	statm, err := os.ReadFile(filepath.Join(dir, "statm"))
	if err != nil {
		return ContainerUsage{}, fmt.Errorf("process %d: %w", pid, err)
	}
	pages, err := residentPages(statm)
	if err != nil {
		return ContainerUsage{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return ContainerUsage{
		CPUTime:     time.Duration(ticks) * time.Second / clockTicksPerSecond,
		MemoryBytes: pages * uint64(os.Getpagesize()),
		At:          now,
	}, nil
}

// cpuTicks sums utime, stime, cutime and cstime (fields 14-17) of a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its closing parenthesis.
func cpuTicks(stat []byte) (uint64, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("stat: no command name")
	}
	fields := strings.Fields(string(stat[end+1:])) // fields[0] is field 3, state
	const first, last = 14 - 3, 17 - 3
	if len(fields) <= last {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least %d", len(fields), last+1)
	}
	var sum uint64
	for _, f := range fields[first : last+1] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: CPU time %q: %w", f, err)
		}
		sum += uint64(max(v, 0))
	}
	return sum, nil
}

// residentPages reads the second field of /proc/<pid>/statm.
func residentPages(statm []byte) (uint64, error) {
	fields := strings.Fields(string(statm))
	if len(fields) < 2 {
		return 0, errors.New("statm: fewer than 2 fields")
	}
	v, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("statm: resident %q: %w", fields[1], err)
	}
	return v, nil
}

// dockerStats is the part of a Docker stats document usage needs.
type dockerStats struct {
	CPUStats struct {
		CPUUsage struct {
			TotalUsage uint64 `json:"total_usage"`
		} `json:"cpu_usage"`
	} `json:"cpu_stats"`
	MemoryStats struct {
		Usage uint64            `json:"usage"`
		Stats map[string]uint64 `json:"stats"`
	} `json:"memory_stats"`
}

// DockerStatsUsage reads a one-shot Docker stats document
// (GET /containers/{id}/stats?stream=false&one-shot=true): CPU time from
// cpu_stats.cpu_usage.total_usage (nanoseconds), memory from
// memory_stats.usage less the inactive page cache, as `docker stats` shows
// it (inactive_file on cgroup v2, total_inactive_file on v1).
func DockerStatsUsage(r io.Reader, now time.Time) (ContainerUsage, error) {
	var s dockerStats
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return ContainerUsage{}, fmt.Errorf("decode docker stats: %w", err)
	}
	mem := s.MemoryStats.Usage
	cache, ok := s.MemoryStats.Stats["inactive_file"]
	if !ok {
		cache = s.MemoryStats.Stats["total_inactive_file"]
	}
	if cache < mem {
		mem -= cache
	}
	return ContainerUsage{CPUTime: time.Duration(s.CPUStats.CPUUsage.TotalUsage), MemoryBytes: mem, At: now}, nil
}

// usageMeter is how this agent measures its containers: its driver's
// meter, or none when the driver cannot measure.
func (a *Agent) usageMeter() UsageMeter {
	m, _ := a.driver.(UsageMeter)
	return m
}

// startUsageReports samples the usage of the tasks' containers every
// UsageReportEvery and reports it, until ctx ends. Run waits for it.
func (a *Agent) startUsageReports(ctx context.Context) {
	meter := a.usageMeter()
	if meter == nil {
		a.log.Info("the driver cannot measure containers; no utilization metrics are reported", "driver", a.driver.Name())
		return
	}
	a.runnerWG.Add(1)
	go func() {
		defer a.runnerWG.Done()
		s := &usageSampler{meter: meter, prev: map[string]ContainerUsage{}}
		every := UsageReportEvery
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			asked, err := a.reportUsage(ctx, s)
			if err != nil && ctx.Err() == nil {
				a.log.Warn("reporting utilization failed", "err", err)
			}
			if asked > 0 && asked != every {
				every = asked
				tick.Reset(every)
			}
		}
	}()
}

// reportUsage samples once and submits what it measured; it returns the
// interval the control plane asks for (0 when it did not say).
func (a *Agent) reportUsage(ctx context.Context, s *usageSampler) (time.Duration, error) {
	tasks := s.sample(ctx, a.ownedContainers())
	if len(tasks) == 0 {
		return 0, nil
	}
	out, err := a.client.SubmitMetrics(ctx, &MetricsInput{Cluster: a.cfg.Cluster, ContainerInstanceArn: a.ContainerInstanceArn(), Tasks: tasks})
	if err != nil {
		return 0, err
	}
	return time.Duration(out.ReportEverySeconds) * time.Second, nil
}

// ownedContainers snapshots the container ids the agent runs, by task.
func (a *Agent) ownedContainers() map[string]string {
	a.ownersMu.Lock()
	defer a.ownersMu.Unlock()
	out := make(map[string]string, len(a.owners))
	for id, task := range a.owners {
		out[id] = task
	}
	return out
}

// usageSampler turns successive measurements into per-task usage.
type usageSampler struct {
	meter UsageMeter
	// prev is each container's previous measurement.
	prev map[string]ContainerUsage
}

// sample measures every container (id → task ARN) and returns each task's
// usage: CPU in CPU units (1024 per vCPU) averaged since the container's
// previous measurement, memory now in MiB. A container seen for the first
// time only sets the baseline; one that cannot be measured (stopped,
// gone) is left out and forgotten.
func (s *usageSampler) sample(ctx context.Context, containers map[string]string) []TaskUsage {
	byTask := map[string]*TaskUsage{}
	var order []string
	next := make(map[string]ContainerUsage, len(containers))
	for id, task := range containers {
		u, err := s.meter.Usage(ctx, id)
		if err != nil {
			continue
		}
		next[id] = u
		prev, seen := s.prev[id]
		elapsed := u.At.Sub(prev.At)
		if !seen || elapsed <= 0 || u.CPUTime < prev.CPUTime {
			continue
		}
		t, ok := byTask[task]
		if !ok {
			t = &TaskUsage{TaskArn: task}
			byTask[task] = t
			order = append(order, task)
		}
		t.CPUUnits += 1024 * float64(u.CPUTime-prev.CPUTime) / float64(elapsed)
		t.MemoryMiB += float64(u.MemoryBytes) / (1 << 20)
	}
	s.prev = next
	out := make([]TaskUsage, 0, len(order))
	for _, task := range order {
		out = append(out, *byTask[task])
	}
	return out
}

// The agent protocol's usage report (shared/agentproto).
type (
	MetricsInput  = agentproto.MetricsInput
	TaskUsage     = agentproto.TaskUsage
	MetricsOutput = agentproto.MetricsOutput
)

// SubmitMetrics calls BerthAgent.SubmitMetrics.
func (c *Client) SubmitMetrics(ctx context.Context, in *MetricsInput) (*MetricsOutput, error) {
	in.ProtocolVersion = ProtocolVersion
	out := &MetricsOutput{}
	if err := c.call(ctx, agentTarget+"SubmitMetrics", in, out); err != nil {
		return nil, err
	}
	return out, nil
}
