package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-run/berth/shared/store"
)

// maxGroupWrites bounds how many writes one group commit carries, so a
// burst of callers cannot build an unboundedly large bbolt transaction.
const maxGroupWrites = 1000

// A request is one Transact call waiting for the committer.
type request struct {
	writes []store.Write
	// state moves from pending to either claimed (the committer runs it) or
	// abandoned (the caller's context ended first, so it must not run).
	state atomic.Int32
	reply chan error
}

const (
	pending int32 = iota
	claimed
	abandoned
)

// Transact applies writes atomically under their conditions.
func (s *Store) Transact(ctx context.Context, writes []store.Write) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validateWrites(writes); err != nil {
		return fmt.Errorf("transact: %w", err)
	}
	if s.opts.directCommit {
		return s.transactDirect(writes)
	}
	r := &request{writes: writes, reply: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("transact: %w", ErrClosed)
	}
	select {
	case s.queue <- r:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(pending, abandoned) {
			return ctx.Err()
		}
		// The committer has it: its outcome is the truth, and it is near.
		return <-r.reply
	}
}

// transactDirect commits one transaction alone, without group commit; kept
// to measure what group commit buys.
func (s *Store) transactDirect(writes []store.Write) error {
	var changed bool
	err := s.update(func(tx *bbolt.Tx) error {
		changes, err := applyWrites(tx, writes)
		changed = len(changes) > 0
		return err
	})
	if err != nil {
		return transactError(err)
	}
	if changed {
		s.signalChange()
	}
	return nil
}

func transactError(err error) error {
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return err
	}
	return fmt.Errorf("transact: %w", err)
}

// validateWrites adds to the port's shared rules the key limits DynamoDB
// enforces, which also keep every bbolt key far below its 32 KiB bound.
func validateWrites(writes []store.Write) error {
	if err := store.ValidateWrites(writes); err != nil {
		return err
	}
	for i, w := range writes {
		if err := validateKey(w.Target()); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		if w.Op != store.Put {
			continue
		}
		for _, ik := range [...]store.Key{w.Item.GSI1, w.Item.GSI2} {
			if len(ik.PK) > MaxPartitionKeyBytes || len(ik.SK) > MaxSortKeyBytes {
				return fmt.Errorf("write %d: %w: index key of %s is over %d bytes (partition) or %d bytes (sort)",
					i, store.ErrInvalid, w.Item.Key, MaxPartitionKeyBytes, MaxSortKeyBytes)
			}
		}
	}
	return nil
}

// commitLoop is the single committer. It takes every request waiting when
// it becomes free and commits them in one bbolt transaction, so concurrent
// callers share one fsync instead of queueing for one each. A lone caller
// pays no extra latency: nothing waits for a group to fill.
func (s *Store) commitLoop() {
	defer close(s.committed)
	for first := range s.queue {
		group := []*request{first}
		n := len(first.writes)
	drain:
		for n < maxGroupWrites {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break drain
				}
				group = append(group, r)
				n += len(r.writes)
			default:
				break drain
			}
		}
		s.commitGroup(group)
	}
}

func (s *Store) commitGroup(group []*request) {
	runnable := group[:0]
	for _, r := range group {
		if r.state.CompareAndSwap(pending, claimed) {
			runnable = append(runnable, r)
		}
	}
	for len(runnable) > 0 {
		outcomes := make([]error, len(runnable))
		failed := -1
		changed := false
		err := s.update(func(tx *bbolt.Tx) error {
			for i, r := range runnable {
				changes, err := applyWrites(tx, r.writes)
				var conflict *store.ConflictError
				switch {
				case errors.As(err, &conflict):
					// applyWrites checks every condition before its first
					// write, so a conflict leaves nothing to undo.
					outcomes[i] = err
				case err != nil:
					failed = i
					return err
				}
				changed = changed || len(changes) > 0
			}
			return nil
		})
		if failed >= 0 {
			// An unexpected failure poisons the bbolt transaction; fail only
			// its request and commit the rest without it.
			runnable[failed].reply <- transactError(err)
			runnable = append(runnable[:failed], runnable[failed+1:]...)
			continue
		}
		if err == nil && changed {
			s.signalChange()
		}
		for i, r := range runnable {
			if err != nil {
				r.reply <- transactError(err)
				continue
			}
			r.reply <- outcomes[i]
		}
		return
	}
}

// signalChange wakes the feed without blocking; one pending token is
// enough, as the feed reads everything new when it wakes.
func (s *Store) signalChange() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// applyWrites checks all conditions, then applies all writes and logs one
// change per written item. It writes nothing when a condition fails.
func applyWrites(tx *bbolt.Tx, writes []store.Write) ([]store.Change, error) {
	b := openBuckets(tx)
	olds := make([]*store.Item, len(writes))
	for i, w := range writes {
		old, err := b.get(w.Target())
		if err != nil {
			return nil, err
		}
		if !conditionHolds(w.Expect, old) {
			return nil, &store.ConflictError{Index: i, Key: w.Target()}
		}
		olds[i] = old
	}
	changes := make([]store.Change, 0, len(writes))
	for i, w := range writes {
		old := olds[i]
		switch w.Op {
		case store.Put:
			next := w.Item
			next.Version = 1
			if old != nil {
				next.Version = old.Version + 1
			}
			if err := b.put(old, next); err != nil {
				return nil, err
			}
			changes = append(changes, store.Change{Key: next.Key, Old: old, New: &next})
		case store.Delete:
			if old == nil {
				// Like DynamoDB, deleting nothing changes nothing and
				// emits no change record.
				continue
			}
			if err := b.remove(*old); err != nil {
				return nil, err
			}
			changes = append(changes, store.Change{Key: old.Key, Old: old})
		}
	}
	if err := b.logChanges(changes); err != nil {
		return nil, err
	}
	return changes, nil
}

