package fn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/fn"
	"github.com/berth-run/berth/shared/store/dynamo"
)

// recordingBus is a bus that keeps what is put on it.
type recordingBus struct {
	mu     sync.Mutex
	events []bus.Event
	puts   int
}

func (b *recordingBus) Put(_ context.Context, evs ...bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.puts++
	b.events = append(b.events, evs...)
	return nil
}

// publisherFunction is the publisher as functions/publisher wires it, with
// the recording bus in place of EventBridge.
func publisherFunction(log *bytes.Buffer) (*fn.StreamPublisher, *recordingBus) {
	b := &recordingBus{}
	p := &control.Publisher{
		Bus:     b,
		Factory: bus.Factory{Account: ecs.Account{Region: "us-east-1", ID: "123456789012"}, NewID: bus.SeededIDs(1)},
		Now:     func() time.Time { return time.Date(2025, 6, 2, 14, 3, 30, 0, time.UTC) },
	}
	return &fn.StreamPublisher{
		Decode:  dynamo.ChangesFromStreamRecords,
		Publish: p.Handle,
		Log:     slog.New(slog.NewTextHandler(log, nil)),
	}, b
}

func streamSample(t *testing.T, name string) events.DynamoDBEvent {
	t.Helper()
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(sample(t, name), &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// TestPublisherSamples plays every events/publisher-stream-*.json sample
// through the publisher's real handler: the DynamoDB adapter's record
// decoding and the shared publisher.
func TestPublisherSamples(t *testing.T) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "events", "publisher-stream-*.json"))
	played := map[string]bool{"publisher-stream-batch.json": true, "publisher-stream-malformed.json": true}
	for _, path := range samples {
		if !played[filepath.Base(path)] {
			t.Errorf("sample %s is not played by this test", filepath.Base(path))
		}
	}

	t.Run("batch", func(t *testing.T) {
		var log bytes.Buffer
		p, b := publisherFunction(&log)
		ev := streamSample(t, "publisher-stream-batch.json")
		resp, err := p.Handle(context.Background(), ev)
		if err != nil || resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %+v, err %v, log %s", resp.BatchItemFailures, err, log.String())
		}
		type announced struct {
			detailType string
			version    int64
		}
		var got []announced
		for _, e := range b.events {
			var d struct {
				Version int64 `json:"version"`
			}
			if err := json.Unmarshal(e.Detail, &d); err != nil {
				t.Fatal(err)
			}
			if err := e.Validate(); err != nil || e.Source != bus.SourceBerth || e.Account != "123456789012" {
				t.Errorf("event %s: %v", e.DetailType, err)
			}
			got = append(got, announced{e.DetailType, d.Version})
		}
		// The instance's registration and its resources taken by the task,
		// the task's creation and its stop request; the cluster, heartbeat,
		// family, task definition and index items and the TTL deletion
		// announce nothing.
		want := []announced{
			{bus.DetailTypeContainerInstanceStateChange, 1},
			{bus.DetailTypeTaskStateChange, 1},
			{bus.DetailTypeContainerInstanceStateChange, 2},
			{bus.DetailTypeTaskStateChange, 2},
		}
		if !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		if b.puts > (len(ev.Records)+9)/10 {
			t.Errorf("%d puts for %d records: want one per group of ten", b.puts, len(ev.Records))
		}

		// Lambda redelivers a batch after a failure: the same events again.
		if resp, err := p.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("a redelivered batch: %+v %v", resp, err)
		}
		if len(b.events) != 2*len(want) {
			t.Fatalf("redelivery published %d events, want %d again", len(b.events)-len(want), len(want))
		}
		for i := range want {
			first, second := b.events[i], b.events[len(want)+i]
			if first.DetailType != second.DetailType || !slices.Equal(first.Resources, second.Resources) || string(first.Detail) != string(second.Detail) {
				t.Errorf("redelivered event %d differs: %s vs %s", i, first.Detail, second.Detail)
			}
		}
	})

	t.Run("malformed", func(t *testing.T) {
		var log bytes.Buffer
		p, b := publisherFunction(&log)
		ev := streamSample(t, "publisher-stream-malformed.json")
		resp, err := p.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Change.SequenceNumber {
			t.Errorf("failures %+v, want the malformed record", resp.BatchItemFailures)
		}
		if len(b.events) != 0 || b.puts != 0 {
			t.Errorf("a malformed record put %d events", len(b.events))
		}
		if msg := log.String(); !strings.Contains(msg, "cannot be decoded") || !strings.Contains(msg, "attribute v is of type S, not N") {
			t.Errorf("the log does not say what is wrong: %s", msg)
		}
	})
}
