package process

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/shared/ecs"
)

// DefaultStopTimeout is the grace period of a stop that names none (ECS's).
const DefaultStopTimeout = 30 * time.Second

// pollInterval is how often Events looks for changes it was not told about
// (exits and health changes of containers adopted after a restart).
const pollInterval = 200 * time.Millisecond

// Options configure a Driver.
type Options struct {
	// Root is the directory holding the containers' state (the agent's
	// data directory, ECS_DATADIR, or a directory inside it). Required.
	Root string
	// Logger receives the driver's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Driver runs each container's entryPoint+command as a host process under
// a shim (see RunShimIfRequested), like Nomad's raw_exec: no isolation, no
// image, no cpu or memory enforcement. Ports are the host's: hostPort 0
// means a free ephemeral port picked at start, and the process learns its
// ports from PORT (the first mapping's host port) and PORT_<containerPort>.
type Driver struct {
	tasks string // <Root>/tasks
	log   *slog.Logger

	mu       sync.Mutex
	wake     chan struct{}            // closed (and replaced) to wake Events
	children map[string]chan struct{} // shims this driver started, closed when reaped
}

var _ agent.Driver = (*Driver)(nil)

// New makes a Driver keeping its state under opts.Root.
func New(opts Options) (*Driver, error) {
	if opts.Root == "" {
		return nil, errors.New("process driver: a state root directory is required")
	}
	tasks := filepath.Join(opts.Root, "tasks")
	if err := os.MkdirAll(tasks, 0o755); err != nil {
		return nil, fmt.Errorf("process driver: %w", err)
	}
	d := &Driver{tasks: tasks, log: opts.Logger, wake: make(chan struct{}), children: map[string]chan struct{}{}}
	if d.log == nil {
		d.log = slog.Default()
	}
	return d, nil
}

// Name is "process".
func (d *Driver) Name() string { return "process" }

// Info reports the driver and the Go runtime it was built with.
func (d *Driver) Info(context.Context) (agent.RuntimeInfo, error) {
	return agent.RuntimeInfo{Driver: d.Name(), Version: runtime.Version()}, nil
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

var unsafePathChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// taskDirName is the task's directory: the task ID (the ARN's last part).
func taskDirName(taskARN string) string {
	id := taskARN[strings.LastIndexByte(taskARN, '/')+1:]
	id = unsafePathChars.ReplaceAllString(id, "_")
	if id == "" || id == "." || id == ".." {
		id = "_"
	}
	return id
}

// Create checks the spec and records the container; nothing runs yet.
// Errors start with ECS's reason name CannotCreateContainerError.
func (d *Driver) Create(_ context.Context, spec agent.ContainerSpec) (string, error) {
	if err := validate(spec); err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %s/%s: %w", spec.TaskARN, spec.ContainerName, err)
	}
	id := newID()
	dir := filepath.Join(d.tasks, taskDirName(spec.TaskARN), id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	rec := record{
		ID: id, TaskARN: spec.TaskARN, ContainerName: spec.ContainerName,
		Status: agent.StatusCreated, Health: ecs.HealthUnknown,
	}
	if err := writeJSON(dir, specFile, spec); err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	if err := writeJSON(dir, stateFile, rec); err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %w", err)
	}
	d.wakeEvents()
	return id, nil
}

func validate(spec agent.ContainerSpec) error {
	if spec.TaskARN == "" || spec.ContainerName == "" {
		return errors.New("a task ARN and a container name are required")
	}
	if len(spec.EntryPoint)+len(spec.Command) == 0 {
		return errors.New("the process driver runs entryPoint+command, and both are empty")
	}
	switch spec.NetworkMode {
	case "", agent.NetworkBridge, agent.NetworkHost:
	case agent.NetworkNone:
		if len(spec.PortMappings) > 0 {
			return errors.New("portMappings: network mode none cannot map ports")
		}
	default:
		return fmt.Errorf("network mode %q: the process driver supports bridge, host and none", spec.NetworkMode)
	}
	for i, m := range spec.PortMappings {
		if m.ContainerPort < 1 || m.ContainerPort > 65535 {
			return fmt.Errorf("portMappings[%d].containerPort %d: must be 1-65535", i, m.ContainerPort)
		}
		if m.HostPort < 0 || m.HostPort > 65535 {
			return fmt.Errorf("portMappings[%d].hostPort %d: must be 0-65535", i, m.HostPort)
		}
		if p := m.ProtocolOrDefault(); p != "tcp" && p != "udp" {
			return fmt.Errorf("portMappings[%d].protocol %q: must be tcp or udp", i, p)
		}
	}
	if spec.User != "" {
		if _, _, err := resolveUser(spec.User); err != nil {
			return err
		}
	}
	return nil
}

// dirOf finds a container's directory; ids are checked so that no id can
// name a path outside the state root.
func (d *Driver) dirOf(id string) (string, error) {
	if !idPattern.MatchString(id) {
		return "", fmt.Errorf("container %q: %w", id, agent.ErrNotFound)
	}
	matches, err := filepath.Glob(filepath.Join(d.tasks, "*", id))
	if err != nil {
		return "", err
	}
	if len(matches) == 0 {
		return "", fmt.Errorf("container %s: %w", id, agent.ErrNotFound)
	}
	return matches[0], nil
}

// LogFiles returns the paths of a container's stdout and stderr logs.
func (d *Driver) LogFiles(id string) (stdout, stderr string, err error) {
	dir, err := d.dirOf(id)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(dir, StdoutFile), filepath.Join(dir, StderrFile), nil
}

// Start resolves ports, environment and user, starts the container's shim
// and returns once the shim has started the process (or failed to).
func (d *Driver) Start(ctx context.Context, id string) error {
	dir, err := d.dirOf(id)
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	var rec record
	if err := readJSON(dir, stateFile, &rec); err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	if rec.Status != agent.StatusCreated {
		return fmt.Errorf("start container %s: it is %s, not created", id, rec.Status)
	}
	var spec agent.ContainerSpec
	if err := readJSON(dir, specFile, &spec); err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	l, err := prepareLaunch(spec, dir)
	if err != nil {
		return fmt.Errorf("CannotStartContainerError: %s: %w", id, err)
	}
	if err := writeJSON(dir, launchFile, l); err != nil {
		return fmt.Errorf("CannotStartContainerError: %s: %w", id, err)
	}
	if err := d.spawnShim(ctx, id, dir); err != nil {
		return fmt.Errorf("CannotStartContainerError: %s: %w", id, err)
	}
	d.wakeEvents()
	return nil
}

// spawnShim starts this binary in shim mode, in its own session so that it
// outlives the agent, and waits for its word that the process runs.
func (d *Driver) spawnShim(ctx context.Context, id, dir string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable for the shim: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, shimLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), shimEnv+"="+dir)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{readyW} // fd 3 == readyFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("start shim: %w", err)
	}
	d.reap(id, cmd)

	msg := make(chan readyMessage, 1)
	go func() {
		var m readyMessage
		if err := json.NewDecoder(readyR).Decode(&m); err != nil {
			m.Error = "the shim exited before starting the process (see " + filepath.Join(dir, shimLog) + ")"
			if !errors.Is(err, io.EOF) {
				m.Error += ": " + err.Error()
			}
		}
		msg <- m
	}()
	select {
	case m := <-msg:
		if m.Error != "" {
			return errors.New(m.Error)
		}
		return nil
	case <-ctx.Done():
		// The shim goes on; Inspect will tell whether the process runs.
		return fmt.Errorf("waiting for the shim: %w", ctx.Err())
	}
}

