package local

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
)

// Errors the in-process bus returns besides bus.ErrClosed; test with errors.Is.
var (
	// ErrQueueFull is returned by a Put made from inside a handler when a
	// target's queue is full: waiting there could deadlock the handler's
	// own worker, so the handler fails and its batch is retried instead.
	ErrQueueFull = errors.New("target queue full")
	// ErrRuleExists is returned when a rule or schedule name is taken.
	ErrRuleExists = errors.New("rule already exists")
	// ErrUnknownRule is returned for a rule or schedule name that is not installed.
	ErrUnknownRule = errors.New("no such rule")
	// ErrUnknownTarget is returned for a rule whose target nobody subscribed.
	ErrUnknownTarget = errors.New("no subscriber for target")
)

// Options configure a Bus; the zero value of each field picks its default.
type Options struct {
	// Account places scheduled events (envelope and rule ARNs); default
	// us-east-1 / 000000000000, the account of `berth up`.
	Account ecs.Account
	// NewID makes the IDs of scheduled events; default bus.RandomIDs().
	NewID func() string
	// Logger receives delivery failures; default slog.Default().
	Logger *slog.Logger
	// QueueSize bounds each target's queue (default 1024). A Put waits
	// while a queue it must reach is full.
	QueueSize int
	// MaxBatch caps the events handed to a handler at once (default 100).
	MaxBatch int
	// MaxAttempts is how often a batch is tried before it is dropped and
	// logged (default 5). Dropping is safe: the monitor's tick re-drives
	// anything an event missed.
	MaxAttempts int
	// Backoff is the wait before retry number attempt (1, 2, ...); default
	// 200ms doubling up to 10s.
	Backoff func(attempt int) time.Duration
	// Ticker starts a ticker for a schedule; default time.NewTicker. Tests
	// inject one they drive.
	Ticker func(every time.Duration) (ticks <-chan time.Time, stop func())
}

func (o Options) withDefaults() Options {
	if o.Account == (ecs.Account{}) {
		o.Account = ecs.Account{Region: "us-east-1", ID: "000000000000"}
	}
	if o.NewID == nil {
		o.NewID = bus.RandomIDs()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Backoff == nil {
		o.Backoff = exponentialBackoff
	}
	if o.Ticker == nil {
		o.Ticker = func(every time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(every)
			return t.C, t.Stop
		}
	}
	return o
}

func exponentialBackoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << min(attempt-1, 6)
	return min(d, 10*time.Second)
}

// Bus is the in-process event bus.
type Bus struct {
	opts    Options
	factory bus.Factory
	log     *slog.Logger

	mu        sync.Mutex // guards the fields below and every rule change
	closed    bool
	targets   map[string]*target
	rules     map[string]installedRule
	schedules map[string]bus.Schedule
	matcher   *matcher
	routes    atomic.Pointer[routes]

	// ctx is the context deliveries run in; cancel ends it when Close's
	// deadline passes.
	ctx       context.Context
	cancel    context.CancelFunc
	puts      sync.WaitGroup // Puts and Fires in progress
	tickers   sync.WaitGroup // schedule goroutines
	workers   sync.WaitGroup // target workers
	stopTicks chan struct{}  // closed when Close begins
	draining  chan struct{}  // closed when workers may exit once their queue is empty
	closeDone chan struct{}  // closed when the first Close has finished
	closeErr  error
}

var _ bus.Bus = (*Bus)(nil)

type installedRule struct {
	rule    bus.Rule
	pattern bus.Pattern
}

// routes is an immutable snapshot of which target each rule feeds.
type routes struct {
	matcher *matcher
	targets map[string]*target // rule name → target
}

// New makes a bus with no targets and no rules.
func New(opts Options) (*Bus, error) {
	opts = opts.withDefaults()
	m, err := newMatcher()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bus{
		opts:      opts,
		factory:   bus.Factory{Account: opts.Account, NewID: opts.NewID},
		log:       opts.Logger.With("component", "bus"),
		targets:   map[string]*target{},
		rules:     map[string]installedRule{},
		schedules: map[string]bus.Schedule{},
		matcher:   m,
		ctx:       ctx,
		cancel:    cancel,
		stopTicks: make(chan struct{}),
		draining:  make(chan struct{}),
		closeDone: make(chan struct{}),
	}
	b.routes.Store(&routes{matcher: m, targets: map[string]*target{}})
	return b, nil
}

