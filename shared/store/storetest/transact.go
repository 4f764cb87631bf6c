package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/berth-run/berth/shared/store"
)

// conflictFixture is a store holding two items, with a transaction that
// would create one item, replace one (moving its index entries), delete
// the other, and then fails on its last write.
type conflictFixture struct {
	replaced, deleted store.Item // as stored, at version 1
	created           store.Item
}

func newConflictFixture(t *testing.T, s store.Store) conflictFixture {
	f := conflictFixture{
		replaced: store.Item{Key: key("svc", "replaced"), Data: doc("n", 1), GSI1: key("g1", "old"), GSI2: key("g2", "r"), ExpiresAt: 4102444800},
		deleted:  store.Item{Key: key("svc", "deleted"), Data: doc("n", 2), GSI1: key("g1", "del")},
		created:  store.Item{Key: key("svc", "created"), Data: doc("n", 3), GSI1: key("g1", "new"), GSI2: key("g2", "c")},
	}
	mustTransact(t, s, put(f.replaced, 0), put(f.deleted, 0))
	f.replaced.Version, f.deleted.Version = 1, 1
	return f
}

func (f conflictFixture) writes(last store.Write) []store.Write {
	moved := f.replaced
	moved.Data, moved.GSI1, moved.GSI2 = doc("n", 10), key("g1", "moved"), store.Key{}
	return []store.Write{put(f.created, 0), put(moved, 1), del(f.deleted.Key, 1), last}
}

// assertUntouched checks that the failed transaction left no trace: items,
// versions and index entries are as before.
func (f conflictFixture) assertUntouched(t *testing.T, s store.Store) {
	t.Helper()
	mustBeAbsent(t, s, f.created.Key)
	assertItem(t, mustGet(t, s, f.replaced.Key), f.replaced)
	assertItem(t, mustGet(t, s, f.deleted.Key), f.deleted)
	awaitQuery(t, s, store.Query{PK: "svc"}, []store.Item{f.deleted, f.replaced})
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "g1"}, []store.Item{f.deleted, f.replaced})
	awaitQuery(t, s, store.Query{Index: store.GSI2, PK: "g2"}, []store.Item{f.replaced})
}

func testConditionFailures(t *testing.T, open func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		// last builds the failing write, given the fixture's items (version 1).
		last func(existing store.Key) store.Write
		key  store.Key
	}{
		{"put expecting absence of an existing item", func(k store.Key) store.Write {
			return put(store.Item{Key: k, Data: doc()}, 0)
		}, key("other", "existing")},
		{"put expecting the wrong version", func(k store.Key) store.Write {
			return put(store.Item{Key: k, Data: doc()}, 2)
		}, key("other", "existing")},
		{"put expecting a version of a missing item", func(store.Key) store.Write {
			return put(store.Item{Key: key("other", "missing"), Data: doc()}, 1)
		}, key("other", "missing")},
		{"delete expecting the wrong version", func(k store.Key) store.Write { return del(k, 7) }, key("other", "existing")},
		{"delete expecting a version of a missing item", func(store.Key) store.Write {
			return del(key("other", "missing"), 1)
		}, key("other", "missing")},
		{"check expecting absence of an existing item", func(k store.Key) store.Write { return check(k, 0) }, key("other", "existing")},
		{"check expecting the wrong version", func(k store.Key) store.Write { return check(k, 3) }, key("other", "existing")},
		{"check expecting a version of a missing item", func(store.Key) store.Write {
			return check(key("other", "missing"), 1)
		}, key("other", "missing")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			f := newConflictFixture(t, s)
			existing := key("other", "existing")
			mustTransact(t, s, put(store.Item{Key: existing, Data: doc()}, 0))
			err := s.Transact(t.Context(), f.writes(c.last(existing)))
			assertConflict(t, err, 3, c.key)
			f.assertUntouched(t, s)
			assertItem(t, mustGet(t, s, existing), store.Item{Key: existing, Data: doc(), Version: 1})
		})
	}
}

func testFirstFailingWrite(t *testing.T, s store.Store) {
	a, b := key("p", "a"), key("p", "b")
	mustTransact(t, s, put(store.Item{Key: a, Data: doc()}, 0), put(store.Item{Key: b, Data: doc()}, 0))
	err := s.Transact(t.Context(), []store.Write{
		check(a, 1),
		put(store.Item{Key: key("p", "c"), Data: doc()}, 0),
		put(store.Item{Key: b, Data: doc("x", 1)}, 5),
		check(key("p", "missing"), 1),
	})
	assertConflict(t, err, 2, b)
	err = s.Transact(t.Context(), []store.Write{del(a, 9), check(b, 9)})
	assertConflict(t, err, 0, a)
	mustBeAbsent(t, s, key("p", "c"))
}

func testTransactionLimits(t *testing.T, s store.Store) {
	writes := func(n int, pk string) []store.Write {
		w := make([]store.Write, n)
		for i := range w {
			w[i] = put(store.Item{Key: key(pk, fmt.Sprintf("%03d", i)), Data: doc("i", i), GSI1: key("g-"+pk, "x")}, 0)
		}
		return w
	}
	mustTransact(t, s, writes(store.MaxTransactItems, "full")...)
	if got := queryAll(t, s, store.Query{PK: "full"}); len(got) != store.MaxTransactItems {
		t.Fatalf("after a transaction of %d writes the partition holds %d items", store.MaxTransactItems, len(got))
	}
	err := s.Transact(t.Context(), writes(store.MaxTransactItems+1, "over"))
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("transaction of %d writes: err = %v; want ErrInvalid", store.MaxTransactItems+1, err)
	}
	if got := queryAll(t, s, store.Query{PK: "over"}); len(got) != 0 {
		t.Fatalf("a refused transaction wrote %d items", len(got))
	}
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "g-over"}, nil)
}

// testConcurrentIncrements has goroutines race to increment one counter with
// optimistic retries: every increment must land exactly once.
func testConcurrentIncrements(t *testing.T, s store.Store) {
	const workers, perWorker = 8, 25
	k := key("counter", "c")
	mustTransact(t, s, put(store.Item{Key: k, Data: counterDoc(0)}, 0))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				if err := increment(t, s, k); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := mustGet(t, s, k)
	if want := int64(workers*perWorker + 1); got.Version != want {
		t.Fatalf("counter version = %d; want %d", got.Version, want)
	}
	if n, err := counterValue(got.Data); err != nil || n != workers*perWorker {
		t.Fatalf("counter = %d (%v); want %d", n, err, workers*perWorker)
	}
}

func counterDoc(n int) []byte { return doc("n", n) }

func counterValue(data []byte) (int, error) {
	var v struct{ N int }
	err := json.Unmarshal(data, &v)
	return v.N, err
}

func increment(t *testing.T, s store.Store, k store.Key) error {
	for attempt := 0; attempt < 10_000; attempt++ {
		cur, err := s.Get(t.Context(), k)
		if err != nil {
			return fmt.Errorf("read counter: %w", err)
		}
		n, err := counterValue(cur.Data)
		if err != nil {
			return fmt.Errorf("decode counter %s: %w", cur.Data, err)
		}
		err = s.Transact(t.Context(), []store.Write{put(store.Item{Key: k, Data: counterDoc(n + 1)}, cur.Version)})
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("increment counter: %w", err)
		}
	}
	return errors.New("increment counter: still conflicting after 10000 attempts")
}
