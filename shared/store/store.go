package store

import (
	"context"
	"errors"
	"fmt"
)

// Key addresses an item: a partition key and a sort key within it.
type Key struct {
	PK string
	SK string
}

func (k Key) String() string { return k.PK + "|" + k.SK }

// Index names a secondary index. The base table is "".
type Index string

// The secondary indexes every adapter provides. Reads through them may lag
// writes slightly (DynamoDB GSIs are eventually consistent); reads of the
// base table are strongly consistent.
const (
	Base Index = ""
	GSI1 Index = "gsi1"
	GSI2 Index = "gsi2"
)

// Item is one stored document.
type Item struct {
	Key
	// Version is 1 after the item is created and grows by one with every
	// write; the store maintains it.
	Version int64
	// Data is the item's JSON document.
	Data []byte
	// GSI1 and GSI2 place the item in the secondary indexes; a zero Key
	// leaves it out of that index.
	GSI1 Key
	GSI2 Key
	// ExpiresAt is a Unix time in seconds after which the store may delete
	// the item (DynamoDB TTL); 0 means never. Until it is deleted, reads
	// still return it.
	ExpiresAt int64
}

// Op is the kind of a write in a transaction.
type Op int

// Write operations.
const (
	// Put writes Item (creating or replacing it) and bumps its version.
	Put Op = iota + 1
	// Delete removes the item at Key.
	Delete
	// Check only asserts Expect on the item at Key, writing nothing.
	Check
)

// AnyVersion as Write.Expect applies the write whatever the item's version,
// including when the item does not exist.
const AnyVersion int64 = -1

// Write is one operation in a transaction. Expect is the version the
// existing item must have for the transaction to commit: 0 means the item
// must not exist, AnyVersion means no condition.
type Write struct {
	Op     Op
	Item   Item // Put: the item to write; its Version is ignored
	Key    Key  // Delete and Check: the item's key
	Expect int64
}

// Target is the key the write applies to.
func (w Write) Target() Key {
	if w.Op == Put {
		return w.Item.Key
	}
	return w.Key
}

// Limits every adapter enforces, as DynamoDB does.
const (
	MaxTransactItems = 100
	MaxItemBytes     = 400 * 1024
	MaxPKBytes       = 2048
	MaxSKBytes       = 1024
)

// Query reads one partition of the base table or of an index, in sort-key
// order.
type Query struct {
	Index Index
	PK    string
	// Prefix keeps only sort keys that begin with it.
	Prefix string
	// Limit caps the items returned (0: no cap); a page may hold fewer.
	Limit int
	// Reverse reads in descending sort-key order.
	Reverse bool
	// Cursor continues a previous query; it is the opaque value that query returned.
	Cursor string
}

// Change is one committed write, as a change feed delivers it. Old is nil
// for a creation, New is nil for a deletion (including TTL expiry).
type Change struct {
	Key Key
	Old *Item
	New *Item
}

// Store is the port every adapter implements.
type Store interface {
	// Get reads one item, strongly consistently; ErrNotFound if absent.
	Get(ctx context.Context, key Key) (Item, error)
	// BatchGet reads up to 100 distinct keys strongly consistently and
	// returns the items that exist, in the order of keys; duplicate keys are
	// ErrInvalid, as in DynamoDB.
	BatchGet(ctx context.Context, keys []Key) ([]Item, error)
	// Query reads a page of one partition; next is "" on the last page.
	Query(ctx context.Context, q Query) (items []Item, next string, err error)
	// Transact applies up to 100 writes to distinct keys atomically: all
	// conditions hold and every write commits, or nothing does and the error
	// is a *ConflictError naming the first write whose condition failed.
	Transact(ctx context.Context, writes []Write) error
}

// ChangeFeed delivers the store's committed writes to a handler, at least
// once, in commit order for each key, until ctx ends (Run then returns
// ctx.Err()). A batch the handler fails is delivered again.
type ChangeFeed interface {
	Run(ctx context.Context, handle func(ctx context.Context, changes []Change) error) error
}

// Errors adapters return; test with errors.Is.
var (
	ErrNotFound = errors.New("item not found")
	ErrConflict = errors.New("condition failed")
	ErrInvalid  = errors.New("invalid store request")
	ErrTooLarge = errors.New("item too large")
	// ErrThrottled means the backend refused the request for lack of
	// capacity even after retries; callers may retry later.
	ErrThrottled = errors.New("store throttled")
)

// ConflictError reports which write of a transaction had its condition fail.
type ConflictError struct {
	Index int
	Key   Key
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("write %d (%s): %v", e.Index, e.Key, ErrConflict)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ValidateWrites applies the transaction rules every adapter shares: 1-100
// writes, distinct keys, known operations, non-empty keys, bounded items.
func ValidateWrites(writes []Write) error {
	if len(writes) == 0 || len(writes) > MaxTransactItems {
		return fmt.Errorf("%w: a transaction holds 1-%d writes, got %d", ErrInvalid, MaxTransactItems, len(writes))
	}
	seen := make(map[Key]bool, len(writes))
	for i, w := range writes {
		k := w.Target()
		if k.PK == "" || k.SK == "" {
			return fmt.Errorf("%w: write %d has an empty key", ErrInvalid, i)
		}
		if seen[k] {
			return fmt.Errorf("%w: write %d touches %s twice in one transaction", ErrInvalid, i, k)
		}
		seen[k] = true
		if err := checkKeyLimits(i, k); err != nil {
			return err
		}
		switch w.Op {
		case Put:
			if size := ItemSize(w.Item); size > MaxItemBytes {
				return fmt.Errorf("%w: write %d (%s) is %d bytes, over %d", ErrTooLarge, i, k, size, MaxItemBytes)
			}
			if err := checkIndexKeys(i, w.Item); err != nil {
				return err
			}
		case Delete, Check:
		default:
			return fmt.Errorf("%w: write %d has unknown op %d", ErrInvalid, i, w.Op)
		}
		if w.Expect < AnyVersion {
			return fmt.Errorf("%w: write %d expects version %d", ErrInvalid, i, w.Expect)
		}
	}
	return nil
}

func checkKeyLimits(i int, keys ...Key) error {
	for _, k := range keys {
		if len(k.PK) > MaxPKBytes || len(k.SK) > MaxSKBytes {
			return fmt.Errorf("%w: write %d has a key over DynamoDB's limits (%d-byte partition, %d-byte sort key)", ErrInvalid, i, MaxPKBytes, MaxSKBytes)
		}
	}
	return nil
}

// checkIndexKeys refuses half-set index keys: an item is in an index with
// both keys or not at all (a sparse GSI).
func checkIndexKeys(i int, it Item) error {
	for n, k := range []Key{it.GSI1, it.GSI2} {
		if (k.PK == "") != (k.SK == "") {
			return fmt.Errorf("%w: write %d sets only one key of gsi%d", ErrInvalid, i, n+1)
		}
	}
	return checkKeyLimits(i, it.GSI1, it.GSI2)
}

// ItemSize approximates DynamoDB's item size: attribute names and values.
func ItemSize(it Item) int {
	return len("PKSKvdGSI1PKGSI1SKGSI2PKGSI2SKttl") + len(it.PK) + len(it.SK) + len(it.Data) +
		len(it.GSI1.PK) + len(it.GSI1.SK) + len(it.GSI2.PK) + len(it.GSI2.SK) + 16
}
