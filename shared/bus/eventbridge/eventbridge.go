package eventbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/berth-run/berth/shared/bus"
)

var _ bus.Bus = (*Bus)(nil)

// PutEvents limits: entries per request, and bytes per request as
// bus.Event.EntrySize counts them.
const (
	MaxBatchEntries = 10
	MaxBatchBytes   = 256 * 1024
)

// ErrAWSSource marks an event whose source is reserved to AWS services
// ("aws." prefix): EventBridge refuses to take it from PutEvents.
var ErrAWSSource = errors.New(`source reserved to AWS services`)

// putEventsAPI is the part of the EventBridge client the bus calls.
type putEventsAPI interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Bus publishes to one EventBridge event bus.
type Bus struct {
	client  putEventsAPI
	busName string
	opts    options
}

type options struct {
	attempts   int
	minBackoff time.Duration
	maxBackoff time.Duration
	logger     *slog.Logger
}

// Option configures New.
type Option func(*options)

// WithAttempts sets how many times an entry EventBridge refused for a
// transient reason is sent before Put gives up on it (default 5).
func WithAttempts(n int) Option { return func(o *options) { o.attempts = n } }

// WithBackoff sets the wait before resending refused entries: it starts at
// min and doubles up to max, with jitter (defaults 100ms and 5s).
func WithBackoff(min, max time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = min, max }
}

// WithLogger sets the logger for retried entries (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// New returns a bus that puts events on the event bus busName (a name or
// an ARN; "default" for the account's default bus) through client.
func New(client *eventbridge.Client, busName string, opts ...Option) *Bus {
	return newBus(client, busName, opts...)
}

func newBus(client putEventsAPI, busName string, opts ...Option) *Bus {
	o := options{attempts: 5, minBackoff: 100 * time.Millisecond, maxBackoff: 5 * time.Second, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	o.attempts = max(o.attempts, 1)
	o.minBackoff = max(o.minBackoff, time.Millisecond)
	o.maxBackoff = max(o.maxBackoff, o.minBackoff)
	return &Bus{client: client, busName: busName, opts: o}
}

// Put publishes events with PutEvents, in requests of at most 10 entries
// and 256 KiB. Every event is checked first; if one is invalid, or has an
// "aws." source, nothing is sent. Entries EventBridge refuses for a
// transient reason (throttling, an internal failure) are sent again after
// a back-off, alone, a bounded number of times; what still fails is
// reported in a *PutError. EventBridge gives each event an ID of its own:
// targets see that ID, not the one in bus.Event.
func (b *Bus) Put(ctx context.Context, events ...bus.Event) error {
	for i, e := range events {
		if err := check(e); err != nil {
			return fmt.Errorf("put event %d (id %q): %w", i, e.ID, err)
		}
	}
	var failed []FailedEntry
	for _, batch := range batches(events) {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := b.putBatch(ctx, events, batch)
		if err != nil {
			return err
		}
		failed = append(failed, f...)
	}
	if len(failed) > 0 {
		return &PutError{Bus: b.busName, Failed: failed}
	}
	return nil
}

func check(e bus.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if bus.IsAWSSource(e.Source) {
		return fmt.Errorf("%w: EventBridge refuses PutEvents entries with source %q (sources starting \"aws.\" belong to AWS services; Berth's own events use %q)",
			ErrAWSSource, e.Source, bus.SourceBerth)
	}
	return nil
}

// batches splits the events (by index) into PutEvents requests.
func batches(events []bus.Event) [][]int {
	var out [][]int
	var cur []int
	size := 0
	for i, e := range events {
		n := e.EntrySize()
		if len(cur) == MaxBatchEntries || (len(cur) > 0 && size+n > MaxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// putBatch sends one batch, resending refused entries; it returns the
// entries that still failed, or an error when a request failed as a whole.
func (b *Bus) putBatch(ctx context.Context, events []bus.Event, batch []int) ([]FailedEntry, error) {
	pending := batch
	var final []FailedEntry
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > 1 {
			if err := b.sleep(ctx, attempt-1); err != nil {
				return nil, err
			}
		}
		entries := make([]types.PutEventsRequestEntry, len(pending))
		for i, idx := range pending {
			entries[i] = b.entry(events[idx])
		}
		out, err := b.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return nil, fmt.Errorf("put %d events on bus %s (ids %s): %w", len(pending), b.busName, ids(events, pending), err)
		}
		if out.FailedEntryCount == 0 {
			return final, nil
		}
		if len(out.Entries) != len(pending) {
			return nil, fmt.Errorf("put %d events on bus %s: EventBridge answered for %d entries", len(pending), b.busName, len(out.Entries))
		}
		var retry []int
		for i, r := range out.Entries {
			code := aws.ToString(r.ErrorCode)
			if code == "" {
				continue
			}
			idx := pending[i]
			f := FailedEntry{Index: idx, ID: events[idx].ID, DetailType: events[idx].DetailType, Code: code, Message: aws.ToString(r.ErrorMessage)}
			if permanent[code] || attempt == b.opts.attempts {
				final = append(final, f)
				continue
			}
			retry = append(retry, idx)
		}
		if len(retry) > 0 {
			b.opts.logger.Warn("EventBridge refused entries; resending them", "bus", b.busName, "entries", len(retry), "attempt", attempt)
		}
		pending = retry
	}
	return final, nil
}

// permanent are entry error codes a resend cannot fix.
var permanent = map[string]bool{
	"MalformedDetail":                 true,
	"InvalidArgument":                 true,
	"NotAuthorizedForSourceException": true,
	"AccessDeniedException":           true,
	"ValidationException":             true,
}

func (b *Bus) entry(e bus.Event) types.PutEventsRequestEntry {
	detail := string(e.Detail)
	if strings.TrimSpace(detail) == "" {
		detail = "{}"
	}
	return types.PutEventsRequestEntry{
		EventBusName: aws.String(b.busName),
		Source:       aws.String(e.Source),
		DetailType:   aws.String(e.DetailType),
		Detail:       aws.String(detail),
		Resources:    e.Resources,
		Time:         aws.Time(e.Time),
	}
}

func (b *Bus) sleep(ctx context.Context, retry int) error {
	d := min(b.opts.minBackoff<<min(retry-1, 16), b.opts.maxBackoff)
	t := time.NewTimer(d/2 + rand.N(d/2+1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func ids(events []bus.Event, idx []int) string {
	s := make([]string, len(idx))
	for i, j := range idx {
		s[i] = events[j].ID
	}
	return strings.Join(s, ", ")
}

// FailedEntry is an event EventBridge did not accept.
type FailedEntry struct {
	// Index is the event's position in the Put call.
	Index      int
	ID         string
	DetailType string
	// Code and Message are EventBridge's ErrorCode and ErrorMessage.
	Code    string
	Message string
}

// PutError reports the events of a Put that EventBridge did not accept.
type PutError struct {
	Bus    string
	Failed []FailedEntry
}

func (e *PutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "EventBridge bus %s did not accept %d events:", e.Bus, len(e.Failed))
	for _, f := range e.Failed {
		fmt.Fprintf(&b, " [%d] %s (%s): %s: %s;", f.Index, f.ID, f.DetailType, f.Code, f.Message)
	}
	return strings.TrimSuffix(b.String(), ";")
}
