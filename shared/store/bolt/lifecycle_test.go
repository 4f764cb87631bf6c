package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

func put(it store.Item, expect int64) store.Write {
	return store.Write{Op: store.Put, Item: it, Expect: expect}
}

func mustTransact(t testing.TB, s *bolt.Store, writes ...store.Write) {
	t.Helper()
	if err := s.Transact(context.Background(), writes); err != nil {
		t.Fatalf("Transact: %v", err)
	}
}

func mustCheck(t testing.TB, s *bolt.Store) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func pending(t testing.TB, s *bolt.Store) int {
	t.Helper()
	n, err := s.Feed().Pending()
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	return n
}

// deliverAll runs the feed until it has handed over n changes, then stops it.
func deliverAll(t testing.TB, s *bolt.Store, n int) []store.Change {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []store.Change
	all := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Feed().Run(ctx, func(_ context.Context, cs []store.Change) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, cs...)
			if len(got) >= n {
				select {
				case <-all:
				default:
					close(all)
				}
			}
			return nil
		})
	}()
	select {
	case <-all:
	case err := <-done:
		t.Fatalf("feed stopped early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatalf("feed delivered fewer than %d changes", n)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

func TestReopenKeepsItemsIndexesTTLAndFeedCursor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := bolt.Open(path, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	a := store.Item{Key: store.Key{PK: "p", SK: "a"}, Data: []byte(`{"a":1}`), GSI1: store.Key{PK: "g", SK: "1"}, ExpiresAt: 100}
	b := store.Item{Key: store.Key{PK: "p", SK: "b"}, Data: []byte(`{"b":1}`), GSI2: store.Key{PK: "h", SK: "1"}}
	mustTransact(t, s, put(a, 0), put(b, 0))
	if got := deliverAll(t, s, 2); len(got) != 2 {
		t.Fatalf("first feed run delivered %d changes; want 2", len(got))
	}
	if n := pending(t, s); n != 0 {
		t.Fatalf("%d delivered changes still in the log; want them deleted", n)
	}
	mustTransact(t, s, put(b, 1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path)
	mustCheck(t, s)
	got, err := s.Get(context.Background(), a.Key)
	if err != nil || got.Version != 1 || string(got.Data) != `{"a":1}` || got.GSI1 != a.GSI1 || got.ExpiresAt != 100 {
		t.Fatalf("after reopen Get(a) = %+v, %v", got, err)
	}
	items, _, err := s.Query(context.Background(), store.Query{Index: store.GSI2, PK: "h"})
	if err != nil || len(items) != 1 || items[0].Version != 2 {
		t.Fatalf("after reopen gsi2 query = %+v, %v; want b at version 2", items, err)
	}
	// Only the change made after the last delivery is left to deliver.
	if n := pending(t, s); n != 1 {
		t.Fatalf("after reopen %d changes pending; want 1", n)
	}
	if n, err := s.DeleteExpired(context.Background(), time.Unix(100, 0)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired after reopen = %d, %v; want 1", n, err)
	}
	changes := deliverAll(t, s, 2)
	if len(changes) != 2 || changes[0].Key != b.Key || changes[0].New.Version != 2 ||
		changes[1].Key != a.Key || changes[1].New != nil || changes[1].Old.Version != 1 {
		t.Fatalf("after reopen the feed delivered %+v; want b's update, then a's expiry", changes)
	}
	mustCheck(t, s)
}

func TestCloseIsFinalAndIdempotent(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"), testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() {
		runDone <- s.Feed().Run(context.Background(), func(context.Context, []store.Change) error { return nil })
	}()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case err := <-runDone:
		if !errors.Is(err, bolt.ErrClosed) {
			t.Fatalf("Run after Close returned %v; want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after Close")
	}
	ctx := context.Background()
	k := store.Key{PK: "p", SK: "a"}
	if err := s.Transact(ctx, []store.Write{put(store.Item{Key: k, Data: []byte(`{}`)}, 0)}); !errors.Is(err, bolt.ErrClosed) {
		t.Errorf("Transact after Close: %v; want ErrClosed", err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, bolt.ErrClosed) {
		t.Errorf("Get after Close: %v; want ErrClosed", err)
	}
	if _, _, err := s.Query(ctx, store.Query{PK: "p"}); !errors.Is(err, bolt.ErrClosed) {
		t.Errorf("Query after Close: %v; want ErrClosed", err)
	}
	if _, err := s.DeleteExpired(ctx, time.Now()); !errors.Is(err, bolt.ErrClosed) {
		t.Errorf("DeleteExpired after Close: %v; want ErrClosed", err)
	}
	if err := s.Feed().Run(ctx, nil); !errors.Is(err, bolt.ErrClosed) {
		t.Errorf("Run after Close: %v; want ErrClosed", err)
	}
}

// TestCloseUnderLoad closes the store while writers and the feed are busy:
// every write acknowledged before Close is in the reopened file, every
// later one is refused with ErrClosed, and the file is consistent.
func TestCloseUnderLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := bolt.Open(path, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 6
	acked := make([]int, writers) // per writer: the last version acknowledged
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			item := store.Item{Key: store.Key{PK: "load", SK: fmt.Sprint(w)}, GSI1: store.Key{PK: "g", SK: fmt.Sprint(w)}}
			for v := 1; ; v++ {
				item.Data = fmt.Appendf(nil, `{"v":%d}`, v)
				err := s.Transact(context.Background(), []store.Write{put(item, int64(v-1))})
				if errors.Is(err, bolt.ErrClosed) {
					return
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d version %d: %w", w, v, err)
					return
				}
				acked[w] = v
			}
		}()
	}
	feedDone := make(chan error, 1)
	go func() {
		feedDone <- s.Feed().Run(context.Background(), func(context.Context, []store.Change) error { return nil })
	}()
	// Let every writer land some writes before closing.
	deadline := time.Now().Add(20 * time.Second)
	for {
		items, _, err := s.Query(context.Background(), store.Query{PK: "load"})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == writers && minVersion(items) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writers made too little progress: %d items", len(items))
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close under load: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := <-feedDone; !errors.Is(err, bolt.ErrClosed) {
		t.Fatalf("feed Run returned %v; want ErrClosed", err)
	}

	s = openAt(t, path)
	mustCheck(t, s)
	for w, v := range acked {
		got, err := s.Get(context.Background(), store.Key{PK: "load", SK: fmt.Sprint(w)})
		if err != nil || got.Version != int64(v) {
			t.Fatalf("writer %d: reopened item %+v, %v; want version %d", w, got, err, v)
		}
	}
}

func minVersion(items []store.Item) int64 {
	m := items[0].Version
	for _, it := range items {
		m = min(m, it.Version)
	}
	return m
}

func TestSecondOpenOfALockedFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	openAt(t, path)
	s, err := bolt.Open(path, testOptions(bolt.WithLockTimeout(50*time.Millisecond))...)
	if err == nil {
		_ = s.Close()
		t.Fatal("a second Open of a file in use succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the file", err)
	}
}

func TestUnknownFileFormatIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := bolt.Open(path, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("99")) })
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	if s, err := bolt.Open(path, testOptions()...); err == nil {
		_ = s.Close()
		t.Fatal("Open accepted a file of an unknown format")
	}
}

func TestInvalidOptionsAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	for _, opt := range []bolt.Option{bolt.WithFeedBatch(0), bolt.WithTTLBatch(-1), bolt.WithFeedBackoff(time.Second, time.Millisecond)} {
		if s, err := bolt.Open(path, opt); !errors.Is(err, store.ErrInvalid) {
			if s != nil {
				_ = s.Close()
			}
			t.Errorf("Open with a bad option: err = %v; want ErrInvalid", err)
		}
	}
}

func TestDeleteExpiredWorksInBatches(t *testing.T) {
	s := openTemp(t, bolt.WithTTLBatch(7))
	const expired, kept = 50, 5
	var writes []store.Write
	for i := range expired + kept {
		ttl := int64(1000 + i) // the first 50 expire at or before 1049
		writes = append(writes, put(store.Item{Key: store.Key{PK: "t", SK: fmt.Sprintf("%03d", i)}, Data: []byte(`{}`), ExpiresAt: ttl, GSI1: store.Key{PK: "g", SK: "x"}}, 0))
	}
	mustTransact(t, s, writes...)
	n, err := s.DeleteExpired(context.Background(), time.Unix(1000+expired-1, 999_000_000))
	if err != nil || n != expired {
		t.Fatalf("DeleteExpired = %d, %v; want %d", n, err, expired)
	}
	items, _, err := s.Query(context.Background(), store.Query{Index: store.GSI1, PK: "g"})
	if err != nil || len(items) != kept {
		t.Fatalf("after expiry the index holds %d items (%v); want %d", len(items), err, kept)
	}
	if p := pending(t, s); p != expired+kept+expired {
		t.Fatalf("change log holds %d records; want %d creations and %d deletions", p, expired+kept, expired)
	}
	if n, err := s.DeleteExpired(context.Background(), time.Unix(1000+expired-1, 0)); err != nil || n != 0 {
		t.Fatalf("second DeleteExpired = %d, %v; want 0", n, err)
	}
	mustCheck(t, s)
}

func TestQueryPagesAreCappedBySize(t *testing.T) {
	s := openTemp(t)
	blob := strings.Repeat("x", 200*1024)
	for i := range 8 {
		mustTransact(t, s, put(store.Item{Key: store.Key{PK: "big", SK: fmt.Sprint(i)}, Data: fmt.Appendf(nil, `{"b":%q}`, blob)}, 0))
	}
	page, next, err := s.Query(context.Background(), store.Query{PK: "big"})
	if err != nil || len(page) >= 8 || len(page) == 0 || next == "" {
		t.Fatalf("unlimited query of 1.6 MB: page of %d items, cursor %q, %v; want a partial page and a cursor", len(page), next, err)
	}
}

func TestFeedRefusesASecondConsumer(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Feed().Run(ctx, func(context.Context, []store.Change) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	mustTransact(t, s, put(store.Item{Key: store.Key{PK: "p", SK: "a"}, Data: []byte(`{}`)}, 0))
	<-started
	if err := s.Feed().Run(ctx, func(context.Context, []store.Change) error { return nil }); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("second Run: %v; want ErrInvalid", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("first Run: %v; want context.Canceled", err)
	}
}