func conditionHolds(expect int64, old *store.Item) bool {
	switch {
	case expect == store.AnyVersion:
		return true
	case expect == 0:
		return old == nil
	default:
		return old != nil && old.Version == expect
	}
}

// buckets are one write transaction's buckets, with the index upkeep that
// keeps them consistent with the items bucket.
type buckets struct {
	items, gsi1, gsi2, ttl, changes *bbolt.Bucket
}

func openBuckets(tx *bbolt.Tx) buckets {
	return buckets{
		items:   tx.Bucket(bucketItems),
		gsi1:    tx.Bucket(bucketGSI1),
		gsi2:    tx.Bucket(bucketGSI2),
		ttl:     tx.Bucket(bucketTTL),
		changes: tx.Bucket(bucketChanges),
	}
}

func (b buckets) get(k store.Key) (*store.Item, error) {
	v := b.items.Get(itemKey(k))
	if v == nil {
		return nil, nil
	}
	it, err := decodeItem(v)
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", k, err)
	}
	return &it, nil
}

// put stores next in place of old (nil when creating it) and moves its
// index and ttl entries to match.
func (b buckets) put(old *store.Item, next store.Item) error {
	if err := b.items.Put(itemKey(next.Key), encodeItem(next)); err != nil {
		return fmt.Errorf("put item %s: %w", next.Key, err)
	}
	var prev store.Item
	if old != nil {
		prev = *old
	}
	if err := moveEntry(b.gsi1, indexEntry(prev.GSI1, prev.Key), indexEntry(next.GSI1, next.Key)); err != nil {
		return fmt.Errorf("index gsi1 of %s: %w", next.Key, err)
	}
	if err := moveEntry(b.gsi2, indexEntry(prev.GSI2, prev.Key), indexEntry(next.GSI2, next.Key)); err != nil {
		return fmt.Errorf("index gsi2 of %s: %w", next.Key, err)
	}
	if err := moveEntry(b.ttl, ttlEntry(prev), ttlEntry(next)); err != nil {
		return fmt.Errorf("ttl entry of %s: %w", next.Key, err)
	}
	return nil
}

// remove deletes old and its index and ttl entries.
func (b buckets) remove(old store.Item) error {
	if err := b.items.Delete(itemKey(old.Key)); err != nil {
		return fmt.Errorf("delete item %s: %w", old.Key, err)
	}
	if err := moveEntry(b.gsi1, indexEntry(old.GSI1, old.Key), nil); err != nil {
		return fmt.Errorf("index gsi1 of %s: %w", old.Key, err)
	}
	if err := moveEntry(b.gsi2, indexEntry(old.GSI2, old.Key), nil); err != nil {
		return fmt.Errorf("index gsi2 of %s: %w", old.Key, err)
	}
	if err := moveEntry(b.ttl, ttlEntry(old), nil); err != nil {
		return fmt.Errorf("ttl entry of %s: %w", old.Key, err)
	}
	return nil
}

// indexEntry is the item's entry in an index, or nil if it is not in it.
func indexEntry(ik, base store.Key) []byte {
	if base.PK == "" || !inIndex(ik) {
		return nil
	}
	return indexKey(ik, base)
}

// ttlEntry is the item's entry in the ttl bucket, or nil if it never expires.
func ttlEntry(it store.Item) []byte {
	if it.PK == "" || it.ExpiresAt <= 0 {
		return nil
	}
	return ttlKey(it.ExpiresAt, it.Key)
}

// moveEntry replaces the empty-valued entry from with to; either may be nil.
func moveEntry(b *bbolt.Bucket, from, to []byte) error {
	if string(from) == string(to) {
		return nil
	}
	if from != nil {
		if err := b.Delete(from); err != nil {
			return err
		}
	}
	if to != nil {
		return b.Put(to, []byte{})
	}
	return nil
}

// logChanges appends the changes to the change log under increasing
// sequence numbers. bbolt's bucket sequence never goes back, even after the
// feed deletes delivered records.
func (b buckets) logChanges(changes []store.Change) error {
	for _, c := range changes {
		seq, err := b.changes.NextSequence()
		if err != nil {
			return fmt.Errorf("change log sequence: %w", err)
		}
		if err := b.changes.Put(seqKey(seq), encodeChange(c)); err != nil {
			return fmt.Errorf("log change %d of %s: %w", seq, c.Key, err)
		}
	}
	return nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