// reap waits for a shim this driver started, so that it leaves no zombie,
// and wakes Events at once when it exits.
func (d *Driver) reap(id string, cmd *exec.Cmd) {
	done := make(chan struct{})
	d.mu.Lock()
	d.children[id] = done
	d.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(done)
		d.mu.Lock()
		delete(d.children, id)
		d.mu.Unlock()
		d.wakeEvents()
	}()
}

// Stop asks the container's shim to stop the process: SIGTERM to its
// process group, SIGKILL after timeout. It returns once the process exited.
func (d *Driver) Stop(ctx context.Context, id string, timeout time.Duration) error {
	dir, err := d.dirOf(id)
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	var rec record
	if err := readJSON(dir, stateFile, &rec); err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	if rec.Status != agent.StatusRunning {
		return nil
	}
	alive, err := shimAlive(dir)
	if err != nil || !alive {
		return err
	}
	if err := writeJSON(dir, stopFile, stopRequest{Timeout: max(timeout, 0)}); err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	if err := syscall.Kill(rec.ShimPID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop container %s: signal shim %d: %w", id, rec.ShimPID, err)
	}
	if err := d.waitShimGone(ctx, id, dir); err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	return nil
}

// waitShimGone waits until the container's shim has exited (it records the
// exit before it goes).
func (d *Driver) waitShimGone(ctx context.Context, id, dir string) error {
	d.mu.Lock()
	reaped := d.children[id]
	d.mu.Unlock()
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		alive, err := shimAlive(dir)
		if err != nil {
			return err
		}
		if !alive {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-reaped: // nil for an adopted shim: never ready
		case <-ticker.C:
		}
	}
}

