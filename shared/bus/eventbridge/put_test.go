package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/berth-run/berth/shared/bus"
)

// fakeEventBridge records PutEvents requests and refuses entries as its
// refuse function says (by detail-type and the attempt at that event).
type fakeEventBridge struct {
	mu       sync.Mutex
	requests [][]types.PutEventsRequestEntry
	attempts map[string]int // detail → times sent
	refuse   func(detail string, attempt int) string
	err      error
}

func (f *fakeEventBridge) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, in.Entries)
	if f.err != nil {
		return nil, f.err
	}
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	out := &eventbridge.PutEventsOutput{}
	for i, e := range in.Entries {
		d := aws.ToString(e.Detail)
		f.attempts[d]++
		code := ""
		if f.refuse != nil {
			code = f.refuse(d, f.attempts[d])
		}
		if code == "" {
			out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprint("eb-", i))})
			continue
		}
		out.FailedEntryCount++
		out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("refused by the fake")})
	}
	return out, nil
}

func testBus(f *fakeEventBridge, opts ...Option) *Bus {
	return newBus(f, "berth", append([]Option{
		WithBackoff(time.Millisecond, 2*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, opts...)...)
}

var t0 = time.Date(2025, 6, 2, 14, 3, 11, 0, time.UTC)

// event is a valid Berth event whose detail is {"n": n, "pad": <pad bytes>}.
func event(n, pad int) bus.Event {
	detail, _ := json.Marshal(map[string]any{"n": n, "pad": strings.Repeat("x", pad)})
	return bus.Event{
		Version:    bus.EnvelopeVersion,
		ID:         fmt.Sprintf("id-%d", n),
		DetailType: bus.DetailTypeServiceChange,
		Source:     bus.SourceBerth,
		Account:    "000000000000",
		Time:       t0,
		Region:     "us-east-1",
		Resources:  []string{fmt.Sprintf("arn:aws:ecs:us-east-1:000000000000:service/default/s%d", n)},
		Detail:     detail,
	}
}

func events(count, pad int) []bus.Event {
	out := make([]bus.Event, count)
	for i := range out {
		out[i] = event(i, pad)
	}
	return out
}

func TestPutSendsEveryFieldOnTheBus(t *testing.T) {
	f := &fakeEventBridge{}
	e := event(7, 0)
	if err := testBus(f).Put(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 1 || len(f.requests[0]) != 1 {
		t.Fatalf("requests = %v; want one request of one entry", f.requests)
	}
	got := f.requests[0][0]
	if aws.ToString(got.EventBusName) != "berth" || aws.ToString(got.Source) != e.Source ||
		aws.ToString(got.DetailType) != e.DetailType || aws.ToString(got.Detail) != string(e.Detail) ||
		!aws.ToTime(got.Time).Equal(e.Time) || len(got.Resources) != 1 || got.Resources[0] != e.Resources[0] {
		t.Fatalf("entry = %+v; want the event's bus, source, detail-type, detail, time and resources", got)
	}
}

func TestPutBatchesByCountAndSize(t *testing.T) {
	cases := []struct {
		name  string
		evs   []bus.Event
		sizes []int
	}{
		{"count", events(23, 0), []int{10, 10, 3}},
		// Each event is a little over 60 KiB: four fit in 256 KiB, five do not.
		{"bytes", events(9, 60*1024), []int{4, 4, 1}},
		{"exactly one request", events(10, 0), []int{10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeEventBridge{}
			if err := testBus(f).Put(t.Context(), c.evs...); err != nil {
				t.Fatal(err)
			}
			var sizes []int
			next := 0
			for _, r := range f.requests {
				sizes = append(sizes, len(r))
				bytes := 0
				for _, e := range r {
					if want := string(c.evs[next].Detail); aws.ToString(e.Detail) != want {
						t.Fatalf("entry %d sent out of order", next)
					}
					bytes += c.evs[next].EntrySize()
					next++
				}
				if bytes > MaxBatchBytes {
					t.Fatalf("a request carries %d bytes, over %d", bytes, MaxBatchBytes)
				}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(c.sizes) {
				t.Fatalf("request sizes %v; want %v", sizes, c.sizes)
			}
		})
	}
}

func TestPutResendsOnlyRefusedEntries(t *testing.T) {
	evs := events(5, 0)
	flaky := map[string]int{string(evs[1].Detail): 2, string(evs[3].Detail): 1} // refusals before success
	f := &fakeEventBridge{refuse: func(d string, attempt int) string {
		if attempt <= flaky[d] {
			return "ThrottlingException"
		}
		return ""
	}}
	if err := testBus(f).Put(t.Context(), evs...); err != nil {
		t.Fatalf("Put: %v", err)
	}
	var sizes []int
	for _, r := range f.requests {
		sizes = append(sizes, len(r))
	}
	if fmt.Sprint(sizes) != "[5 2 1]" {
		t.Fatalf("request sizes %v; want [5 2 1]: the batch, then only the refused entries", sizes)
	}
	for _, e := range evs {
		want := flaky[string(e.Detail)] + 1
		if got := f.attempts[string(e.Detail)]; got != want {
			t.Errorf("event %s sent %d times; want %d", e.ID, got, want)
		}
	}
}

func TestPutGivesUpAndNamesTheFailedEntries(t *testing.T) {
	evs := events(4, 0)
	f := &fakeEventBridge{refuse: func(d string, _ int) string {
		switch d {
		case string(evs[0].Detail):
			return "InternalFailure" // transient, but never recovers
		case string(evs[2].Detail):
			return "MalformedDetail" // permanent: never resent
		}
		return ""
	}}
	err := testBus(f, WithAttempts(3)).Put(t.Context(), evs...)
	var pe *PutError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a *PutError", err)
	}
	if len(pe.Failed) != 2 || pe.Failed[0].Index != 2 || pe.Failed[0].Code != "MalformedDetail" ||
		pe.Failed[1].Index != 0 || pe.Failed[1].Code != "InternalFailure" || pe.Failed[1].ID != evs[0].ID {
		t.Fatalf("failed entries %+v; want event 2 (MalformedDetail) then event 0 (InternalFailure)", pe.Failed)
	}
	if !strings.Contains(err.Error(), evs[0].ID) || !strings.Contains(err.Error(), evs[2].ID) {
		t.Fatalf("error %q does not name the failed events", err)
	}
	if got := f.attempts[string(evs[0].Detail)]; got != 3 {
		t.Errorf("transiently refused event sent %d times; want 3 (WithAttempts)", got)
	}
	if got := f.attempts[string(evs[2].Detail)]; got != 1 {
		t.Errorf("permanently refused event sent %d times; want 1", got)
	}
}

func TestPutRefusesBeforeSendingAnything(t *testing.T) {
	alarm := event(1, 0)
	alarm.Source = bus.SourceCloudWatch
	noAccount := event(2, 0)
	noAccount.Account = ""
	cases := []struct {
		name string
		bad  bus.Event
		want error
	}{
		{"aws source", alarm, ErrAWSSource},
		{"invalid envelope", noAccount, bus.ErrInvalidEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeEventBridge{}
			err := testBus(f).Put(t.Context(), event(0, 0), c.bad)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v; want %v", err, c.want)
			}
			if len(f.requests) != 0 {
				t.Fatalf("sent %d requests; want none", len(f.requests))
			}
		})
	}
}

func TestPutReportsAFailedRequest(t *testing.T) {
	f := &fakeEventBridge{err: errors.New("connection refused")}
	err := testBus(f).Put(t.Context(), events(3, 0)...)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "id-2") {
		t.Fatalf("err = %v; want the request's error naming the events", err)
	}
}

func TestPutNothingSendsNothing(t *testing.T) {
	f := &fakeEventBridge{}
	if err := testBus(f).Put(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 0 {
		t.Fatalf("sent %d requests for no events", len(f.requests))
	}
}
