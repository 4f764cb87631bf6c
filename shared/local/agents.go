package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/docker"
	"github.com/berth-run/berth/agent/process"
	"github.com/berth-run/berth/shared/ecs"
)

// AgentsConfig describes the agents `berth up --agents N` runs inside the
// control plane's process, each as if on its own host.
type AgentsConfig struct {
	// Count is how many agents to run; 0 runs none.
	Count int
	// Driver is process (the default) or docker. With process, the program
	// must call process.RunShimIfRequested first thing in main.
	Driver string
	// Cluster is the cluster they join; default "default" (created if absent).
	Cluster string
	// InstanceType is each agent's ecs.instance-type; default berth.local.
	InstanceType string
	// Zones is how many availability zones the agents are spread over,
	// round-robin: <region>a, <region>b, ...; default 3.
	Zones int
	// CPUUnits and MemoryMiB are each agent's registered CPU and memory;
	// zero shares the machine's equally among the agents.
	CPUUnits  int
	MemoryMiB int
	// Version is the agentVersion they register.
	Version string
	// Tune, when set, adjusts agent i's configuration last (tests use it
	// for short timings).
	Tune func(i int, cfg *agent.Config)
}

// agentsReadyTimeout bounds how long Start waits for the local agents to register.
const agentsReadyTimeout = time.Minute

// Agents are the local agents, in order (agent i is in zone i mod Zones).
func (p *Plane) Agents() []*agent.Agent { return p.agents }

// startAgents starts the configured local agents against the plane's own
// endpoint and waits until each has registered. They stop when the plane
// shuts down (before the API does), leaving their tasks running so that
// the next `berth up` adopts them.
func (p *Plane) startAgents() error {
	ac := p.cfg.Agents
	if ac.Count <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.server.RegisterOnShutdown(cancel)
	ended := make(chan error, ac.Count)
	for i := range ac.Count {
		a, err := p.newLocalAgent(i)
		if err != nil {
			cancel()
			return err
		}
		p.agents = append(p.agents, a)
		p.goRun("agent "+strconv.Itoa(i), func() error {
			err := a.Run(ctx)
			ended <- err
			return err
		})
	}
	return p.awaitAgents(ended)
}

// awaitAgents waits for every local agent to be ready, failing if one ends
// first or they take too long.
func (p *Plane) awaitAgents(ended <-chan error) error {
	timeout := time.After(agentsReadyTimeout)
	for i, a := range p.agents {
		select {
		case <-a.Ready():
		case err := <-ended:
			if err == nil {
				err = errors.New("it stopped")
			}
			return fmt.Errorf("local agent %d is not ready: %w", i, err)
		case <-timeout:
			return fmt.Errorf("local agent %d did not register within %v", i, agentsReadyTimeout)
		}
	}
	return nil
}

func (p *Plane) newLocalAgent(i int) (*agent.Agent, error) {
	cfg, err := p.localAgentConfig(i)
	if err != nil {
		return nil, err
	}
	log := p.log.With("agent", i)
	var driver agent.Driver
	switch cfg.Driver {
	case agent.DriverProcess:
		driver, err = process.New(process.Options{Root: filepath.Join(cfg.DataDir, "process"), Logger: log})
	case agent.DriverDocker:
		driver, err = docker.New(docker.Options{Scope: cfg.DockerScope, Logger: log})
	default:
		err = fmt.Errorf("local agents: driver %q is not one of process, docker", cfg.Driver)
	}
	if err != nil {
		return nil, err
	}
	p.drivers = append(p.drivers, driver)
	return agent.New(cfg, agent.Options{Driver: driver, Logger: log, Version: p.cfg.Agents.Version})
}

// localAgentConfig is agent i's configuration: its own data directory and
// Docker scope, a zone round-robin, its share of the machine, and polls
// short enough that it never looks disconnected.
func (p *Plane) localAgentConfig(i int) (agent.Config, error) {
	ac := p.cfg.Agents
	cfg := agent.DefaultConfig()
	cfg.Endpoint = p.Endpoint()
	cfg.Driver = firstNonEmpty(ac.Driver, agent.DriverProcess)
	cfg.Cluster = firstNonEmpty(ac.Cluster, ecs.DefaultCluster)
	cfg.InstanceType = firstNonEmpty(ac.InstanceType, agent.LocalInstanceType)
	zones := ac.Zones
	if zones <= 0 {
		zones = 3
	}
	cfg.AvailabilityZone = p.cfg.Account.Region + string(rune('a'+i%zones))
	cfg.DisableIMDS = true
	dir, err := filepath.Abs(filepath.Join(p.cfg.DataDir, "agents", strconv.Itoa(i)))
	if err != nil {
		return cfg, fmt.Errorf("local agent %d: %w", i, err)
	}
	cfg.DataDir = dir
	cfg.DockerScope = dockerScope(dir)
	cfg.CPUUnits, cfg.MemoryMiB, err = agentShare(ac)
	if err != nil {
		return cfg, err
	}
	cfg.PollWait = max(time.Second, min(p.cfg.Timings.MaxWait, p.cfg.Timings.DisconnectAfter/3))
	if ac.Tune != nil {
		ac.Tune(i, &cfg)
	}
	return cfg, cfg.Validate()
}

// dockerScope names an agent's containers on a shared engine after its
// data directory, so that it finds them again after a restart and two
// `berth up`s never take each other's.
func dockerScope(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return "berth-up-" + hex.EncodeToString(sum[:6])
}

// agentShare is each agent's CPU and memory: as configured, else the
// machine's divided among the agents.
func agentShare(ac AgentsConfig) (cpu, mem int, err error) {
	cpu, mem = ac.CPUUnits, ac.MemoryMiB
	if cpu == 0 {
		cpu = max(runtime.NumCPU()*1024/ac.Count, 128)
	}
	if mem == 0 {
		f, err := os.Open("/proc/meminfo")
		if err != nil {
			return 0, 0, fmt.Errorf("local agents: measure memory (or set their memory): %w", err)
		}
		defer f.Close()
		total, err := agent.ParseMemTotal(f)
		if err != nil {
			return 0, 0, fmt.Errorf("local agents: %w", err)
		}
		mem = max(total/ac.Count, 128)
	}
	return cpu, mem, nil
}

func firstNonEmpty(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// RemoveAgentContainers removes (killing if need be) every container the
// local agents manage. Shutting down leaves tasks running for the next
// `berth up` to adopt; this is the clean slate instead (tests use it once
// the plane is shut down).
func (p *Plane) RemoveAgentContainers(ctx context.Context) error {
	var errs []error
	for _, d := range p.drivers {
		all, err := d.List(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range all {
			if err := d.Remove(ctx, c.ID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
