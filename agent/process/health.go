package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/shared/ecs"
)

// Health-check defaults for values left at zero (ECS's).
const (
	defaultHealthInterval = time.Duration(ecs.DefaultHealthInterval) * time.Second
	defaultHealthTimeout  = time.Duration(ecs.DefaultHealthTimeout) * time.Second
	defaultHealthRetries  = ecs.DefaultHealthRetries
)

// healthJudge turns probe results into a health status as Docker does:
// UNHEALTHY after Retries consecutive failures, HEALTHY on any success;
// failures inside the start period do not count until a probe has passed.
type healthJudge struct {
	retries     int
	startPeriod time.Duration
	started     time.Time

	failures  int
	succeeded bool
}

func (j *healthJudge) observe(ok bool, at time.Time) string {
	if ok {
		j.failures = 0
		j.succeeded = true
		return ecs.HealthHealthy
	}
	if !j.succeeded && at.Sub(j.started) < j.startPeriod {
		return ""
	}
	j.failures++
	if j.failures >= j.retries {
		return ecs.HealthUnhealthy
	}
	return ""
}

// checkHealth probes every interval (the first probe one interval after the
// start) until ctx is done, recording each change of status.
func (s *shim) checkHealth(ctx context.Context, hc *agent.HealthCheck) {
	interval, timeout, retries := hc.Interval, hc.Timeout, hc.Retries
	if interval <= 0 {
		interval = defaultHealthInterval
	}
	if timeout <= 0 {
		timeout = defaultHealthTimeout
	}
	if retries <= 0 {
		retries = defaultHealthRetries
	}
	judge := &healthJudge{retries: retries, startPeriod: hc.StartPeriod, started: time.Now()}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	current := ecs.HealthUnknown
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		err := probe(ctx, hc.Command, s.launch, timeout)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "berth shim: health check failed:", err)
		}
		status := judge.observe(err == nil, time.Now())
		if status == "" || status == current {
			continue
		}
		current = status
		s.update(func(r *record) {
			if r.Status == agent.StatusRunning {
				r.Health = status
			}
		})
	}
}

// probe runs one check: "CMD" runs the argv that follows, "CMD-SHELL" its
// one argument with /bin/sh -c, both with the container's environment,
// directory and user. The probe and its children are killed at the timeout.
func probe(ctx context.Context, command []string, l launch, timeout time.Duration) error {
	argv, err := probeArgv(command)
	if err != nil {
		return err
	}
	path, err := lookPath(argv[0], l.Env, l.Dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := &exec.Cmd{
		Path: path, Args: argv, Env: l.Env, Dir: l.Dir,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Credential: credential(l)},
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start health check: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		return err
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("health check timed out after %s", timeout)
		}
		return ctx.Err()
	}
}

func probeArgv(command []string) ([]string, error) {
	if len(command) < 2 {
		return nil, fmt.Errorf("health check command %q: needs CMD or CMD-SHELL and a command", command)
	}
	switch command[0] {
	case "CMD":
		return command[1:], nil
	case "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(command[1:], " ")}, nil
	default:
		return nil, fmt.Errorf("health check command %q: must start with CMD or CMD-SHELL", command)
	}
}

// lookPath finds a program as the container would: a name without a slash
// is searched in the container's PATH, a relative path is taken from its
// working directory.
func lookPath(name string, env []string, dir string) (string, error) {
	if strings.Contains(name, "/") {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		if err := executable(name); err != nil {
			return "", err
		}
		return name, nil
	}
	for _, p := range filepath.SplitList(envValue(env, "PATH")) {
		if p == "" {
			p = "."
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		candidate := filepath.Join(p, name)
		if executable(candidate) == nil {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in $PATH", name)
}

func executable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s: %w", path, errors.New("not an executable file"))
	}
	return nil
}

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}
