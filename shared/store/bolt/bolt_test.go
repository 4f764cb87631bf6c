package bolt_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
	"github.com/berth-run/berth/shared/store/storetest"
)

// testOptions keep feed retries quick and logs quiet.
func testOptions(extra ...bolt.Option) []bolt.Option {
	return append([]bolt.Option{
		bolt.WithFeedBackoff(time.Millisecond, 20*time.Millisecond),
		bolt.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, extra...)
}

func openAt(t testing.TB, path string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, testOptions(opts...)...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func openTemp(t testing.TB, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "berth.db"), opts...)
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestContractWithoutGroupCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, bolt.WithDirectCommit()) })
}

func harness(t *testing.T) storetest.FeedHarness {
	path := filepath.Join(t.TempDir(), "berth.db")
	s := openAt(t, path)
	return storetest.FeedHarness{
		Store: s,
		Feed:  s.Feed(),
		Expire: func(ctx context.Context, now time.Time) error {
			_, err := s.DeleteExpired(ctx, now)
			return err
		},
		Reopen: func(t *testing.T) (store.Store, store.ChangeFeed) {
			if err := s.Close(); err != nil {
				t.Fatalf("Close before reopening: %v", err)
			}
			s2 := openAt(t, path)
			return s2, s2.Feed()
		},
	}
}

func TestFeedContract(t *testing.T) {
	storetest.RunFeed(t, harness)
	storetest.RunFeedRestart(t, harness)
}

func TestFeedContractSmallBatches(t *testing.T) {
	storetest.RunFeed(t, func(t *testing.T) storetest.FeedHarness {
		s := openTemp(t, bolt.WithFeedBatch(1), bolt.WithTTLBatch(1))
		return storetest.FeedHarness{
			Store: s,
			Feed:  s.Feed(),
			Expire: func(ctx context.Context, now time.Time) error {
				_, err := s.DeleteExpired(ctx, now)
				return err
			},
		}
	})
}
