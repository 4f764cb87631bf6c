package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/shared/api"
	"github.com/berth-run/berth/shared/bus"
	buslocal "github.com/berth-run/berth/shared/bus/local"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/fn"
	"github.com/berth-run/berth/shared/store"
)

// Config configures a local control plane.
type Config struct {
	// Listen is the address to serve on, e.g. 127.0.0.1:4566 (port 0 picks one).
	Listen string
	// DataDir holds the state file (and local agents' data); it is created
	// if absent.
	DataDir string
	// Store is StoreEmbedded (default: bbolt in DataDir) or StoreDynamoDB.
	Store string
	// Table is the DynamoDB table of the dynamodb store, created if absent.
	Table string
	// AWS overrides the AWS configuration of the dynamodb store (tests).
	AWS *aws.Config
	// Account names resources; default us-east-1 / 000000000000.
	Account ecs.Account
	Logger  *slog.Logger
	// Timings are the agent and host-health settings; zero picks LocalTimings.
	Timings control.AgentTimings
	// TickEvery is the monitor's period; default 2s.
	TickEvery time.Duration
	// Agents are local agents to run once the API is ready (berth up --agents).
	Agents AgentsConfig
	// MetricMinute is how long a minute of utilization metrics and alarm
	// evaluation lasts; default one minute, as in CloudWatch. Tests shorten
	// it so that target tracking's 3- and 15-minute alarms act in seconds.
	MetricMinute time.Duration
}

// LocalTimings suit one machine: agents long-poll (a held poll is answered
// within a third of DisconnectAfter, and each answer is a heartbeat), and a
// silent agent is noticed within seconds.
var LocalTimings = control.AgentTimings{
	PollInterval:    time.Second,
	HeartbeatWrite:  2 * time.Second,
	DisconnectAfter: 10 * time.Second,
	LostAfter:       30 * time.Second,
	MaxWait:         3 * time.Second,
}

// Plane is a running local control plane.
type Plane struct {
	cfg      Config
	log      *slog.Logger
	store    *state
	control  *control.Control
	scaling  *control.Autoscaling
	alarms   *control.LocalAlarms
	bus      *buslocal.Bus
	listener net.Listener
	server   *http.Server
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	agents   []*agent.Agent
	drivers  []agent.Driver
}

