package local

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/berth-run/berth/shared/bus"
)

// target is a consumer: its handler, its bounded queue, one worker.
type target struct {
	name   string
	handle bus.Handler
	queue  chan bus.Event
}

// work hands t's handler batches of what is queued until the bus drains.
func (b *Bus) work(t *target) {
	defer b.workers.Done()
	for {
		var first bus.Event
		select {
		case first = <-t.queue:
		case <-b.draining:
			select {
			case first = <-t.queue:
			default:
				return
			}
		}
		b.deliver(t, b.batch(t, first))
	}
}

// batch takes first and whatever else is already queued, up to MaxBatch,
// so a burst reaches the handler at once and can be coalesced.
func (b *Bus) batch(t *target, first bus.Event) []bus.Event {
	events := []bus.Event{first}
	for len(events) < b.opts.MaxBatch {
		select {
		case e := <-t.queue:
			events = append(events, e)
		default:
			return events
		}
	}
	return events
}

// deliver calls the handler until it succeeds, the attempts run out or the
// bus is cancelled; failures are logged, and so is a batch given up on.
func (b *Bus) deliver(t *target, events []bus.Event) {
	ctx := context.WithValue(b.ctx, deliveryKey{}, t.name)
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			b.log.Error("bus closed before delivery; events dropped",
				"target", t.name, "events", len(events), "ids", ids(events))
			return
		}
		err := call(ctx, t.handle, events)
		if err == nil {
			return
		}
		if attempt >= b.opts.MaxAttempts {
			b.log.Error("handler failed; events dropped",
				"target", t.name, "attempts", attempt, "events", len(events), "ids", ids(events), "err", err)
			return
		}
		wait := b.opts.Backoff(attempt)
		b.log.Warn("handler failed; will retry",
			"target", t.name, "attempt", attempt, "retry_in", wait, "events", len(events), "err", err)
		sleep(ctx, wait) // if ctx ends meanwhile, the check above logs the drop
	}
}

// call runs h, turning a panic into an error so one bad event cannot take
// the whole control plane down.
func call(ctx context.Context, h bus.Handler, events []bus.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, events)
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func ids(events []bus.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}
