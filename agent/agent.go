package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// ErrDeregistered ends Run when the control plane reports the instance
// INACTIVE (deregistered): like the ECS agent, the agent stops and leaves
// its tasks running. A restart registers a new instance.
var ErrDeregistered = errors.New("the container instance was deregistered")

// Options are the agent's parts.
type Options struct {
	// Driver runs the containers. Required.
	Driver Driver
	// Client talks to the control plane; nil means NewClient(cfg.Endpoint, ClientOptions{}).
	Client *Client
	// Host describes the machine; nil means LocalHost(ctx, cfg) at Run.
	Host *Host
	// Logger receives the agent's logs; nil means slog.Default().
	Logger *slog.Logger
	// Version is the agentVersion registered; empty means the build's
	// module version.
	Version string
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
}

// Agent is one host's agent: it registers the host, long-polls its desired
// tasks (the poll is the heartbeat), and runs one runner per task that
// converges the task's containers to what is desired and reports each
// change. It is level-triggered: polls, driver events and a periodic resync
// only wake runners, which recompute from what they observe.
type Agent struct {
	cfg    Config
	driver Driver
	client *Client
	host   *Host
	log    *slog.Logger
	now    func() time.Time
	ver    string

	registration *RegisterInput
	instanceArn  atomic.Value // string
	ready        chan struct{}

	ownersMu sync.Mutex
	owners   map[string]string // container id → task ARN

	// Owned by the loop goroutine.
	runners     map[string]*runner
	lastDesired *PollOutput
	exited      chan *runner
	runnerWG    sync.WaitGroup
}

// New checks the configuration and assembles an agent; Run starts it.
func New(cfg Config, opts Options) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	if opts.Driver == nil {
		return nil, errors.New("agent: a driver is required")
	}
	a := &Agent{
		cfg: cfg, driver: opts.Driver, client: opts.Client, host: opts.Host, log: opts.Logger, now: opts.Now, ver: opts.Version,
		ready: make(chan struct{}), owners: map[string]string{}, runners: map[string]*runner{}, exited: make(chan *runner, 16),
	}
	if a.client == nil {
		a.client = NewClient(cfg.Endpoint, ClientOptions{})
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.ver == "" {
		a.ver = buildVersion()
	}
	a.instanceArn.Store("")
	return a, nil
}

func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// Ready is closed once the host is registered and the first desired state
// has been taken up.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// ContainerInstanceArn is the instance's ARN once registered.
func (a *Agent) ContainerInstanceArn() string { return a.instanceArn.Load().(string) }

// Config is the agent's configuration.
func (a *Agent) Config() Config { return a.cfg }

// Run registers the host and runs its tasks until ctx ends, then returns
// nil, leaving the tasks running for the next agent to adopt. It returns an
// error if registration is refused or the instance is deregistered.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.prepare(ctx); err != nil {
		return err
	}
	if err := a.registerUntilDone(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// Whatever ends the loop (ctx, or the instance being deregistered)
	// ends the runners and reporters too; they leave the tasks running.
	loopCtx, cancel := context.WithCancel(ctx)
	err := a.loop(loopCtx)
	cancel()
	a.runnerWG.Wait()
	return err
}

// prepare measures the host and builds the registration.
func (a *Agent) prepare(ctx context.Context) error {
	if a.host == nil {
		h, err := LocalHost(ctx, a.cfg)
		if err != nil {
			return err
		}
		a.host = &h
	}
	info, err := a.driver.Info(ctx)
	if err != nil {
		return fmt.Errorf("agent: %s driver: %w", a.driver.Name(), err)
	}
	a.registration = Registration(a.cfg, *a.host, info, a.ver)
	return nil
}

// loop adopts what runs, then follows the desired state, the driver's
// events and the resync ticker until ctx ends.
func (a *Agent) loop(ctx context.Context) error {
	events := a.driver.Events(ctx)
	found, err := a.listByTask(ctx)
	if err != nil {
		return err
	}
	first, err := a.firstPoll(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a.applyDesired(ctx, first, found)
	close(a.ready)
	a.startUsageReports(ctx)

	polls := make(chan *PollOutput, 1)
	pollErr := make(chan error, 1)
	go func() { pollErr <- a.pollLoop(ctx, first.Digest, polls) }()
	resync := time.NewTicker(a.cfg.ResyncEvery)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-pollErr:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case out := <-polls:
			a.applyDesired(ctx, out, nil)
		case id, ok := <-events:
			if !ok {
				events = nil // the driver stopped reporting; resyncs carry on
				continue
			}
			a.routeEvent(ctx, id)
		case r := <-a.exited:
			a.runnerExited(ctx, r)
		case <-resync.C:
			a.resync(ctx)
		}
	}
}

// listByTask groups the driver's containers by task ARN.
func (a *Agent) listByTask(ctx context.Context) (map[string][]ContainerState, error) {
	all, err := a.driver.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("agent: list containers: %w", err)
	}
	return GroupByTask(all), nil
}

// GroupByTask groups containers by their task ARN, skipping unlabelled ones.
func GroupByTask(cs []ContainerState) map[string][]ContainerState {
	out := map[string][]ContainerState{}
	for _, c := range cs {
		if c.TaskARN != "" {
			out[c.TaskARN] = append(out[c.TaskARN], c)
		}
	}
	return out
}

