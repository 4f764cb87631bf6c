package process

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/shared/ecs"
	"pgregory.net/rapid"
)

func TestHealthJudgeFollowsDockerRules(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	cases := []struct {
		name        string
		retries     int
		startPeriod time.Duration
		probes      []bool
		when        []int // seconds after start of each probe
		want        []string
	}{
		{
			name: "retries consecutive failures", retries: 3,
			probes: []bool{false, false, false, true, false},
			when:   []int{1, 2, 3, 4, 5},
			want:   []string{"", "", ecs.HealthUnhealthy, ecs.HealthHealthy, ""},
		},
		{
			name: "failures in the start period do not count", retries: 1, startPeriod: 10 * time.Second,
			probes: []bool{false, false, false},
			when:   []int{1, 5, 11},
			want:   []string{"", "", ecs.HealthUnhealthy},
		},
		{
			name: "a success ends the start period", retries: 1, startPeriod: 10 * time.Second,
			probes: []bool{true, false},
			when:   []int{1, 2},
			want:   []string{ecs.HealthHealthy, ecs.HealthUnhealthy},
		},
	}
	for _, c := range cases {
		j := &healthJudge{retries: c.retries, startPeriod: c.startPeriod, started: start}
		var got []string
		for i, ok := range c.probes {
			got = append(got, j.observe(ok, at(c.when[i])))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: statuses %q, want %q", c.name, got, c.want)
		}
	}
}

// Outside any start period, the judge says UNHEALTHY exactly when the last
// `retries` probes all failed and the one before was not already a streak.
func TestHealthJudgeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		retries := rapid.IntRange(1, 10).Draw(t, "retries")
		probes := rapid.SliceOf(rapid.Bool()).Draw(t, "probes")
		j := &healthJudge{retries: retries}
		streak := 0
		for i, ok := range probes {
			got := j.observe(ok, time.Unix(int64(i), 0))
			if ok {
				streak = 0
				if got != ecs.HealthHealthy {
					t.Fatalf("probe %d passed but status %q", i, got)
				}
				continue
			}
			streak++
			if (streak >= retries) != (got == ecs.HealthUnhealthy) {
				t.Fatalf("probe %d: streak %d of %d retries gave %q", i, streak, retries, got)
			}
		}
	})
}

func TestProbeArgv(t *testing.T) {
	cases := []struct {
		command []string
		want    []string
		ok      bool
	}{
		{[]string{"CMD", "/bin/check", "-v"}, []string{"/bin/check", "-v"}, true},
		{[]string{"CMD-SHELL", "curl -f localhost || exit 1"}, []string{"/bin/sh", "-c", "curl -f localhost || exit 1"}, true},
		{[]string{"CMD"}, nil, false},
		{[]string{"NONE", "x"}, nil, false},
		{nil, nil, false},
	}
	for _, c := range cases {
		got, err := probeArgv(c.command)
		if (err == nil) != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("probeArgv(%q) = %q, %v; want %q, ok=%v", c.command, got, err, c.want, c.ok)
		}
	}
}

func TestResolveUser(t *testing.T) {
	uid, gid, err := resolveUser("0")
	if err != nil || uid != 0 || gid != 0 {
		t.Errorf("user 0: %d:%d %v", uid, gid, err)
	}
	uid, gid, err = resolveUser("4242:4343")
	if err != nil || uid != 4242 || gid != 4343 {
		t.Errorf("user 4242:4343: %d:%d %v", uid, gid, err)
	}
	uid, gid, err = resolveUser("4242")
	if err != nil || uid != 4242 || gid != 4242 {
		t.Errorf("numeric user without a passwd entry: %d:%d %v", uid, gid, err)
	}
	if _, _, err := resolveUser("no-such-user-berth"); err == nil {
		t.Error("an unknown user name resolved")
	}
	if _, _, err := resolveUser("0:no-such-group-berth"); err == nil {
		t.Error("an unknown group name resolved")
	}
}

func TestEnvironmentPortsWin(t *testing.T) {
	t.Setenv("PATH", "/agent/bin")
	spec := agent.ContainerSpec{
		Environment: map[string]string{"PORT": "1", "A": "b", "HOME": "/data"},
		GPUIDs:      []string{"GPU-1", "GPU-2"},
	}
	bindings := []ecs.NetworkBinding{{ContainerPort: 80, HostPort: 31000}, {ContainerPort: 443, HostPort: 31001}}
	got := environment(spec, bindings)
	want := []string{
		"A=b", "CUDA_VISIBLE_DEVICES=GPU-1,GPU-2", "HOME=/data", "NVIDIA_VISIBLE_DEVICES=GPU-1,GPU-2",
		"PATH=/agent/bin", "PORT=31000", "PORT_443=31001", "PORT_80=31000",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("environment\n got %q\nwant %q", got, want)
	}
}

func TestHostPorts(t *testing.T) {
	spec := agent.ContainerSpec{PortMappings: []agent.PortMapping{
		{ContainerPort: 80, HostPort: 8081}, {ContainerPort: 53, Protocol: "udp"}, {ContainerPort: 9000},
	}}
	got, err := hostPorts(spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].HostPort != 8081 || got[1].HostPort == 0 || got[1].Protocol != "udp" || got[2].HostPort == 0 || got[2].HostPort == 9000 {
		t.Fatalf("bridge bindings %+v", got)
	}
	spec.NetworkMode = agent.NetworkHost
	got, err = hostPorts(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got[2].HostPort != 9000 {
		t.Fatalf("host mode dynamic mapping got %d, want the container port 9000", got[2].HostPort)
	}
}

func TestChangedFindsNewChangedAndGone(t *testing.T) {
	t0 := time.Unix(1, 0)
	before := map[string]stamp{"same": {mod: t0}, "edited": {mod: t0}, "died": {mod: t0, alive: true}, "gone": {mod: t0}}
	after := map[string]stamp{"same": {mod: t0}, "edited": {mod: t0.Add(1)}, "died": {mod: t0}, "new": {mod: t0}}
	got := map[string]bool{}
	for _, id := range changed(before, after) {
		got[id] = true
	}
	want := map[string]bool{"edited": true, "died": true, "gone": true, "new": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changed %v, want %v", got, want)
	}
}

func TestTaskDirNameStaysInsideTheRoot(t *testing.T) {
	cases := map[string]string{
		"arn:aws:ecs:us-east-1:1:task/c/abc123": "abc123",
		"arn:aws:ecs:us-east-1:1:task/..":       "_",
		"weird id/with space":                   "with_space",
		"":                                      "_",
	}
	for arn, want := range cases {
		if got := taskDirName(arn); got != want {
			t.Errorf("taskDirName(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestLookPathUsesTheContainerPath(t *testing.T) {
	dir := t.TempDir()
	prog := dir + "/tool"
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := lookPath("tool", []string{"PATH=/nowhere:" + dir}, "/")
	if err != nil || got != prog {
		t.Fatalf("lookPath tool = %q, %v; want %s", got, err, prog)
	}
	if _, err := lookPath("tool", []string{"PATH=/nowhere"}, "/"); err == nil {
		t.Fatal("found a program outside the container's PATH")
	}
	got, err = lookPath("./tool", nil, dir)
	if err != nil || got != prog {
		t.Fatalf("lookPath ./tool in %s = %q, %v", dir, got, err)
	}
}
