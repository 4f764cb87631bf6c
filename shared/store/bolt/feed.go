package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-run/berth/shared/store"
)

var _ store.ChangeFeed = (*Feed)(nil)

// Feed delivers the store's change log. Each store has one: delivered
// records are deleted, so there is a single consumer, whose cursor lives in
// the file beside the log.
type Feed struct {
	s       *Store
	running atomic.Bool
}

// Feed returns the store's change feed.
func (s *Store) Feed() *Feed { return &s.feed }

// Run hands batches of changes to handle in commit order until ctx ends.
// A batch counts as delivered only when handle returns nil: then the
// cursor moves past it and its records are deleted, in one transaction.
// A failed batch is offered again after a back-off, so delivery is at
// least once. Run returns ctx's error when ctx ends, ErrClosed when the
// store closes, and refuses to run twice at once.
func (f *Feed) Run(ctx context.Context, handle func(ctx context.Context, changes []store.Change) error) error {
	if !f.running.CompareAndSwap(false, true) {
		return fmt.Errorf("change feed: %w: already running", store.ErrInvalid)
	}
	defer f.running.Store(false)
	s := f.s
	backoff := s.opts.minBackoff
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		changes, last, err := f.next()
		if err != nil {
			return fmt.Errorf("change feed: %w", err)
		}
		if len(changes) == 0 {
			if err := f.waitForCommit(ctx); err != nil {
				return err
			}
			continue
		}
		if err := handle(ctx, changes); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("change feed handler failed; redelivering after back-off",
				"changes", len(changes), "last_seq", last, "backoff", backoff, "err", err)
			if err := f.sleep(ctx, backoff); err != nil {
				return err
			}
			backoff = min(2*backoff, s.opts.maxBackoff)
			continue
		}
		backoff = s.opts.minBackoff
		if err := f.ack(last); err != nil {
			return fmt.Errorf("change feed: %w", err)
		}
	}
}

func (f *Feed) waitForCommit(ctx context.Context) error {
	select {
	case <-f.s.changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-f.s.done:
		return ErrClosed
	}
}

func (f *Feed) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-f.s.done:
		return ErrClosed
	}
}

// next reads the oldest undelivered changes, up to the batch size, and the
// sequence of the last one.
func (f *Feed) next() ([]store.Change, uint64, error) {
	var changes []store.Change
	var last uint64
	err := f.s.view(func(tx *bbolt.Tx) error {
		from := feedCursor(tx) + 1
		c := tx.Bucket(bucketChanges).Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil && len(changes) < f.s.opts.feedBatch; k, v = c.Next() {
			ch, err := decodeChange(v)
			if err != nil {
				return fmt.Errorf("change %x: %w", k, err)
			}
			changes = append(changes, ch)
			last = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, 0, ErrClosed
	}
	return changes, last, err
}

func feedCursor(tx *bbolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(metaFeedCursor)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// ack records that every change up to last was delivered and deletes them.
func (f *Feed) ack(last uint64) error {
	return f.s.update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(metaFeedCursor, seqKey(last)); err != nil {
			return fmt.Errorf("save cursor %d: %w", last, err)
		}
		c := tx.Bucket(bucketChanges).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= last; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return fmt.Errorf("delete change %x: %w", k, err)
			}
		}
		return nil
	})
}

// Pending counts changes committed but not yet delivered.
func (f *Feed) Pending() (int, error) {
	var n int
	err := f.s.view(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketChanges).Stats().KeyN
		return nil
	})
	return n, err
}
