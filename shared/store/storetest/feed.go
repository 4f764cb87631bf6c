package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/store"
)

// FeedHarness is an adapter's store together with its change feed.
type FeedHarness struct {
	Store store.Store
	Feed  store.ChangeFeed
	// Expire makes the backend delete every item whose ExpiresAt is at or
	// before now, as its TTL process eventually would, announcing each
	// deletion on the feed. DynamoDB's TTL cannot be forced, so each adapter
	// supplies its own way.
	Expire func(ctx context.Context, now time.Time) error
	// Reopen closes Store and Feed and opens the same state again, as a
	// restarted process would. Only RunFeedRestart uses it.
	Reopen func(t *testing.T) (store.Store, store.ChangeFeed)
}

// feedTimeout bounds the wait for the feed to deliver a committed change.
const feedTimeout = 20 * time.Second

// RunFeed runs the change feed and TTL contract. open returns a new, empty
// store and its feed for one test, released with t.Cleanup. A feed must
// deliver changes committed before its Run started (nothing committed goes
// unannounced), must not announce a failed transaction, a Check or the
// deletion of an absent item, and must offer a batch its handler failed
// again without ending Run.
func RunFeed(t *testing.T, open func(t *testing.T) FeedHarness) {
	t.Run("DeliversEveryCommitOncePerKeyInOrder", func(t *testing.T) { testFeedDeliversEveryCommit(t, open(t)) })
	t.Run("FailedTransactionsAnnounceNothing", func(t *testing.T) { testFeedIgnoresFailedTransactions(t, open(t)) })
	t.Run("FailedBatchIsRedelivered", func(t *testing.T) { testFeedRedelivers(t, open(t)) })
	t.Run("RunReturnsWhenContextEnds", func(t *testing.T) { testFeedStops(t, open(t)) })
	t.Run("ExpiryDeletesAndAnnounces", func(t *testing.T) { testExpiry(t, open(t)) })
}

// RunFeedRestart checks that a feed resumes where it stopped across a
// restart: nothing committed is lost, whether committed while no consumer
// ran or handed to a consumer that failed. open must set Reopen.
func RunFeedRestart(t *testing.T, open func(t *testing.T) FeedHarness) {
	t.Run("ResumesAfterReopen", func(t *testing.T) { testFeedResumes(t, open(t)) })
}

// collector runs a feed, recording what was offered and what was handled.
type collector struct {
	mu        sync.Mutex
	offered   [][]store.Change
	delivered []store.Change
	fail      func(changes []store.Change) error // nil: accept every batch

	cancel context.CancelFunc
	done   chan error
}

func startFeed(t *testing.T, feed store.ChangeFeed, fail func([]store.Change) error) *collector {
	ctx, cancel := context.WithCancel(t.Context())
	c := &collector{fail: fail, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- feed.Run(ctx, c.handle) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

func (c *collector) handle(_ context.Context, changes []store.Change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offered = append(c.offered, slices.Clone(changes))
	if c.fail != nil {
		if err := c.fail(changes); err != nil {
			return err
		}
	}
	c.delivered = append(c.delivered, changes...)
	return nil
}

// stop ends the feed and checks that Run returned, without an error of
// its own. It may be called again (by the cleanup) to no effect.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	if c.cancel == nil {
		return
	}
	c.cancel()
	c.cancel = nil
	select {
	case err := <-c.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("feed Run returned %v; want nil or context.Canceled after its context ended", err)
		}
	case <-time.After(feedTimeout):
		t.Errorf("feed Run did not return within %v of its context ending", feedTimeout)
	}
}

// byKey groups the handled changes per key, in delivery order.
func (c *collector) byKey() map[store.Key][]store.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[store.Key][]store.Change{}
	for _, ch := range c.delivered {
		out[ch.Key] = append(out[ch.Key], ch)
	}
	return out
}

func (c *collector) timesOffered(k store.Key) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, batch := range c.offered {
		for _, ch := range batch {
			if ch.Key == k {
				n++
			}
		}
	}
	return n
}

// awaitCounts waits until each key has at least the given number of handled changes.
func (c *collector) awaitCounts(t *testing.T, want map[store.Key]int) map[store.Key][]store.Change {
	t.Helper()
	var got map[store.Key][]store.Change
	eventually(t, feedTimeout, "feed delivers the committed changes", func() (bool, string) {
		got = c.byKey()
		for k, n := range want {
			if len(got[k]) < n {
				return false, describeChanges(got)
			}
		}
		return true, ""
	})
	return got
}