// ReasonShimLost explains a container whose shim vanished without recording
// an exit (killed, or the host rebooted): its exit status is unknown.
const ReasonShimLost = "the process supervisor (shim) exited without recording the process's exit; exit status unknown"

// Inspect reads a container's record and checks that a running one still
// has its shim.
func (d *Driver) Inspect(_ context.Context, id string) (agent.ContainerState, error) {
	dir, err := d.dirOf(id)
	if err != nil {
		return agent.ContainerState{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	st, err := inspectDir(dir)
	if err != nil {
		return agent.ContainerState{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	return st, nil
}

func inspectDir(dir string) (agent.ContainerState, error) {
	var rec record
	if err := readJSON(dir, stateFile, &rec); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return agent.ContainerState{}, agent.ErrNotFound
		}
		return agent.ContainerState{}, err
	}
	if rec.Status != agent.StatusRunning {
		return rec.state(), nil
	}
	alive, err := shimAlive(dir)
	if err != nil || alive {
		return rec.state(), err
	}
	// The shim may have recorded the exit just before it went.
	if err := readJSON(dir, stateFile, &rec); err != nil {
		return agent.ContainerState{}, err
	}
	if rec.Status == agent.StatusRunning {
		rec.Status = agent.StatusExited
		rec.Reason = ReasonShimLost
	}
	return rec.state(), nil
}

// List reads every container under the state root.
func (d *Driver) List(context.Context) ([]agent.ContainerState, error) {
	dirs, err := d.containerDirs()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]agent.ContainerState, 0, len(dirs))
	for _, dir := range dirs {
		st, err := inspectDir(dir)
		if errors.Is(err, agent.ErrNotFound) {
			continue // removed, or being created
		}
		if err != nil {
			return nil, fmt.Errorf("list containers: %w", err)
		}
		out = append(out, st)
	}
	return out, nil
}

func (d *Driver) containerDirs() ([]string, error) {
	all, err := filepath.Glob(filepath.Join(d.tasks, "*", "*"))
	if err != nil {
		return nil, err
	}
	dirs := all[:0]
	for _, dir := range all {
		if idPattern.MatchString(filepath.Base(dir)) {
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	return dirs, nil
}

// Remove kills a running container at once and deletes its directory (logs
// included), and the task's directory once it is empty.
func (d *Driver) Remove(ctx context.Context, id string) error {
	dir, err := d.dirOf(id)
	if errors.Is(err, agent.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	if err := d.Stop(ctx, id, 0); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	_ = os.Remove(filepath.Dir(dir)) // fails while other containers of the task remain
	d.wakeEvents()
	return nil
}

func (d *Driver) wakeEvents() {
	d.mu.Lock()
	close(d.wake)
	d.wake = make(chan struct{})
	d.mu.Unlock()
}

func (d *Driver) wakeChan() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wake
}

var _ agent.UsageMeter = (*Driver)(nil)

// Usage measures a running container's process from procfs.
func (d *Driver) Usage(_ context.Context, id string) (agent.ContainerUsage, error) {
	dir, err := d.dirOf(id)
	if err != nil {
		return agent.ContainerUsage{}, fmt.Errorf("measure container %s: %w", id, err)
	}
	var rec record
	if err := readJSON(dir, stateFile, &rec); err != nil {
		return agent.ContainerUsage{}, fmt.Errorf("measure container %s: %w", id, err)
	}
	if rec.Status != agent.StatusRunning || rec.PID <= 0 {
		return agent.ContainerUsage{}, fmt.Errorf("measure container %s: %w", id, agent.ErrNotRunning)
	}
	return agent.ProcessUsage("/proc", rec.PID, time.Now())
}