// Start opens the state in cfg.DataDir and serves the API; it returns once
// the endpoint accepts requests.
func Start(cfg Config) (*Plane, error) {
	cfg = withDefaults(cfg)
	st, err := openState(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	p := &Plane{cfg: cfg, log: cfg.Logger, store: st}
	if err := p.start(); err != nil {
		_ = st.close()
		return nil, err
	}
	if err := p.startAgents(); err != nil {
		return nil, errors.Join(err, p.Shutdown(context.Background()))
	}
	return p, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Account == (ecs.Account{}) {
		cfg.Account = ecs.Account{Region: "us-east-1", ID: "000000000000"}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timings == (control.AgentTimings{}) {
		cfg.Timings = LocalTimings
	}
	if cfg.TickEvery == 0 {
		cfg.TickEvery = 2 * time.Second
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	return cfg
}

func (p *Plane) start() error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	b, err := buslocal.New(buslocal.Options{Account: p.cfg.Account, Logger: p.log})
	if err != nil {
		return fmt.Errorf("start bus: %w", err)
	}
	p.bus = b
	waiter := control.NewChangeWaiter()
	db := store.NewDB(p.store, p.cfg.Account, time.Now, fn.RandomID)
	p.control = control.New(db, control.Options{Now: time.Now, Seed: fn.RandomSeed, Timings: p.cfg.Timings, Waiter: waiter})
	publisher := &control.Publisher{Bus: b, Factory: bus.Factory{Account: p.cfg.Account, NewID: bus.RandomIDs()}, Now: time.Now}
	p.startScaling(db, b)
	handlers := map[string]bus.Handler{bus.TargetReconciler: p.control.ReconcileEvents, bus.TargetScaler: p.scaling.ScalerHandler()}
	if err := installRules(b, handlers); err != nil {
		return fmt.Errorf("install rules: %w", err)
	}
	p.goRun("change feed", func() error {
		return p.store.feed.Run(ctx, func(ctx context.Context, changes []store.Change) error {
			waiter.Handle(changes)
			return publisher.Handle(ctx, changes)
		})
	})
	p.goRun("monitor", func() error { return p.monitor(ctx) })
	return p.serve(b)
}

func (p *Plane) serve(b *buslocal.Bus) error {
	srv := api.NewServer(p.log)
	srv.RegisterECS(p.control)
	srv.RegisterAgent(p.control)
	srv.RegisterAutoscaling(p.scaling)
	srv.RegisterLocalAlarms(p.alarms)
	srv.RegisterEvents(&control.Events{Bus: b, Account: p.cfg.Account, NewID: bus.RandomIDs(), Now: time.Now})
	ln, err := net.Listen("tcp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", p.cfg.Listen, err)
	}
	p.listener = ln
	p.server = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	p.goRun("api", func() error {
		if err := p.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

// startScaling wires Application Auto Scaling to the local alarm store
// and metric store; the scaler is the bus target "scaler".
func (p *Plane) startScaling(db *store.DB, b *buslocal.Bus) {
	minute, metricClock := time.Minute, time.Now
	if m := p.cfg.MetricMinute; m > 0 && m != time.Minute {
		minute, metricClock = m, control.CompressedClock(time.Now(), m, time.Now)
	}
	p.alarms = control.NewLocalAlarms(db, b, bus.Factory{Account: p.cfg.Account, NewID: bus.RandomIDs()}, time.Now, p.log)
	p.alarms.EvaluateEvery, p.alarms.MetricClock = minute, metricClock
	p.scaling = control.NewAutoscaling(p.control, control.AutoscalingOptions{
		Alarms: p.alarms, Manager: p.alarms, Metrics: control.LocalMetrics{DB: db}, Evaluate: p.alarms.Evaluate, Logger: p.log,
		RerunEvery: minute, MetricClock: metricClock, ReportEvery: min(control.DefaultReportEvery, minute/3),
	})
}

// Autoscaling exposes Application Auto Scaling and the scaler (for tests).
func (p *Plane) Autoscaling() *control.Autoscaling { return p.scaling }

// Alarms exposes the local alarm store (for tests).
func (p *Plane) Alarms() *control.LocalAlarms { return p.alarms }

// goRun runs a long-lived part of the plane, logging how it ends.
func (p *Plane) goRun(name string, run func() error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := run(); err != nil && !errors.Is(err, context.Canceled) {
			p.log.Error("local control plane part stopped", "part", name, "err", err)
		}
	}()
}

// monitor runs the monitor's tick and expires stopped tasks, as the
// monitor schedule and DynamoDB TTL do in AWS.
func (p *Plane) monitor(ctx context.Context) error {
	t := time.NewTicker(p.cfg.TickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if err := p.control.Tick(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("monitor tick failed", "err", err)
		}
		if err := p.scaling.Tick(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("scaling tick failed", "err", err)
		}
		if _, err := p.store.expire(ctx, time.Now()); err != nil && ctx.Err() == nil {
			p.log.Warn("expiring stopped tasks failed", "err", err)
		}
	}
}

// Endpoint is the API's base URL.
func (p *Plane) Endpoint() string { return "http://" + p.listener.Addr().String() }

// Control exposes the use cases (for tests and local agents).
func (p *Plane) Control() *control.Control { return p.control }

// Bus exposes the in-process bus, e.g. to subscribe to events in tests.
func (p *Plane) Bus() *buslocal.Bus { return p.bus }

// Shutdown stops serving, lets in-flight work finish, and closes the state.
func (p *Plane) Shutdown(ctx context.Context) error {
	err := p.server.Shutdown(ctx)
	p.cancel()
	p.wg.Wait()
	err = errors.Join(err, p.bus.Close(ctx), p.store.close())
	return err
}

// installRules subscribes the handlers and adds Berth's rules for the
// targets they serve. The monitor's schedule is not added: the plane's own
// ticker runs the monitor, more often than the schedule's minute.
func installRules(b *buslocal.Bus, handlers map[string]bus.Handler) error {
	for target, h := range handlers {
		if err := b.Subscribe(target, h); err != nil {
			return err
		}
	}
	for _, r := range bus.Rules() {
		if handlers[r.Target] == nil {
			continue
		}
		if err := b.AddRule(r); err != nil {
			return err
		}
	}
	return nil
}