// change is the change a write makes: old and new images, nil when absent.
func change(old, next *store.Item) store.Change {
	if next != nil {
		return store.Change{Key: next.Key, Old: old, New: next}
	}
	return store.Change{Key: old.Key, Old: old}
}

func itemPtr(it store.Item, version int64) *store.Item {
	it.Version = version
	return &it
}

func sameImage(a, b *store.Item) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameItem(*a, *b)
}

func sameChange(a, b store.Change) bool {
	return a.Key == b.Key && sameImage(a.Old, b.Old) && sameImage(a.New, b.New)
}

func describeImage(it *store.Item) string {
	if it == nil {
		return "-"
	}
	return describe(*it)
}

func describeChange(c store.Change) string {
	return fmt.Sprintf("%s: %s -> %s", c.Key, describeImage(c.Old), describeImage(c.New))
}

func describeChanges(m map[store.Key][]store.Change) string {
	s := ""
	for k, cs := range m {
		s += fmt.Sprintf("\n  %s:", k)
		for _, c := range cs {
			s += "\n    " + describeChange(c)
		}
	}
	return s
}

// assertChanges checks one key's changes exactly: each commit once, in order.
func assertChanges(t *testing.T, k store.Key, got, want []store.Change) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = sameChange(got[i], want[i])
	}
	if !ok {
		t.Fatalf("changes of %s:%s\nwant:%s", k, describeChanges(map[store.Key][]store.Change{k: got}), describeChanges(map[store.Key][]store.Change{k: want}))
	}
}

// collapse drops repeats of a change already seen, which at-least-once
// delivery allows after a failure or a restart.
func collapse(cs []store.Change) []store.Change {
	var out []store.Change
	for _, c := range cs {
		if !slices.ContainsFunc(out, func(o store.Change) bool { return sameChange(o, c) }) {
			out = append(out, c)
		}
	}
	return out
}

func testFeedDeliversEveryCommit(t *testing.T, h FeedHarness) {
	s := h.Store
	k1, k2, k3 := key("p", "one"), key("p", "two"), key("q", "three")
	one := store.Item{Key: k1, Data: doc("v", 1), GSI1: key("g", "a"), ExpiresAt: 4102444800}
	two := store.Item{Key: k2, Data: doc("v", 1), GSI2: key("h", "b")}
	// Committed before the feed runs: a feed announces these too.
	mustTransact(t, s, put(one, 0), put(two, 0))
	c := startFeed(t, h.Feed, nil)

	one2 := store.Item{Key: k1, Data: doc("v", 2), GSI1: key("g", "moved")}
	mustTransact(t, s, put(one2, 1), del(k2, 1))
	// A check and a delete of nothing change nothing, so announce nothing.
	mustTransact(t, s, check(k1, 2), del(k3, store.AnyVersion))
	three := store.Item{Key: k3, Data: doc("v", 3)}
	one3 := store.Item{Key: k1, Data: doc("v", 3)}
	mustTransact(t, s, put(three, 0), put(one3, store.AnyVersion))
	mustTransact(t, s, del(k3, 1))
	twoAgain := store.Item{Key: k2, Data: doc("v", "again")}
	mustTransact(t, s, put(twoAgain, 0))

	want := map[store.Key][]store.Change{
		k1: {change(nil, itemPtr(one, 1)), change(itemPtr(one, 1), itemPtr(one2, 2)), change(itemPtr(one2, 2), itemPtr(one3, 3))},
		k2: {change(nil, itemPtr(two, 1)), change(itemPtr(two, 1), nil), change(nil, itemPtr(twoAgain, 1))},
		k3: {change(nil, itemPtr(three, 1)), change(itemPtr(three, 1), nil)},
	}
	got := c.awaitCounts(t, map[store.Key]int{k1: 3, k2: 3, k3: 2})
	for k, w := range want {
		assertChanges(t, k, got[k], w)
	}
}

