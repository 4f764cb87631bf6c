package fn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/shared/fn"
	"github.com/berth-run/berth/shared/store"
)

// batch is n stream records whose sequence numbers are 100, 101, ...
func batch(n int) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i := range n {
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{
			EventID: fmt.Sprintf("e%d", i),
			Change:  events.DynamoDBStreamRecord{SequenceNumber: strconv.Itoa(100 + i)},
		})
	}
	return ev
}

// keyOf names record i's change, so a test can see which records were
// published and in which calls.
func keyOf(i int) store.Key { return store.Key{PK: "K", SK: strconv.Itoa(i)} }

// scripted is a StreamPublisher whose decoder and publisher follow a
// script: records listed in badRecords do not decode, publishing a change
// listed in failAlone always fails, and the first failGroups calls that
// publish several changes fail.
type scripted struct {
	badRecords map[string]bool
	failAlone  map[int]bool
	failGroups int
	calls      [][]int
	log        bytes.Buffer
}

func (s *scripted) publisher() *fn.StreamPublisher {
	return &fn.StreamPublisher{
		Decode: func(records []events.DynamoDBEventRecord) ([]store.Change, error) {
			var out []store.Change
			for _, r := range records {
				if s.badRecords[r.EventID] {
					return nil, errors.New("attribute d is of type N, not S")
				}
				i, _ := strconv.Atoi(strings.TrimPrefix(r.EventID, "e"))
				out = append(out, store.Change{Key: keyOf(i)})
			}
			return out, nil
		},
		Publish: func(_ context.Context, changes []store.Change) error {
			var ids []int
			for _, c := range changes {
				i, _ := strconv.Atoi(c.Key.SK)
				ids = append(ids, i)
			}
			s.calls = append(s.calls, ids)
			if len(ids) > 1 && s.failGroups > 0 {
				s.failGroups--
				return errors.New("PutEvents throttled")
			}
			for _, i := range ids {
				if s.failAlone[i] {
					return fmt.Errorf("change %d cannot be published", i)
				}
			}
			return nil
		},
		Log: slog.New(slog.NewTextHandler(&s.log, nil)),
	}
}

// handle runs p on ev and returns the sequence numbers it reported failed.
func handle(t *testing.T, p *fn.StreamPublisher, ev events.DynamoDBEvent) []string {
	t.Helper()
	resp, err := p.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle returned an error; it must report failures per record: %v", err)
	}
	if resp.BatchItemFailures == nil {
		t.Fatal("BatchItemFailures is nil; Lambda wants an empty list when all succeeded")
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestStreamPublisherPublishesInGroups(t *testing.T) {
	s := &scripted{}
	got := handle(t, s.publisher(), batch(25))
	if len(got) != 0 {
		t.Errorf("failures %v", got)
	}
	if len(s.calls) != 3 || len(s.calls[0]) != 10 || len(s.calls[1]) != 10 || len(s.calls[2]) != 5 ||
		s.calls[0][0] != 0 || s.calls[2][4] != 24 {
		t.Errorf("calls %v, want groups of 10 in stream order", s.calls)
	}
}

func TestStreamPublisherEmptyBatch(t *testing.T) {
	s := &scripted{}
	if got := handle(t, s.publisher(), events.DynamoDBEvent{}); len(got) != 0 || len(s.calls) != 0 {
		t.Errorf("failures %v calls %v", got, s.calls)
	}
}

func TestStreamPublisherUndecodableRecord(t *testing.T) {
	s := &scripted{badRecords: map[string]bool{"e13": true}}
	got := handle(t, s.publisher(), batch(20))
	if !slices.Equal(got, []string{"113"}) {
		t.Errorf("failures %v, want the undecodable record's sequence number", got)
	}
	var published []int
	for _, c := range s.calls {
		published = append(published, c...)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(published, want) {
		t.Errorf("published %v, want exactly the records before it", published)
	}
	if log := s.log.String(); !strings.Contains(log, "cannot be decoded") || !strings.Contains(log, "sequenceNumber=113") || !strings.Contains(log, "not S") {
		t.Errorf("log does not explain the failure: %s", log)
	}
}

func TestStreamPublisherUnpublishableRecord(t *testing.T) {
	s := &scripted{failAlone: map[int]bool{14: true}}
	got := handle(t, s.publisher(), batch(30))
	if !slices.Equal(got, []string{"114"}) {
		t.Errorf("failures %v, want the first record that cannot be published", got)
	}
	want := [][]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
		{10}, {11}, {12}, {13}, {14},
	}
	if fmt.Sprint(s.calls) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v: the failed group retried one by one up to the failing record", s.calls, want)
	}
}

func TestStreamPublisherTransientGroupFailure(t *testing.T) {
	s := &scripted{failGroups: 1}
	got := handle(t, s.publisher(), batch(12))
	if len(got) != 0 {
		t.Errorf("failures %v: every record published on its own", got)
	}
	if len(s.calls) != 1+10+1 {
		t.Errorf("calls %v", s.calls)
	}
}

func TestStreamPublisherLogsNothingOnSuccess(t *testing.T) {
	s := &scripted{}
	if got := handle(t, s.publisher(), batch(3)); len(got) != 0 || s.log.Len() != 0 {
		t.Errorf("failures %v, log %q", got, s.log.String())
	}
}
