package bus

import (
	"context"
	"errors"
)

// Bus is the port Berth publishes events through: Amazon EventBridge in
// AWS, the in-process bus in `berth up`.
type Bus interface {
	// Put publishes a batch of events. Each event reaches every target whose
	// rules match it, at least once and in no guaranteed order. An error
	// means some events may not have been accepted; putting the whole batch
	// again is safe, since consumers treat events as hints.
	Put(ctx context.Context, events ...Event) error
}

// Handler consumes events delivered to one target. Adapters that can batch
// (the in-process bus) pass several events at once so a burst can be
// coalesced, e.g. into one reconcile per service; a Lambda invocation passes
// one. An error means the whole batch is delivered again, so handlers must
// be idempotent (Berth's handlers recompute from the store, so they are).
type Handler func(ctx context.Context, events []Event) error

// Each makes a Handler that calls h for every event of a batch in order and
// stops at the first error. After a failure the whole batch is delivered
// again, so events before the failed one may be seen twice.
func Each(h func(ctx context.Context, e Event) error) Handler {
	return func(ctx context.Context, events []Event) error {
		for _, e := range events {
			if err := h(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
}

// ErrClosed is returned by Put on a bus that has been closed.
var ErrClosed = errors.New("bus closed")
