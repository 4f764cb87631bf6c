package fn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/shared/bus"
)

// EventHandler serves an EventBridge rule that invokes a function
// directly: the payload is one event. An event that cannot be read is an
// error naming what is wrong (Lambda retries it, then drops it or sends it
// to the rule's dead-letter queue).
func EventHandler(h bus.Handler) func(context.Context, json.RawMessage) error {
	return func(ctx context.Context, payload json.RawMessage) error {
		e, err := bus.ParseEvent(payload)
		if err != nil {
			return fmt.Errorf("read EventBridge event: %w", err)
		}
		return h(ctx, []bus.Event{e})
	}
}

// QueueHandler serves an SQS queue an EventBridge rule delivers to: each
// message body is one event. The events of a batch go to h together, so a
// burst is coalesced (one reconcile per service). A message that cannot be
// read is reported alone as a batch item failure (SQS redrives it to the
// dead-letter queue once its receives are spent); if h fails, every
// readable message is reported, since h's work is idempotent.
func QueueHandler(h bus.Handler, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		var evs []bus.Event
		var ids []string
		for _, m := range batch.Records {
			e, err := bus.ParseEvent([]byte(m.Body))
			if err != nil {
				log.Error("queued message is not an EventBridge event; it will go to the dead-letter queue", "messageId", m.MessageId, "err", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				continue
			}
			evs = append(evs, e)
			ids = append(ids, m.MessageId)
		}
		if len(evs) == 0 {
			return resp, nil
		}
		if err := h(ctx, evs); err != nil {
			log.Error("handling queued events failed; they will be delivered again", "events", len(evs), "err", err)
			for _, id := range ids {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
		}
		return resp, nil
	}
}

// Tick makes the monitor's handler: every Scheduled Event runs tick once;
// any other event is refused, naming what arrived.
func Tick(tick func(context.Context) error) bus.Handler {
	return func(ctx context.Context, evs []bus.Event) error {
		for _, e := range evs {
			if e.Source != bus.SourceEvents || e.DetailType != bus.DetailTypeScheduled {
				return fmt.Errorf("%w: the monitor runs on %q events from %q, got %q from %q (event %s)",
					bus.ErrInvalidEvent, bus.DetailTypeScheduled, bus.SourceEvents, e.DetailType, e.Source, e.ID)
			}
		}
		if len(evs) == 0 {
			return nil
		}
		if err := tick(ctx); err != nil {
			return fmt.Errorf("monitor tick: %w", err)
		}
		return nil
	}
}
