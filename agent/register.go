package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// stateFile holds what the agent must remember across restarts.
const stateFile = "berth-agent.json"

// savedState is the agent's memory on disk.
type savedState struct {
	Cluster              string `json:"cluster"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
}

func loadState(dir string) (savedState, error) {
	var s savedState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read agent state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("read agent state %s: %w", filepath.Join(dir, stateFile), err)
	}
	return s, nil
}

func saveState(dir string, s savedState) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save agent state: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, stateFile+".*")
	if err != nil {
		return fmt.Errorf("save agent state: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save agent state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save agent state: %w", err)
	}
	return nil
}

// register registers the host, as the instance it was before a restart if
// the control plane still knows it as active, and remembers the result.
func (a *Agent) register(ctx context.Context) error {
	saved, err := loadState(a.cfg.DataDir)
	if err != nil {
		return err
	}
	in := *a.registration
	if saved.Cluster == a.cfg.Cluster {
		in.ContainerInstanceArn = saved.ContainerInstanceArn
	}
	inst, err := a.registerOnce(ctx, &in)
	if in.ContainerInstanceArn != "" && isGone(err) {
		a.log.Warn("the control plane no longer knows this instance as active; registering a new one",
			"containerInstanceArn", in.ContainerInstanceArn, "error", err)
		in.ContainerInstanceArn = ""
		inst, err = a.registerOnce(ctx, &in)
	}
	if err != nil {
		return err
	}
	a.instanceArn.Store(inst.ContainerInstanceArn)
	a.log.Info("registered container instance", "containerInstanceArn", inst.ContainerInstanceArn, "cluster", a.cfg.Cluster,
		"reregistered", in.ContainerInstanceArn != "")
	return saveState(a.cfg.DataDir, savedState{Cluster: a.cfg.Cluster, ContainerInstanceArn: inst.ContainerInstanceArn})
}

// registerOnce calls RegisterContainerInstance, creating the default
// cluster first if it does not exist (as the ECS agent does).
func (a *Agent) registerOnce(ctx context.Context, in *RegisterInput) (ecs.ContainerInstance, error) {
	inst, err := a.client.Register(ctx, in)
	if ecs.IsCode(err, ecs.ClusterNotFoundException) && in.Cluster == ecs.DefaultCluster {
		if cerr := a.client.CreateCluster(ctx, ecs.DefaultCluster); cerr != nil {
			return inst, fmt.Errorf("create the default cluster: %w", cerr)
		}
		inst, err = a.client.Register(ctx, in)
	}
	if err != nil {
		return inst, fmt.Errorf("register container instance in cluster %s: %w", in.Cluster, err)
	}
	return inst, nil
}

// isGone tells whether a re-registration failed because the instance is
// unknown or deregistered, so that only a fresh registration can succeed.
func isGone(err error) bool {
	return ecs.IsCode(err, ecs.InvalidParameterException) || ecs.IsCode(err, ecs.ClientException)
}

// registerUntilDone retries registration until it succeeds or ctx ends,
// as an agent whose control plane is not up yet must.
func (a *Agent) registerUntilDone(ctx context.Context) error {
	wait := 200 * time.Millisecond
	for {
		err := a.register(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e, ok := ecs.AsError(err); ok && !e.Fault && e.Code != ecs.ThrottlingException {
			return err
		}
		a.log.Warn("registration failed; retrying", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}