// Subscribe makes h the handler of the target name and starts its worker. A target
// has one handler; rules and schedules name it to reach h.
func (b *Bus) Subscribe(name string, h bus.Handler) error {
	if name == "" || h == nil {
		return fmt.Errorf("subscribe: target name and handler are required")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return bus.ErrClosed
	}
	if _, taken := b.targets[name]; taken {
		return fmt.Errorf("subscribe %q: the target already has a handler", name)
	}
	t := &target{name: name, handle: h, queue: make(chan bus.Event, b.opts.QueueSize)}
	b.targets[name] = t
	b.workers.Add(1)
	go b.work(t)
	return nil
}

// AddRule installs r: from now on Put delivers the events r.Pattern
// matches to r.Target, which must be subscribed. The pattern must be valid
// for EventBridge (bus.ErrInvalidPattern otherwise) and within what quamina
// evaluates (ErrUnsupportedPattern otherwise, naming the construct).
func (b *Bus) AddRule(r bus.Rule) error {
	if err := bus.ValidateRule(r); err != nil {
		return fmt.Errorf("add rule: %w", err)
	}
	p, err := bus.ParsePattern(r.Pattern)
	if err != nil {
		return fmt.Errorf("add rule %q: %w", r.Name, err)
	}
	if err := checkSupported(p); err != nil {
		return fmt.Errorf("add rule %q: %w", r.Name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkNewRule(r.Name, r.Target); err != nil {
		return err
	}
	if err := b.matcher.add(r.Name, p); err != nil {
		return fmt.Errorf("add rule %q: %w", r.Name, err)
	}
	b.rules[r.Name] = installedRule{rule: r, pattern: p}
	b.publishRoutes()
	return nil
}

// AddRuleJSON installs a user's rule given its pattern as JSON text.
func (b *Bus) AddRuleJSON(name, target, pattern string) error {
	return b.AddRule(bus.Rule{Name: name, Target: target, Pattern: json.RawMessage(pattern)})
}

// RemoveRule uninstalls the named rule; events already queued are still
// delivered.
func (b *Bus) RemoveRule(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.rules[name]; !ok {
		return fmt.Errorf("remove rule %q: %w", name, ErrUnknownRule)
	}
	m, err := newMatcher()
	if err != nil {
		return fmt.Errorf("remove rule %q: %w", name, err)
	}
	for _, other := range slices.Sorted(maps.Keys(b.rules)) {
		if other == name {
			continue
		}
		if err := m.add(other, b.rules[other].pattern); err != nil {
			return fmt.Errorf("remove rule %q: rebuild with %q: %w", name, other, err)
		}
	}
	delete(b.rules, name)
	b.matcher = m
	b.publishRoutes()
	return nil
}

// Rules lists the installed rules by name.
func (b *Bus) Rules() []bus.Rule {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]bus.Rule, 0, len(b.rules))
	for _, name := range slices.Sorted(maps.Keys(b.rules)) {
		out = append(out, b.rules[name].rule)
	}
	return out
}

// Install subscribes handlers (target name → handler) and installs Berth's
// rules and schedules (bus.Rules, bus.Schedules). Every target they name
// needs a handler.
func (b *Bus) Install(handlers map[string]bus.Handler) error {
	for _, name := range slices.Sorted(maps.Keys(handlers)) {
		if err := b.Subscribe(name, handlers[name]); err != nil {
			return err
		}
	}
	for _, r := range bus.Rules() {
		if err := b.AddRule(r); err != nil {
			return err
		}
	}
	for _, s := range bus.Schedules() {
		if err := b.AddSchedule(s); err != nil {
			return err
		}
	}
	return nil
}

// checkNewRule is called with mu held.
func (b *Bus) checkNewRule(name, target string) error {
	if b.closed {
		return bus.ErrClosed
	}
	if _, taken := b.rules[name]; taken {
		return fmt.Errorf("add rule %q: %w", name, ErrRuleExists)
	}
	if _, taken := b.schedules[name]; taken {
		return fmt.Errorf("add rule %q: %w (a schedule)", name, ErrRuleExists)
	}
	if _, ok := b.targets[target]; !ok {
		return fmt.Errorf("add rule %q: %w %q; Subscribe it first", name, ErrUnknownTarget, target)
	}
	return nil
}