func testFeedIgnoresFailedTransactions(t *testing.T, h FeedHarness) {
	s := h.Store
	fk, xk := key("p", "f"), key("p", "x")
	f := store.Item{Key: fk, Data: doc("v", 1)}
	mustTransact(t, s, put(f, 0))
	c := startFeed(t, h.Feed, nil)

	phantom := store.Item{Key: xk, Data: doc("phantom", true), GSI1: key("g", "x")}
	missing := key("p", "missing")
	err := s.Transact(t.Context(), []store.Write{put(phantom, 0), put(store.Item{Key: fk, Data: doc("phantom", true)}, 1), check(missing, 9)})
	assertConflict(t, err, 2, missing)
	invalid := []store.Write{put(phantom, 0), del(fk, 1), del(fk, 1)}
	if err := s.Transact(t.Context(), invalid); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("transaction touching one key twice: err = %v; want ErrInvalid", err)
	}

	real := store.Item{Key: xk, Data: doc("real", true)}
	f2 := store.Item{Key: fk, Data: doc("v", 2)}
	mustTransact(t, s, put(real, 0), put(f2, 1))
	got := c.awaitCounts(t, map[store.Key]int{xk: 1, fk: 2})
	assertChanges(t, xk, got[xk], []store.Change{change(nil, itemPtr(real, 1))})
	assertChanges(t, fk, got[fk], []store.Change{change(nil, itemPtr(f, 1)), change(itemPtr(f, 1), itemPtr(f2, 2))})
}

func testFeedRedelivers(t *testing.T, h FeedHarness) {
	s := h.Store
	rk, ok := key("p", "refused"), key("p", "ok")
	const refusals = 2
	var mu sync.Mutex
	refused := 0
	c := startFeed(t, h.Feed, func(changes []store.Change) error {
		mu.Lock()
		defer mu.Unlock()
		if refused < refusals && slices.ContainsFunc(changes, func(c store.Change) bool { return c.Key == rk }) {
			refused++
			return fmt.Errorf("handler refuses batch (%d)", refused)
		}
		return nil
	})
	r := store.Item{Key: rk, Data: doc("v", 1)}
	mustTransact(t, s, put(r, 0))
	r2 := store.Item{Key: rk, Data: doc("v", 2)}
	mustTransact(t, s, put(r2, 1))
	o := store.Item{Key: ok, Data: doc("v", 1)}
	mustTransact(t, s, put(o, 0))

	got := c.awaitCounts(t, map[store.Key]int{rk: 2, ok: 1})
	if n := c.timesOffered(rk); n < refusals+1 {
		t.Fatalf("changes of %s offered %d times; want at least %d (refused %d times, then accepted)", rk, n, refusals+1, refusals)
	}
	assertChanges(t, rk, collapse(got[rk]), []store.Change{change(nil, itemPtr(r, 1)), change(itemPtr(r, 1), itemPtr(r2, 2))})
	assertChanges(t, ok, collapse(got[ok]), []store.Change{change(nil, itemPtr(o, 1))})
}

