package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeProc(t *testing.T, root string, pid int, stat, statm string) {
	t.Helper()
	dir := filepath.Join(root, fmt.Sprint(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"stat": stat, "statm": statm} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProcessUsageReadsProcfs(t *testing.T) {
	root := t.TempDir()
	// A command name with spaces and a parenthesis; utime 250, stime 50,
	// cutime 100, cstime 0 ticks = 4 s; 300 resident pages.
	stat := "4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 100 0 20 0 3 0 123 1000000 300 18446744073709551615\n"
	writeProc(t, root, 4242, stat, "2500 300 100 10 0 400 0\n")
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	u, err := ProcessUsage(root, 4242, at)
	if err != nil {
		t.Fatal(err)
	}
	if u.CPUTime != 4*time.Second || u.MemoryBytes != 300*uint64(os.Getpagesize()) || !u.At.Equal(at) {
		t.Fatalf("usage = %+v", u)
	}
	writeProc(t, root, 7, "7 (short) S 1 2 3\n", "1 2\n")
	if _, err := ProcessUsage(root, 7, at); err == nil || !strings.Contains(err.Error(), "fields") {
		t.Fatalf("truncated stat: %v", err)
	}
	if _, err := ProcessUsage(root, 8, at); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing process: %v", err)
	}
}

func TestProcessUsageOfALiveProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("SKIPPED: no procfs on this system; ProcessUsage is Linux-only")
	}
	// Burn CPU until the kernel has counted a tick of it (10 ms).
	deadline := time.Now().Add(10 * time.Second)
	var u ContainerUsage
	for n := uint64(1); u.CPUTime == 0; n = n*6364136223846793005 + 1442695040888963407 {
		if time.Now().After(deadline) {
			t.Fatal("no CPU time counted after 10 s of spinning")
		}
		var err error
		if u, err = ProcessUsage("/proc", os.Getpid(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if u.MemoryBytes < 1<<20 {
		t.Fatalf("this test process holds %d bytes", u.MemoryBytes)
	}
}

func TestDockerStatsUsage(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	v2 := `{"read":"2026-11-22T12:00:00Z","cpu_stats":{"cpu_usage":{"total_usage":1500000000},"system_cpu_usage":9},
		"memory_stats":{"usage":104857600,"limit":536870912,"stats":{"inactive_file":4194304,"anon":90000000}}}`
	u, err := DockerStatsUsage(strings.NewReader(v2), at)
	if err != nil || u.CPUTime != 1500*time.Millisecond || u.MemoryBytes != 100<<20-4<<20 {
		t.Fatalf("cgroup v2 stats: %+v %v", u, err)
	}
	v1 := `{"cpu_stats":{"cpu_usage":{"total_usage":10}},"memory_stats":{"usage":2048,"stats":{"total_inactive_file":1024,"cache":1500}}}`
	u, err = DockerStatsUsage(strings.NewReader(v1), at)
	if err != nil || u.MemoryBytes != 1024 {
		t.Fatalf("cgroup v1 stats: %+v %v", u, err)
	}
	if _, err := DockerStatsUsage(strings.NewReader("{"), at); err == nil {
		t.Fatal("a truncated document decoded")
	}
}

// fakeMeter returns programmed measurements.
type fakeMeter map[string]ContainerUsage

func (f fakeMeter) Usage(_ context.Context, id string) (ContainerUsage, error) {
	u, ok := f[id]
	if !ok {
		return ContainerUsage{}, ErrNotRunning
	}
	return u, nil
}

func TestUsageSamplerAveragesCPUSinceThePreviousSample(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	meter := fakeMeter{
		"a1": {CPUTime: 10 * time.Second, MemoryBytes: 64 << 20, At: t0},
		"a2": {CPUTime: 0, MemoryBytes: 32 << 20, At: t0},
		"b1": {CPUTime: time.Second, MemoryBytes: 8 << 20, At: t0},
	}
	s := &usageSampler{meter: meter, prev: map[string]ContainerUsage{}}
	owners := map[string]string{"a1": "task/a", "a2": "task/a", "b1": "task/b", "gone": "task/c"}
	if got := s.sample(context.Background(), owners); len(got) != 0 {
		t.Fatalf("the first sample only sets baselines: %+v", got)
	}
	t1 := t0.Add(10 * time.Second)
	meter["a1"] = ContainerUsage{CPUTime: 15 * time.Second, MemoryBytes: 64 << 20, At: t1}        // half a CPU
	meter["a2"] = ContainerUsage{CPUTime: 2500 * time.Millisecond, MemoryBytes: 32 << 20, At: t1} // a quarter
	meter["b1"] = ContainerUsage{CPUTime: 0, MemoryBytes: 8 << 20, At: t1}                        // restarted: counter went back
	got := s.sample(context.Background(), owners)
	if len(got) != 1 || got[0].TaskArn != "task/a" || got[0].CPUUnits != 768 || got[0].MemoryMiB != 96 {
		t.Fatalf("second sample = %+v, want task/a at 768 units (0.75 CPU) and 96 MiB", got)
	}
	delete(meter, "a2")
	t2 := t1.Add(5 * time.Second)
	meter["a1"] = ContainerUsage{CPUTime: 20 * time.Second, MemoryBytes: 64 << 20, At: t2}
	meter["b1"] = ContainerUsage{CPUTime: 5 * time.Second, MemoryBytes: 8 << 20, At: t2}
	got = s.sample(context.Background(), owners)
	if len(got) != 2 || got[0].CPUUnits+got[1].CPUUnits != 1024+1024 {
		t.Fatalf("third sample = %+v, want a full CPU for each task", got)
	}
	if _, kept := s.prev["a2"]; kept {
		t.Fatal("a container that stopped is forgotten")
	}
}
