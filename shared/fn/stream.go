package fn

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/shared/store"
)

// publishGroup is how many stream records are published together: a task
// or instance change yields one event, so a group is typically one
// PutEvents call, and a failed group costs few duplicate events when its
// records are retried one by one.
const publishGroup = 10

// StreamPublisher publishes the changes a DynamoDB stream delivers.
type StreamPublisher struct {
	// Decode turns stream records into store changes (the DynamoDB
	// adapter's ChangesFromStreamRecords).
	Decode func([]events.DynamoDBEventRecord) ([]store.Change, error)
	// Publish announces committed changes (control.Publisher.Handle).
	Publish func(context.Context, []store.Change) error
	Log     *slog.Logger
}

// Handle publishes a batch in stream order and reports the first record it
// could not decode or publish as the batch item failure, so Lambda retries
// from that record (and, once its retries are spent, sends it to the
// failure destination) while everything before it is checkpointed.
// Publishing is idempotent: a record published again yields the same
// events with the same versions, which consumers tolerate.
func (p *StreamPublisher) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	changes, decoded := p.decode(ev.Records)
	failed := decoded
	for start := 0; start < decoded; start += publishGroup {
		end := min(start+publishGroup, decoded)
		if at, ok := p.publish(ctx, ev.Records[start:end], changes[start:end]); !ok {
			failed = start + at
			break
		}
	}
	if failed == len(ev.Records) {
		return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}, nil
	}
	return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
		{ItemIdentifier: ev.Records[failed].Change.SequenceNumber},
	}}, nil
}

// decode decodes records one at a time, so a record that cannot be decoded
// is pinpointed; it returns each record's changes and how many records
// decoded before the first that did not.
func (p *StreamPublisher) decode(records []events.DynamoDBEventRecord) ([][]store.Change, int) {
	out := make([][]store.Change, 0, len(records))
	for i := range records {
		changes, err := p.Decode(records[i : i+1])
		if err != nil {
			p.Log.Error("stream record cannot be decoded; it will be retried, then sent to the failure queue",
				"eventID", records[i].EventID, "sequenceNumber", records[i].Change.SequenceNumber, "err", err)
			return out, i
		}
		out = append(out, changes)
	}
	return out, len(records)
}

// publish publishes a group of records; when the group fails it retries
// them one by one to find the first that fails, and returns its index.
func (p *StreamPublisher) publish(ctx context.Context, records []events.DynamoDBEventRecord, changes [][]store.Change) (int, bool) {
	if p.Publish(ctx, flatten(changes)) == nil {
		return 0, true
	}
	for i := range records {
		if err := p.Publish(ctx, changes[i]); err != nil {
			p.Log.Error("stream record cannot be published; it will be retried",
				"eventID", records[i].EventID, "sequenceNumber", records[i].Change.SequenceNumber, "err", err)
			return i, false
		}
	}
	// The group failed as a whole but every record succeeded alone (a
	// transient failure): everything is published.
	return 0, true
}

func flatten(groups [][]store.Change) []store.Change {
	var all []store.Change
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}
