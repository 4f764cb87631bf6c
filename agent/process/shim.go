package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/berth-run/berth/agent"
)

// shimEnv selects shim mode: the driver re-executes its own binary with this
// variable naming the container's directory.
const shimEnv = "BERTH_PROCESS_SHIM_DIR"

// readyFD is the pipe on which a shim tells the driver that the process runs
// (or why it does not).
const readyFD = 3

// RunShimIfRequested turns the current process into a container's shim when
// the process driver started it as one, and then exits; otherwise it returns
// at once. Every program that uses the process driver (the agent's main, and
// the TestMain of any test package that starts process containers) must
// call it first thing, before parsing flags or starting goroutines, because
// the driver runs each container under a copy of its own executable.
func RunShimIfRequested() {
	dir := os.Getenv(shimEnv)
	if dir == "" {
		return
	}
	os.Exit(runShim(dir))
}

type readyMessage struct {
	PID   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
}

// shim supervises one container process: it starts it in its own process
// group, forwards stop requests (SIGTERM, then SIGKILL after the timeout),
// runs health checks, and records everything in the state file, so that the
// container outlives the agent and its exit status is never lost.
type shim struct {
	dir    string
	launch launch

	mu  sync.Mutex
	rec record

	pgid      int
	killTimer *time.Timer
	killAt    time.Time
}

func runShim(dir string) int {
	ready := os.NewFile(readyFD, "ready")
	syscall.CloseOnExec(readyFD)
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		fmt.Fprintln(os.Stderr, "berth shim:", msg)
		if ready != nil {
			_ = json.NewEncoder(ready).Encode(readyMessage{Error: msg})
			ready.Close()
		}
		return 1
	}
	lock, err := acquireLock(dir)
	if err != nil {
		return fail("%v", err)
	}
	// The lock is never closed: it goes with the process, after the shim's
	// last write, which is how the driver knows the record is final.

	s := &shim{dir: dir}
	if err := readJSON(dir, launchFile, &s.launch); err != nil {
		return fail("read launch: %v", err)
	}
	if err := readJSON(dir, stateFile, &s.rec); err != nil {
		return fail("read state: %v", err)
	}
	// Ask for stop signals before the process exists: a stop that arrives
	// while it starts must not kill the shim.
	stops := make(chan os.Signal, 1)
	signal.Notify(stops, syscall.SIGTERM)
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)

	cmd, err := s.start()
	if err != nil {
		s.update(func(r *record) {
			r.Status = agent.StatusExited
			r.Reason = "CannotStartContainerError: " + err.Error()
			r.FinishedAt = time.Now().UTC()
		})
		return fail("%v", err)
	}
	_ = json.NewEncoder(ready).Encode(readyMessage{PID: cmd.Process.Pid})
	ready.Close()

	healthCtx, stopHealth := context.WithCancel(context.Background())
	var health sync.WaitGroup
	if hc := s.launch.HealthCheck; hc != nil {
		health.Go(func() { s.checkHealth(healthCtx, hc) })
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		select {
		case <-stops:
			s.stop()
		case err := <-exited:
			// No health write may follow the exit's.
			stopHealth()
			health.Wait()
			s.finish(cmd, err)
			runtime.KeepAlive(lock)
			return 0
		}
	}
}

// acquireLock takes the container's lock for the shim's lifetime. It retries
// briefly: the driver probes the lock with a shared lock now and then.
func acquireLock(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s (is another shim running?): %w", dir, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *shim) start() (*exec.Cmd, error) {
	l := s.launch
	if len(l.Argv) == 0 {
		return nil, errors.New("nothing to run: entryPoint and command are empty")
	}
	path, err := lookPath(l.Argv[0], l.Env, l.Dir)
	if err != nil {
		return nil, err
	}
	stdout, err := os.OpenFile(filepath.Join(s.dir, StdoutFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stdout log: %w", err)
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(s.dir, StderrFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stderr log: %w", err)
	}
	defer stderr.Close()
	cmd := &exec.Cmd{
		Path: path, Args: l.Argv, Env: l.Env, Dir: l.Dir, Stdout: stdout, Stderr: stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Credential: credential(l)},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", l.Argv[0], err)
	}
	s.pgid = cmd.Process.Pid
	s.update(func(r *record) {
		r.Status = agent.StatusRunning
		r.ShimPID = os.Getpid()
		r.PID = cmd.Process.Pid
		r.StartedAt = time.Now().UTC()
		r.Bindings = l.Bindings
	})
	return cmd, nil
}

func credential(l launch) *syscall.Credential {
	if l.UID == nil || l.GID == nil {
		return nil
	}
	return &syscall.Credential{Uid: *l.UID, Gid: *l.GID}
}

// stop handles a stop request: SIGTERM to the process group now, SIGKILL
// when the request's timeout has passed. A later request may only bring
// the SIGKILL closer.
func (s *shim) stop() {
	timeout := s.launch.DefaultStopTimeout
	var req stopRequest
	if err := readJSON(s.dir, stopFile, &req); err == nil {
		timeout = req.Timeout
	}
	_ = syscall.Kill(-s.pgid, syscall.SIGTERM)
	killAt := time.Now().Add(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.killTimer != nil && !killAt.Before(s.killAt) {
		return
	}
	if s.killTimer != nil {
		s.killTimer.Stop()
	}
	s.killAt = killAt
	pgid := s.pgid
	s.killTimer = time.AfterFunc(max(timeout, 0), func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
}

// finish records the exit. The process group is killed first: like a
// container, a task's process takes its children with it.
func (s *shim) finish(cmd *exec.Cmd, waitErr error) {
	_ = syscall.Kill(-s.pgid, syscall.SIGKILL)
	s.mu.Lock()
	if s.killTimer != nil {
		s.killTimer.Stop()
	}
	s.mu.Unlock()
	code, reason := exitStatus(cmd, waitErr)
	s.update(func(r *record) {
		r.Status = agent.StatusExited
		r.ExitCode = code
		r.Reason = reason
		r.FinishedAt = time.Now().UTC()
	})
}

// exitStatus is the process's exit code; a process killed by signal N
// exits with 128+N, as a shell (and Docker) reports it.
func exitStatus(cmd *exec.Cmd, waitErr error) (*int, string) {
	if cmd.ProcessState == nil {
		return nil, fmt.Sprintf("wait: %v", waitErr)
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		code := cmd.ProcessState.ExitCode()
		return &code, ""
	}
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return &code, ""
}

func (s *shim) update(change func(*record)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.rec)
	if err := writeJSON(s.dir, stateFile, s.rec); err != nil {
		fmt.Fprintln(os.Stderr, "berth shim: write state:", err)
	}
}
