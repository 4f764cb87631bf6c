package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/shared/ecs"
)

// Files of a container's directory, <root>/tasks/<task id>/<container id>/.
const (
	specFile   = "spec.json"   // the ContainerSpec, written by Create
	launchFile = "launch.json" // what the shim runs, written by Start
	stateFile  = "state.json"  // the record: by Create, then only by the shim
	stopFile   = "stop.json"   // a stop request, written by Stop
	lockFile   = "shim.lock"   // held (flock) by the live shim
	shimLog    = "shim.log"    // the shim's own output
	// StdoutFile and StderrFile hold the container's output.
	StdoutFile = "stdout.log"
	StderrFile = "stderr.log"
)

// record is a container's state on disk. After Start, only the container's
// shim writes it, so it survives the agent and tells the truth about exits.
type record struct {
	ID            string               `json:"id"`
	TaskARN       string               `json:"taskArn"`
	ContainerName string               `json:"containerName"`
	Status        string               `json:"status"`
	ShimPID       int                  `json:"shimPid,omitempty"`
	PID           int                  `json:"pid,omitempty"`
	ExitCode      *int                 `json:"exitCode,omitempty"`
	Reason        string               `json:"reason,omitempty"`
	Health        string               `json:"health"`
	Bindings      []ecs.NetworkBinding `json:"networkBindings,omitempty"`
	StartedAt     time.Time            `json:"startedAt,omitzero"`
	FinishedAt    time.Time            `json:"finishedAt,omitzero"`
}

func (r record) state() agent.ContainerState {
	st := agent.ContainerState{
		ID:            r.ID,
		TaskARN:       r.TaskARN,
		ContainerName: r.ContainerName,
		Status:        r.Status,
		ExitCode:      r.ExitCode,
		Reason:        r.Reason,
		HealthStatus:  r.Health,
		StartedAt:     r.StartedAt,
		FinishedAt:    r.FinishedAt,
	}
	if r.Status == agent.StatusRunning {
		st.NetworkBindings = append([]ecs.NetworkBinding(nil), r.Bindings...)
	}
	return st
}

// launch is what the shim runs: everything resolved by Start.
type launch struct {
	Argv        []string           `json:"argv"`
	Env         []string           `json:"env"`
	Dir         string             `json:"dir"`
	UID         *uint32            `json:"uid,omitempty"`
	GID         *uint32            `json:"gid,omitempty"`
	HealthCheck *agent.HealthCheck `json:"healthCheck,omitempty"`
	// DefaultStopTimeout applies when a stop request names no timeout.
	DefaultStopTimeout time.Duration        `json:"defaultStopTimeout"`
	Bindings           []ecs.NetworkBinding `json:"networkBindings,omitempty"`
}

type stopRequest struct {
	Timeout time.Duration `json:"timeout"`
}

func writeJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	// Write and rename, so that a reader never sees half a file.
	tmp, err := os.CreateTemp(dir, name+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

func readJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// shimAlive tells whether a shim holds the container's lock. A lock dies
// with its process, so this cannot be fooled by a reused PID.
func shimAlive(dir string) (bool, error) {
	f, err := os.Open(filepath.Join(dir, lockFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe shim lock: %w", err)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, nil
}