// applyDesired hands each desired task to its runner, starting runners for
// new tasks and for containers found on the host (found, at start), and
// tells runners whose task is no longer desired.
func (a *Agent) applyDesired(ctx context.Context, out *PollOutput, found map[string][]ContainerState) {
	a.lastDesired = out
	d := Diff(out, keys(a.runners), found)
	for _, t := range d.Update {
		a.runners[t.TaskArn].setDesired(t, out.TaskDefinitions[t.TaskDefinitionArn])
	}
	for _, t := range d.Start {
		td := out.TaskDefinitions[t.TaskDefinitionArn]
		a.startRunner(ctx, t.TaskArn, &t, &td, found[t.TaskArn])
	}
	for _, arn := range d.Orphans {
		a.startRunner(ctx, arn, nil, nil, found[arn])
	}
	for _, arn := range d.Absent {
		a.runners[arn].setAbsent()
	}
}

// TaskDiff is how the desired tasks differ from the runners the agent has.
type TaskDiff struct {
	// Update are desired tasks that have a runner; Start those that need one.
	Update, Start []AgentTask
	// Orphans are task ARNs with containers on the host but neither a
	// runner nor a place in the desired state: they must be stopped and
	// removed.
	Orphans []string
	// Absent are runners' tasks no longer desired.
	Absent []string
}

// Diff compares the desired state with the tasks that have runners and the
// containers found on the host.
func Diff(desired *PollOutput, running map[string]bool, found map[string][]ContainerState) TaskDiff {
	var d TaskDiff
	want := map[string]bool{}
	for _, t := range desired.Tasks {
		want[t.TaskArn] = true
		if running[t.TaskArn] {
			d.Update = append(d.Update, t)
		} else {
			d.Start = append(d.Start, t)
		}
	}
	for _, arn := range sortedKeys(found) {
		if !want[arn] && !running[arn] {
			d.Orphans = append(d.Orphans, arn)
		}
	}
	for _, arn := range sortedKeys(running) {
		if !want[arn] {
			d.Absent = append(d.Absent, arn)
		}
	}
	return d
}

func (a *Agent) startRunner(ctx context.Context, arn string, t *AgentTask, td *ecs.TaskDefinition, existing []ContainerState) {
	r := newRunner(a, arn, t, td, existing)
	a.runners[arn] = r
	a.runnerWG.Add(1)
	go func() {
		defer a.runnerWG.Done()
		r.run(ctx)
		select {
		case a.exited <- r:
		case <-ctx.Done():
		}
	}()
}

// runnerExited forgets a runner that finished; if its task is desired
// again meanwhile, a new runner takes it up.
func (a *Agent) runnerExited(ctx context.Context, r *runner) {
	if a.runners[r.arn] != r {
		return
	}
	delete(a.runners, r.arn)
	if a.lastDesired == nil {
		return
	}
	for _, t := range a.lastDesired.Tasks {
		if t.TaskArn == r.arn {
			td := a.lastDesired.TaskDefinitions[t.TaskDefinitionArn]
			a.startRunner(ctx, t.TaskArn, &t, &td, nil)
			return
		}
	}
}

// routeEvent wakes the runner of the container an event is about; a
// container of a task without runner gets one (as an orphan, unless desired).
func (a *Agent) routeEvent(ctx context.Context, id string) {
	arn := a.ownerOf(id)
	if arn == "" {
		st, err := a.driver.Inspect(ctx, id)
		if err != nil || st.TaskARN == "" {
			return
		}
		arn = st.TaskARN
	}
	if r := a.runners[arn]; r != nil {
		r.poke()
		return
	}
	found, err := a.listByTask(ctx)
	if err != nil {
		a.log.Warn("list containers", "error", err)
		return
	}
	a.adoptStray(ctx, arn, found[arn])
}

// adoptStray starts a runner for a task found on the host without one.
func (a *Agent) adoptStray(ctx context.Context, arn string, containers []ContainerState) {
	if len(containers) == 0 {
		return
	}
	for _, t := range a.lastDesired.Tasks {
		if t.TaskArn == arn {
			td := a.lastDesired.TaskDefinitions[t.TaskDefinitionArn]
			a.startRunner(ctx, arn, &t, &td, containers)
			return
		}
	}
	a.startRunner(ctx, arn, nil, nil, containers)
}

// resync wakes every runner and takes up containers no runner owns, in
// case an event was lost.
func (a *Agent) resync(ctx context.Context) {
	for _, r := range a.runners {
		r.poke()
	}
	found, err := a.listByTask(ctx)
	if err != nil {
		a.log.Warn("resync: list containers", "error", err)
		return
	}
	for _, arn := range sortedKeys(found) {
		if a.runners[arn] == nil {
			a.adoptStray(ctx, arn, found[arn])
		}
	}
}

func (a *Agent) own(id, arn string) {
	a.ownersMu.Lock()
	a.owners[id] = arn
	a.ownersMu.Unlock()
}

func (a *Agent) disown(id string) {
	a.ownersMu.Lock()
	delete(a.owners, id)
	a.ownersMu.Unlock()
}

func (a *Agent) ownerOf(id string) string {
	a.ownersMu.Lock()
	defer a.ownersMu.Unlock()
	return a.owners[id]
}

func keys[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
