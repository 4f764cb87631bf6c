package local

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/bus/bustest"
)

// patience bounds every wait in these tests; reaching it is a failure, not
// a measurement.
const patience = 10 * time.Second

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// newBus makes a bus with retries that do not wait and logs kept in logs.
func newBus(t *testing.T, opts Options) (*Bus, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return 0 }
	}
	if opts.NewID == nil {
		opts.NewID = bus.SeededIDs(1)
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		// A test that closed the bus itself with a cancelled context
		// gets that error again here; it has checked it already.
		if err := b.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Close: %v", err)
		}
	})
	return b, logs
}

// inbox is a handler that passes every batch it gets to a channel.
type inbox chan []bus.Event

func newInbox() inbox { return make(inbox, 1024) }

func (in inbox) handle(_ context.Context, events []bus.Event) error {
	in <- events
	return nil
}

// next waits for the next batch.
func (in inbox) next(t *testing.T) []bus.Event {
	t.Helper()
	select {
	case b := <-in:
		return b
	case <-time.After(patience):
		t.Fatal("no delivery")
		return nil
	}
}

// collect waits until n events have arrived and returns their IDs in order.
func (in inbox) collect(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		for _, e := range in.next(t) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// empty reports whether nothing more was delivered.
func (in inbox) empty() bool { return len(in) == 0 }

func samples(t *testing.T) []bustest.Sample {
	t.Helper()
	s, err := bustest.Samples()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sample returns the sample stored in the named file of events/.
func sample(t *testing.T, file string) bus.Event {
	t.Helper()
	raw, err := bustest.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bus.ParseEvent(raw)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return e
}

// withID returns a copy of e with another ID, to tell deliveries apart.
func withID(e bus.Event, id string) bus.Event {
	e.ID = id
	return e
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func (b *Bus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

func readSample(file string) ([]byte, error) { return bustest.ReadFile(file) }
