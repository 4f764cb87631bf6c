package local

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/bus"
)

// fakeTicker hands out channels the test drives.
type fakeTicker struct {
	mu      sync.Mutex
	periods []time.Duration
	ticks   []chan time.Time
	stopped int
}

func (f *fakeTicker) start(every time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time)
	f.periods = append(f.periods, every)
	f.ticks = append(f.ticks, c)
	return c, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.stopped++
	}
}

func (f *fakeTicker) tick(i int, at time.Time) {
	f.mu.Lock()
	c := f.ticks[i]
	f.mu.Unlock()
	c <- at
}

func TestScheduleDeliversScheduledEvents(t *testing.T) {
	ft := &fakeTicker{}
	b, _ := newBus(t, Options{Ticker: ft.start})
	monitor := newInbox()
	if err := b.Subscribe(bus.TargetMonitor, monitor.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.AddSchedule(bus.Schedules()[0]); err != nil {
		t.Fatal(err)
	}
	if len(ft.periods) != 1 || ft.periods[0] != time.Minute {
		t.Fatalf("ticker periods %v, want [1m]", ft.periods)
	}
	at := time.Date(2025, 6, 2, 14, 4, 0, 482_000_000, time.UTC)
	ft.tick(0, at)
	batch := monitor.next(t)
	e := batch[0]
	if e.Source != bus.SourceEvents || e.DetailType != bus.DetailTypeScheduled || !e.Time.Equal(at.Truncate(time.Second)) ||
		len(e.Resources) != 1 || e.Resources[0] != "arn:aws:events:us-east-1:000000000000:rule/"+bus.ScheduleMonitor {
		t.Errorf("scheduled event %+v", e)
	}
	if err := e.Validate(); err != nil {
		t.Errorf("scheduled event invalid: %v", err)
	}
	if err := b.Fire(context.Background(), bus.ScheduleMonitor, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if e := monitor.next(t)[0]; !e.Time.Equal(at.Add(time.Minute).Truncate(time.Second)) {
		t.Errorf("fired event at %v", e.Time)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ft.stopped != 1 {
		t.Errorf("ticker stopped %d times, want 1", ft.stopped)
	}
}

func TestScheduledEventsAreNotMatchedByRules(t *testing.T) {
	ft := &fakeTicker{}
	b, _ := newBus(t, Options{Ticker: ft.start})
	monitor, other := newInbox(), newInbox()
	if err := b.Subscribe(bus.TargetMonitor, monitor.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("other", other.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.AddRuleJSON("all-scheduled", "other", `{"detail-type":["Scheduled Event"]}`); err != nil {
		t.Fatal(err)
	}
	if err := b.AddSchedule(bus.Schedules()[0]); err != nil {
		t.Fatal(err)
	}
	ft.tick(0, time.Unix(1_750_000_000, 0))
	monitor.next(t)
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !other.empty() {
		t.Error("a scheduled event reached a pattern rule; EventBridge sends it to its schedule's target only")
	}
}

func TestScheduleErrors(t *testing.T) {
	b, _ := newBus(t, Options{Ticker: (&fakeTicker{}).start})
	if err := b.Subscribe("m", newInbox().handle); err != nil {
		t.Fatal(err)
	}
	tests := map[string]bus.Schedule{
		"cron":           {Name: "s", Expression: "cron(0 * * * ? *)", Target: "m"},
		"unknown target": {Name: "s", Expression: "rate(1 minute)", Target: "nobody"},
		"bad name":       {Name: "s s", Expression: "rate(1 minute)", Target: "m"},
	}
	for name, s := range tests {
		if err := b.AddSchedule(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := bus.Schedule{Name: "s", Expression: "rate(5 minutes)", Target: "m"}
	if err := b.AddSchedule(good); err != nil {
		t.Fatal(err)
	}
	if err := b.AddSchedule(good); !errors.Is(err, ErrRuleExists) {
		t.Errorf("duplicate schedule: %v, want ErrRuleExists", err)
	}
	if err := b.AddRuleJSON("s", "m", serviceRule); !errors.Is(err, ErrRuleExists) {
		t.Errorf("rule named like a schedule: %v, want ErrRuleExists", err)
	}
	if err := b.Fire(context.Background(), "nope", time.Unix(0, 0)); !errors.Is(err, ErrUnknownRule) {
		t.Errorf("Fire unknown: %v, want ErrUnknownRule", err)
	}
}
