package local

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/bus"
)

// AddSchedule installs s and starts its ticker: every tick delivers a
// "Scheduled Event" to s.Target, as an EventBridge schedule rule does. Like
// EventBridge, a scheduled event goes to its rule's target only; it is not
// matched against other rules. Only rate(...) expressions are supported.
func (b *Bus) AddSchedule(s bus.Schedule) error {
	if err := bus.ValidateSchedule(s); err != nil {
		return fmt.Errorf("add schedule: %w", err)
	}
	every, err := bus.ParseRate(s.Expression)
	if err != nil {
		return fmt.Errorf("add schedule %q: %w", s.Name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkNewRule(s.Name, s.Target); err != nil {
		return err
	}
	b.schedules[s.Name] = s
	ticks, stop := b.opts.Ticker(every)
	b.tickers.Add(1)
	go b.tick(s.Name, ticks, stop)
	return nil
}

// tick fires the schedule on every tick until the bus closes. A tick that
// finds the target's queue full is skipped with a warning: the next one
// carries the same meaning.
func (b *Bus) tick(name string, ticks <-chan time.Time, stop func()) {
	defer b.tickers.Done()
	defer stop()
	for {
		select {
		case at := <-ticks:
			ctx := context.WithValue(b.ctx, deliveryKey{}, "scheduler")
			if err := b.Fire(ctx, name, at); err != nil {
				b.log.Warn("scheduled event skipped", "schedule", name, "at", at, "err", err)
			}
		case <-b.stopTicks:
			return
		}
	}
}

// Fire delivers the named schedule's "Scheduled Event" for the time at to
// its target now, waiting for queue room until ctx ends.
func (b *Bus) Fire(ctx context.Context, name string, at time.Time) error {
	if !b.begin() {
		return bus.ErrClosed
	}
	defer b.puts.Done()
	b.mu.Lock()
	s, ok := b.schedules[name]
	t := b.targets[s.Target]
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("fire %q: %w", name, ErrUnknownRule)
	}
	e, err := b.factory.ScheduledEvent(at, name)
	if err != nil {
		return fmt.Errorf("fire %q: %w", name, err)
	}
	if err := b.enqueue(ctx, t, e); err != nil {
		return fmt.Errorf("fire %q: %w", name, err)
	}
	return nil
}
