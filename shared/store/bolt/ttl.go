package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-run/berth/shared/store"
)

// DeleteExpired deletes every item whose ExpiresAt is at or before now, as
// DynamoDB's TTL does eventually, and logs a deletion change for each (Old
// set, New nil). It works in transactions of a bounded size so writers are
// not held up, and returns how many items it deleted.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := s.deleteExpiredBatch(now.Unix())
		total += n
		if err != nil {
			return total, fmt.Errorf("delete expired items: %w", err)
		}
		if n < s.opts.ttlBatch {
			return total, nil
		}
	}
}

// deleteExpiredBatch deletes up to one batch of items expired at or before
// unix, reading the ttl bucket in the same transaction, so an item renewed
// concurrently is never deleted.
func (s *Store) deleteExpiredBatch(unix int64) (int, error) {
	var n int
	err := s.update(func(tx *bbolt.Tx) error {
		n = 0
		b := openBuckets(tx)
		var expired []store.Item
		c := b.ttl.Cursor()
		for k, _ := c.First(); k != nil && len(expired) < s.opts.ttlBatch; k, _ = c.Next() {
			if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > unix {
				break
			}
			key, err := decodeItemKey(k[8:])
			if err != nil {
				return fmt.Errorf("ttl entry %x: %w", k, err)
			}
			it, err := b.get(key)
			if err != nil {
				return err
			}
			if it == nil {
				return fmt.Errorf("ttl entry %x names a missing item", k)
			}
			expired = append(expired, *it)
		}
		changes := make([]store.Change, 0, len(expired))
		for i := range expired {
			if err := b.remove(expired[i]); err != nil {
				return err
			}
			changes = append(changes, store.Change{Key: expired[i].Key, Old: &expired[i]})
		}
		n = len(expired)
		return b.logChanges(changes)
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.signalChange()
	}
	return n, nil
}