// publishRoutes is called with mu held.
func (b *Bus) publishRoutes() {
	targets := make(map[string]*target, len(b.rules))
	for name, r := range b.rules {
		targets[name] = b.targets[r.rule.Target]
	}
	b.routes.Store(&routes{matcher: b.matcher, targets: targets})
}

// Put validates every event, then queues each one once for every target
// with a rule that matches it. It waits while a queue is full, until ctx
// ends. Events no rule matches are dropped, as EventBridge does.
func (b *Bus) Put(ctx context.Context, events ...bus.Event) error {
	if !b.begin() {
		return bus.ErrClosed
	}
	defer b.puts.Done()
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("put event %d (id %q): %w", i, e.ID, err)
		}
	}
	r := b.routes.Load()
	for _, e := range events {
		targets, err := r.targetsOf(e)
		if err != nil {
			return fmt.Errorf("put event %s: %w", e.ID, err)
		}
		for _, t := range targets {
			if err := b.enqueue(ctx, t, e); err != nil {
				return fmt.Errorf("put event %s for %s: %w", e.ID, t.name, err)
			}
		}
	}
	return nil
}

// Match returns the names of the installed rules e matches, sorted.
func (b *Bus) Match(e bus.Event) ([]string, error) {
	raw, err := e.MarshalJSON() // not json.Marshal, which would compact it all again
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	r := b.routes.Load()
	names, err := r.matcher.match(raw)
	if err != nil {
		return nil, fmt.Errorf("match event %s: %w", e.ID, err)
	}
	return slices.DeleteFunc(names, func(n string) bool { return r.targets[n] == nil }), nil
}

// targetsOf returns each target whose rules match e once, ordered by name.
func (r *routes) targetsOf(e bus.Event) ([]*target, error) {
	raw, err := e.MarshalJSON() // not json.Marshal, which would compact it all again
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	names, err := r.matcher.match(raw)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	var out []*target
	for _, n := range names {
		// A rule being added is in the matcher before it is in targets;
		// until then it matches nothing.
		if t := r.targets[n]; t != nil && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *target) int { return cmp.Compare(a.name, b.name) })
	return out, nil
}

// begin registers a Put or Fire unless the bus is closed.
func (b *Bus) begin() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.puts.Add(1)
	return true
}

type deliveryKey struct{}

// enqueue queues e for t, waiting for room unless called from a handler.
func (b *Bus) enqueue(ctx context.Context, t *target, e bus.Event) error {
	select {
	case t.queue <- e:
		return nil
	default:
	}
	if ctx.Value(deliveryKey{}) != nil {
		return fmt.Errorf("%w (%d events); not waiting inside a handler", ErrQueueFull, cap(t.queue))
	}
	select {
	case t.queue <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.ctx.Done():
		return bus.ErrClosed
	}
}

// Close stops accepting events and schedules, waits until every event
// already accepted has been handled (or dropped after its attempts), and
// stops the workers. If ctx ends first, Close cancels the context handlers
// run in, drops what is still queued, waits for the handlers to return and
// reports ctx's error. Handlers must honour their context for Close to
// return promptly then. Calling Close again waits for the first call.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	already := b.closed
	b.closed = true
	b.mu.Unlock()
	if !already {
		b.closeErr = b.shutdown(ctx)
		close(b.closeDone)
		return b.closeErr
	}
	select {
	case <-b.closeDone:
		return b.closeErr
	case <-ctx.Done():
		// Another call is shutting down under its own context; this
		// caller just stops waiting for it.
		return ctx.Err()
	}
}

// shutdown runs once, after closed is set.
func (b *Bus) shutdown(ctx context.Context) error {
	defer b.cancel()

	close(b.stopTicks)
	var err error
	for _, wg := range []*sync.WaitGroup{&b.tickers, &b.puts} {
		if err = waitFor(ctx, wg); err != nil {
			break
		}
	}
	close(b.draining)
	if err == nil {
		err = waitFor(ctx, &b.workers)
	}
	if err != nil {
		b.cancel()
		b.tickers.Wait()
		b.puts.Wait()
		b.workers.Wait()
		return fmt.Errorf("close bus: %w", err)
	}
	return nil
}

// waitFor waits for wg until ctx ends.
func waitFor(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
