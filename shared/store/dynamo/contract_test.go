package dynamo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
	"github.com/berth-run/berth/shared/store/storetest"
)

// quiet keeps retries quick and logs out of the test output.
func quiet(extra ...dynamo.Option) []dynamo.Option {
	return append([]dynamo.Option{
		dynamo.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		dynamo.WithBackoff(time.Millisecond, 20*time.Millisecond),
	}, extra...)
}

// fastFeed polls often, so the contract's waits stay short.
var fastFeed = []dynamo.FeedOption{
	dynamo.WithPollInterval(10 * time.Millisecond),
	dynamo.WithFeedBackoff(5*time.Millisecond, 50*time.Millisecond),
}

func newStore(t testing.TB, opts ...dynamo.Option) (*dynamotest.Server, *dynamo.Store) {
	t.Helper()
	srv := dynamotest.Shared(t)
	return srv, dynamotest.NewStore(t, srv, quiet(opts...)...)
}

// TestContract runs the Store contract on tables without a stream: the
// contract never reads one, and moto slows every write by the length of a
// stream's history (see dynamotest.NewStoreWithoutStream). The feed
// contract and the adapter's own tests use the full layout.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return dynamotest.NewStoreWithoutStream(t, dynamotest.Shared(t), quiet()...)
	})
}

func harness(t *testing.T) storetest.FeedHarness {
	srv, s := newStore(t)
	feed := func(s *dynamo.Store) *dynamo.Feed {
		return dynamo.NewFeed(s, srv.Streams(), "publisher", fastFeed...)
	}
	return storetest.FeedHarness{
		Store: s,
		Feed:  feed(s),
		Expire: func(ctx context.Context, now time.Time) error {
			_, err := s.DeleteExpired(ctx, now)
			return err
		},
		Reopen: func(t *testing.T) (store.Store, store.ChangeFeed) {
			// A new process: a new client and adapter on the same table.
			s2 := dynamo.New(srv.DynamoDB(), s.Table(), quiet()...)
			return s2, feed(s2)
		},
	}
}

func TestFeedContract(t *testing.T) {
	storetest.RunFeed(t, harness)
	storetest.RunFeedRestart(t, harness)
}
