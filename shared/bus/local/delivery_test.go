package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/bus"
)

const serviceRule = `{"source":["berth"],"detail-type":["Berth Service Change"]}`

// userBus has one target, "t", fed by one rule matching service changes.
func userBus(t *testing.T, opts Options, h bus.Handler) (*Bus, *syncBuffer) {
	t.Helper()
	b, logs := newBus(t, opts)
	if err := b.Subscribe("t", h); err != nil {
		t.Fatal(err)
	}
	if err := b.AddRuleJSON("service-changes", "t", serviceRule); err != nil {
		t.Fatal(err)
	}
	return b, logs
}

func serviceChanges(t *testing.T, n int) []bus.Event {
	t.Helper()
	e := sample(t, "berth-service-change.json")
	out := make([]bus.Event, n)
	for i := range out {
		out[i] = withID(e, fmt.Sprintf("event-%03d", i))
	}
	return out
}

func TestPutDeliversToMatchingTargetsOnly(t *testing.T) {
	b, _ := newBus(t, Options{})
	reconciler, scaler, monitor := newInbox(), newInbox(), newInbox()
	if err := b.Install(map[string]bus.Handler{
		bus.TargetReconciler: reconciler.handle, bus.TargetScaler: scaler.handle, bus.TargetMonitor: monitor.handle,
	}); err != nil {
		t.Fatal(err)
	}
	events := []bus.Event{
		sample(t, "ecs-task-state-change-running.json"),
		sample(t, "ecs-service-action-steady-state.json"), // matches nothing
		sample(t, "cloudwatch-alarm-state-change-alarm.json"),
		sample(t, "ecs-container-instance-state-change-connected.json"),
	}
	if err := b.Put(context.Background(), events...); err != nil {
		t.Fatal(err)
	}
	if got := reconciler.collect(t, 2); !slices.Equal(got, []string{events[0].ID, events[3].ID}) {
		t.Errorf("reconciler got %v", got)
	}
	if got := scaler.collect(t, 1); !slices.Equal(got, []string{events[2].ID}) {
		t.Errorf("scaler got %v", got)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !reconciler.empty() || !scaler.empty() || !monitor.empty() {
		t.Error("an event reached a target none of whose rules match it")
	}
}

func TestEventMatchingTwoRulesOfATargetIsDeliveredOnce(t *testing.T) {
	in := newInbox()
	b, _ := userBus(t, Options{}, in.handle)
	if err := b.AddRuleJSON("everything-berth", "t", `{"source":["berth"]}`); err != nil {
		t.Fatal(err)
	}
	e := serviceChanges(t, 1)[0]
	if err := b.Put(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := in.collect(t, 1); len(got) != 1 || !in.empty() {
		t.Errorf("delivered %v and more: %v", got, !in.empty())
	}
}

func TestPutRefusesInvalidEventsBeforeDeliveringAny(t *testing.T) {
	in := newInbox()
	b, _ := userBus(t, Options{}, in.handle)
	events := serviceChanges(t, 2)
	events[1].Account = "me"
	if err := b.Put(context.Background(), events...); !errors.Is(err, bus.ErrInvalidEvent) {
		t.Fatalf("Put = %v, want ErrInvalidEvent", err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !in.empty() {
		t.Error("an event of a refused batch was delivered")
	}
}

// TestBurstIsCoalescedIntoOneBatch holds the handler on a first event while
// more arrive; they must then reach it in one batch.
func TestBurstIsCoalescedIntoOneBatch(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	in := newInbox()
	var first atomic.Bool
	h := func(ctx context.Context, events []bus.Event) error {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return in.handle(ctx, events)
	}
	b, _ := userBus(t, Options{MaxBatch: 4}, h)
	events := serviceChanges(t, 7)
	if err := b.Put(context.Background(), events[0]); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := b.Put(context.Background(), events[1:]...); err != nil {
		t.Fatal(err)
	}
	close(release)
	var sizes []int
	var ids []string
	for len(ids) < len(events) {
		batch := in.next(t)
		sizes = append(sizes, len(batch))
		for _, e := range batch {
			ids = append(ids, e.ID)
		}
	}
	if !slices.Equal(sizes, []int{1, 4, 2}) {
		t.Errorf("batch sizes %v, want [1 4 2] (a burst of 6 behind MaxBatch 4)", sizes)
	}
	for i, e := range events {
		if ids[i] != e.ID {
			t.Fatalf("delivery order %v differs from put order", ids)
		}
	}
}

func TestFailedBatchIsRetriedThenSucceeds(t *testing.T) {
	var calls atomic.Int32
	in := newInbox()
	h := func(ctx context.Context, events []bus.Event) error {
		if calls.Add(1) < 3 {
			return errors.New("store conflict")
		}
		return in.handle(ctx, events)
	}
	var backoffs []int
	var mu sync.Mutex
	backoff := func(attempt int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		backoffs = append(backoffs, attempt)
		return 0
	}
	b, logs := userBus(t, Options{Backoff: backoff}, h)
	e := serviceChanges(t, 1)[0]
	if err := b.Put(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got := in.collect(t, 1); got[0] != e.ID {
		t.Errorf("delivered %v", got)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("handler called %d times, want 3", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(backoffs, []int{1, 2}) {
		t.Errorf("backoff asked for attempts %v, want [1 2]", backoffs)
	}
	if n := strings.Count(logs.String(), "will retry"); n != 2 || !contains(logs.String(), "store conflict") {
		t.Errorf("want two retry warnings naming the error, logs:\n%s", logs)
	}
}

func TestBatchIsDroppedAndLoggedAfterMaxAttempts(t *testing.T) {
	var calls atomic.Int32
	in := newInbox()
	h := func(ctx context.Context, events []bus.Event) error {
		if events[0].ID == "event-000" {
			calls.Add(1)
			return errors.New("always broken")
		}
		return in.handle(ctx, events)
	}
	b, logs := userBus(t, Options{MaxAttempts: 3}, h)
	events := serviceChanges(t, 2)
	if err := b.Put(context.Background(), events[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the batch to be given up", func() bool { return contains(logs.String(), "events dropped") })
	if err := b.Put(context.Background(), events[1]); err != nil {
		t.Fatal(err)
	}
	if got := in.collect(t, 1); got[0] != "event-001" {
		t.Errorf("after a dropped batch the next delivery was %v", got)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("failing batch tried %d times, want 3", n)
	}
	l := logs.String()
	if !contains(l, "level=ERROR") || !contains(l, "event-000") || !contains(l, "always broken") || !contains(l, "target=t") {
		t.Errorf("the drop is not logged with target, ids and error:\n%s", l)
	}
}

func TestHandlerPanicIsAFailureNotACrash(t *testing.T) {
	var calls atomic.Int32
	in := newInbox()
	h := func(ctx context.Context, events []bus.Event) error {
		if calls.Add(1) == 1 {
			panic("handler bug")
		}
		return in.handle(ctx, events)
	}
	b, logs := userBus(t, Options{}, h)
	if err := b.Put(context.Background(), serviceChanges(t, 1)...); err != nil {
		t.Fatal(err)
	}
	in.next(t)
	if !contains(logs.String(), "handler panicked") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

func TestEachStopsAtTheFirstFailure(t *testing.T) {
	var seen []string
	h := bus.Each(func(_ context.Context, e bus.Event) error {
		seen = append(seen, e.ID)
		if e.ID == "b" {
			return errors.New("bad b")
		}
		return nil
	})
	err := h(context.Background(), []bus.Event{{ID: "a"}, {ID: "b"}, {ID: "c"}})
	if err == nil || !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("Each: err %v, saw %v; want an error after a and b", err, seen)
	}
}

func TestPutWaitsForRoomUntilItsContextEnds(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h := func(ctx context.Context, _ []bus.Event) error {
		once.Do(func() { close(entered) })
		<-release
		return nil
	}
	b, _ := userBus(t, Options{QueueSize: 1}, h)
	defer close(release)
	events := serviceChanges(t, 3)
	if err := b.Put(context.Background(), events[0]); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := b.Put(context.Background(), events[1]); err != nil { // fills the queue
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Put(ctx, events[2]) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put into a full queue = %v, want context.Canceled", err)
		}
	case <-time.After(patience):
		t.Fatal("Put ignored its context")
	}
}

func TestPutFromAHandlerDoesNotDeadlockOnAFullQueue(t *testing.T) {
	errs := make(chan error, 16)
	var b *Bus
	events := serviceChanges(t, 3)
	h := func(ctx context.Context, batch []bus.Event) error {
		if batch[0].ID == "event-000" {
			// Put twice into our own queue of size 1: the second cannot fit.
			errs <- b.Put(ctx, events[1])
			errs <- b.Put(ctx, events[2])
		}
		return nil
	}
	b, _ = userBus(t, Options{QueueSize: 1, MaxAttempts: 1}, h)
	if err := b.Put(context.Background(), events[0]); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Errorf("first Put from the handler: %v", err)
	}
	if err := <-errs; !errors.Is(err, ErrQueueFull) {
		t.Errorf("second Put from the handler: %v, want ErrQueueFull", err)
	}
}

func TestCloseDeliversEverythingAcceptedFirst(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	in := newInbox()
	var once sync.Once
	h := func(ctx context.Context, events []bus.Event) error {
		once.Do(func() {
			close(entered)
			<-release
		})
		return in.handle(ctx, events)
	}
	b, _ := userBus(t, Options{MaxBatch: 2}, h)
	events := serviceChanges(t, 5)
	if err := b.Put(context.Background(), events[0]); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := b.Put(context.Background(), events[1:]...); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- b.Close(context.Background()) }()
	eventually(t, "Close to begin", b.isClosed)
	if err := b.Put(context.Background(), events[0]); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Put during Close = %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a delivery was in flight", err)
	default:
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("Close = %v", err)
	}
	var ids []string
	for !in.empty() {
		for _, e := range in.next(t) {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) != len(events) {
		t.Errorf("after Close, delivered %v; want all %d accepted events", ids, len(events))
	}
	if err := b.Subscribe("late", in.handle); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
	}
	if err := b.AddRuleJSON("late", "t", serviceRule); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("AddRule after Close: %v, want ErrClosed", err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestCloseGivesUpWhenItsContextEnds(t *testing.T) {
	entered := make(chan struct{})
	var calls atomic.Int32
	var sawCancel atomic.Bool
	h := func(ctx context.Context, events []bus.Event) error {
		calls.Add(1)
		close(entered)
		<-ctx.Done() // a handler stuck until it is told to stop
		sawCancel.Store(true)
		return ctx.Err()
	}
	b, logs := userBus(t, Options{}, h)
	events := serviceChanges(t, 4)
	if err := b.Put(context.Background(), events[0]); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := b.Put(context.Background(), events[1:]...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	closed := make(chan error, 1)
	go func() { closed <- b.Close(ctx) }()
	cancel()
	if err := <-closed; !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	if !sawCancel.Load() {
		t.Error("Close returned before the handler was cancelled and returned")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times; the queued events should be dropped, not delivered", n)
	}
	if !contains(logs.String(), "events dropped") {
		t.Errorf("dropped events not logged:\n%s", logs)
	}
}

// TestConcurrentPutsAndRuleChanges puts from many goroutines while other
// rules come and go; every event must reach the stable rule's target once.
func TestConcurrentPutsAndRuleChanges(t *testing.T) {
	in := newInbox()
	churn := newInbox()
	b, _ := userBus(t, Options{QueueSize: 64}, in.handle)
	if err := b.Subscribe("churn", churn.handle); err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 8, 50
	base := sample(t, "berth-service-change.json")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := b.Put(context.Background(), withID(base, fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 40 {
			name := fmt.Sprintf("churn-%d", i)
			if err := b.AddRuleJSON(name, "churn", `{"source":["berth"],"detail":{"serviceName":["web"]}}`); err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := b.RemoveRule(name); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	go func() {
		for range churn { // drain: churn deliveries are not counted
		}
	}()
	got := in.collect(t, writers*perWriter)
	wg.Wait()
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(churn)
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s delivered twice", id)
		}
		seen[id] = true
	}
	if !in.empty() {
		t.Errorf("more than %d deliveries", writers*perWriter)
	}
}