func testFeedStops(t *testing.T, h FeedHarness) {
	blocked := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- h.Feed.Run(ctx, func(ctx context.Context, _ []store.Change) error {
			select {
			case blocked <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	mustTransact(t, h.Store, put(store.Item{Key: key("p", "a"), Data: doc()}, 0))
	select {
	case <-blocked:
	case <-time.After(feedTimeout):
		t.Fatalf("feed did not offer a committed change within %v", feedTimeout)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v; want nil or context.Canceled", err)
		}
	case <-time.After(feedTimeout):
		t.Fatalf("Run did not return within %v of its context ending while its handler waited on it", feedTimeout)
	}
}

func testExpiry(t *testing.T, h FeedHarness) {
	s := h.Store
	now := time.Unix(1_900_000_000, 0)
	past := store.Item{Key: key("task", "past"), Data: doc("s", "STOPPED"), GSI1: key("inst", "past"), ExpiresAt: now.Unix() - 100}
	due := store.Item{Key: key("task", "due"), Data: doc("s", "STOPPED"), GSI2: key("svc", "due"), ExpiresAt: now.Unix()}
	later := store.Item{Key: key("task", "later"), Data: doc("s", "STOPPED"), GSI1: key("inst", "later"), ExpiresAt: now.Unix() + 1}
	never := store.Item{Key: key("task", "never"), Data: doc("s", "RUNNING")}
	renewed := store.Item{Key: key("task", "renewed"), Data: doc("s", "STOPPED"), ExpiresAt: now.Unix() - 50}
	mustTransact(t, s, put(past, 0), put(due, 0), put(later, 0), put(never, 0), put(renewed, 0))
	renewed2 := renewed
	renewed2.Data, renewed2.ExpiresAt = doc("s", "RUNNING"), 0
	mustTransact(t, s, put(renewed2, 1))
	c := startFeed(t, h.Feed, nil)

	if err := h.Expire(t.Context(), now); err != nil {
		t.Fatalf("Expire: %v", err)
	}
	mustBeAbsent(t, s, past.Key)
	mustBeAbsent(t, s, due.Key)
	awaitQuery(t, s, store.Query{PK: "task"}, []store.Item{withVersion(later, 1), withVersion(never, 1), withVersion(renewed2, 2)})
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst"}, []store.Item{withVersion(later, 1)})
	awaitQuery(t, s, store.Query{Index: store.GSI2, PK: "svc"}, nil)

	// Write the survivors once more: a wrong deletion of one would show in
	// its changes before this write (and fail this write's condition).
	mustTransact(t, s, put(later, 1), put(never, 1), put(renewed2, 2))
	got := c.awaitCounts(t, map[store.Key]int{past.Key: 2, due.Key: 2, later.Key: 2, never.Key: 2, renewed.Key: 3})
	assertChanges(t, past.Key, got[past.Key], []store.Change{change(nil, itemPtr(past, 1)), change(itemPtr(past, 1), nil)})
	assertChanges(t, due.Key, got[due.Key], []store.Change{change(nil, itemPtr(due, 1)), change(itemPtr(due, 1), nil)})
	assertChanges(t, later.Key, got[later.Key], []store.Change{change(nil, itemPtr(later, 1)), change(itemPtr(later, 1), itemPtr(later, 2))})
	assertChanges(t, never.Key, got[never.Key], []store.Change{change(nil, itemPtr(never, 1)), change(itemPtr(never, 1), itemPtr(never, 2))})
	assertChanges(t, renewed.Key, got[renewed.Key], []store.Change{
		change(nil, itemPtr(renewed, 1)), change(itemPtr(renewed, 1), itemPtr(renewed2, 2)), change(itemPtr(renewed2, 2), itemPtr(renewed2, 3)),
	})
}

func testFeedResumes(t *testing.T, h FeedHarness) {
	if h.Reopen == nil {
		t.Fatal("RunFeedRestart needs FeedHarness.Reopen")
	}
	s := h.Store
	ak, bk, ck := key("p", "a"), key("p", "b"), key("p", "c")
	a := func(v int) store.Item { return store.Item{Key: ak, Data: doc("v", v)} }
	b := func(v int) store.Item { return store.Item{Key: bk, Data: doc("v", v)} }
	cItem := store.Item{Key: ck, Data: doc("v", 1)}

	first := startFeed(t, h.Feed, nil)
	for v := 1; v <= 3; v++ {
		mustTransact(t, s, put(a(v), int64(v-1)))
	}
	first.awaitCounts(t, map[store.Key]int{ak: 3})
	first.stop(t)

	// Committed while no consumer runs.
	mustTransact(t, s, put(a(4), 3), put(b(1), 0))
	// Offered to a consumer that fails it, then stops.
	refusing := startFeed(t, h.Feed, func([]store.Change) error { return errors.New("handler down") })
	mustTransact(t, s, put(cItem, 0))
	eventually(t, feedTimeout, "the refusing consumer is offered c", func() (bool, string) {
		return refusing.timesOffered(ck) > 0, "not yet"
	})
	refusing.stop(t)

	s2, feed2 := h.Reopen(t)
	assertItem(t, mustGet(t, s2, ak), withVersion(a(4), 4))
	second := startFeed(t, feed2, nil)
	mustTransact(t, s2, put(b(2), 1))
	got := second.awaitCounts(t, map[store.Key]int{ak: 1, bk: 2, ck: 1})

	all := first.byKey()
	for k, cs := range got {
		all[k] = append(all[k], cs...)
	}
	assertChanges(t, ak, collapse(all[ak]), []store.Change{
		change(nil, itemPtr(a(1), 1)), change(itemPtr(a(1), 1), itemPtr(a(2), 2)),
		change(itemPtr(a(2), 2), itemPtr(a(3), 3)), change(itemPtr(a(3), 3), itemPtr(a(4), 4)),
	})
	assertChanges(t, bk, collapse(got[bk]), []store.Change{change(nil, itemPtr(b(1), 1)), change(itemPtr(b(1), 1), itemPtr(b(2), 2))})
	assertChanges(t, ck, collapse(got[ck]), []store.Change{change(nil, itemPtr(cItem, 1))})
}
