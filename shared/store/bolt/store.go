package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/berth-run/berth/shared/store"
)

var _ store.Store = (*Store)(nil)

// ErrClosed is returned by every operation on a closed Store.
var ErrClosed = errors.New("bolt store closed")

// Key size limits, as DynamoDB's: a partition key (of the table or an index)
// holds at most 2048 bytes and a sort key at most 1024.
const (
	MaxPartitionKeyBytes = 2048
	MaxSortKeyBytes      = 1024
)

// maxPageBytes caps a query page like DynamoDB's 1 MB response limit, so an
// unlimited query of a huge partition cannot hold it all in memory.
const maxPageBytes = 1 << 20

var (
	bucketItems   = []byte("items")
	bucketGSI1    = []byte("gsi1")
	bucketGSI2    = []byte("gsi2")
	bucketTTL     = []byte("ttl")
	bucketChanges = []byte("changes")
	bucketMeta    = []byte("meta")

	metaFormat     = []byte("format")
	metaFeedCursor = []byte("feed.cursor")
)

// fileFormat is the bucket layout this code reads and writes (see doc.go).
const fileFormat = "1"

// Store is the embedded Store adapter: one bbolt file.
type Store struct {
	db   *bbolt.DB
	opts options
	log  *slog.Logger

	// mu guards closed and orders submissions to the committer with Close.
	mu        sync.RWMutex
	closed    bool
	done      chan struct{} // closed by Close
	queue     chan *request
	committed chan struct{} // committer has exited

	// changed holds a token when the change log may have grown since the
	// feed last looked; the feed waits on it instead of polling.
	changed chan struct{}
	feed    Feed
}

type options struct {
	logger       *slog.Logger
	lockTimeout  time.Duration
	feedBatch    int
	minBackoff   time.Duration
	maxBackoff   time.Duration
	ttlBatch     int
	directCommit bool
}

// Option configures Open.
type Option func(*options)

// WithLogger sets the logger for feed retries and the like (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithLockTimeout bounds the wait for another process's lock on the file (default 5s).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithFeedBatch caps how many changes the feed hands over at once (default 100).
func WithFeedBatch(n int) Option { return func(o *options) { o.feedBatch = n } }

// WithFeedBackoff sets the wait before a failed batch is delivered again: it
// starts at min and doubles up to max (defaults 100ms and 10s).
func WithFeedBackoff(min, max time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = min, max }
}

// WithTTLBatch caps how many expired items DeleteExpired removes per
// transaction (default 100), so expiry never holds the writer lock long.
func WithTTLBatch(n int) Option { return func(o *options) { o.ttlBatch = n } }

// Open opens or creates the store file at path.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{
		logger:      slog.Default(),
		lockTimeout: 5 * time.Second,
		feedBatch:   100,
		minBackoff:  100 * time.Millisecond,
		maxBackoff:  10 * time.Second,
		ttlBatch:    100,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.feedBatch < 1 || o.ttlBatch < 1 || o.minBackoff <= 0 || o.maxBackoff < o.minBackoff {
		return nil, fmt.Errorf("open store %s: %w: batch sizes must be positive and 0 < min back-off <= max", path, store.ErrInvalid)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: o.lockTimeout,
		// etcd's configuration: the hashmap freelist is faster, and an
		// unsynced freelist is rebuilt on open, so commits write less.
		FreelistType:   bbolt.FreelistMapType,
		NoFreelistSync: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.Update(initBuckets); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{
		db:        db,
		opts:      o,
		log:       o.logger.With("store", path),
		done:      make(chan struct{}),
		queue:     make(chan *request),
		committed: make(chan struct{}),
		changed:   make(chan struct{}, 1),
	}
	s.feed.s = s
	go s.commitLoop()
	return s, nil
}

func initBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketItems, bucketGSI1, bucketGSI2, bucketTTL, bucketChanges, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch f := meta.Get(metaFormat); {
	case f == nil:
		return meta.Put(metaFormat, []byte(fileFormat))
	case string(f) != fileFormat:
		return fmt.Errorf("file format %q, this build reads %q", f, fileFormat)
	}
	return nil
}

// Close waits for submitted transactions to finish, stops the feed and
// closes the file. It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	close(s.queue)
	s.mu.Unlock()
	<-s.committed
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.db.Path(), err)
	}
	return nil
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.db.Path() }

// view runs fn in a read transaction, naming a closed store ErrClosed.
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	err := s.db.View(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// update runs fn in a write transaction, naming a closed store ErrClosed.
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	err := s.db.Update(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func validateKey(k store.Key) error {
	if k.PK == "" || k.SK == "" {
		return fmt.Errorf("%w: key %q has an empty part", store.ErrInvalid, k)
	}
	if len(k.PK) > MaxPartitionKeyBytes || len(k.SK) > MaxSortKeyBytes {
		return fmt.Errorf("%w: key %.64q... is over %d bytes (partition) or %d bytes (sort)", store.ErrInvalid, k, MaxPartitionKeyBytes, MaxSortKeyBytes)
	}
	return nil
}

// Get reads one item.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Item, error) {
	if err := ctx.Err(); err != nil {
		return store.Item{}, err
	}
	if err := validateKey(key); err != nil {
		return store.Item{}, fmt.Errorf("get: %w", err)
	}
	var it store.Item
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketItems).Get(itemKey(key))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		it, err = decodeItem(v)
		return err
	})
	if err != nil {
		return store.Item{}, fmt.Errorf("get %s: %w", key, err)
	}
	return it, nil
}

// BatchGet reads up to 100 distinct keys; absent items are left out.
func (s *Store) BatchGet(ctx context.Context, keys []store.Key) ([]store.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(keys) > store.MaxTransactItems {
		return nil, fmt.Errorf("batch get: %w: at most %d keys, got %d", store.ErrInvalid, store.MaxTransactItems, len(keys))
	}
	seen := make(map[store.Key]bool, len(keys))
	for _, k := range keys {
		if err := validateKey(k); err != nil {
			return nil, fmt.Errorf("batch get: %w", err)
		}
		if seen[k] {
			return nil, fmt.Errorf("batch get: %w: key %s requested twice", store.ErrInvalid, k)
		}
		seen[k] = true
	}
	items := make([]store.Item, 0, len(keys))
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketItems)
		for _, k := range keys {
			v := b.Get(itemKey(k))
			if v == nil {
				continue
			}
			it, err := decodeItem(v)
			if err != nil {
				return fmt.Errorf("item %s: %w", k, err)
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("batch get: %w", err)
	}
	return items, nil
}

func indexBucket(ix store.Index) ([]byte, error) {
	switch ix {
	case store.Base:
		return bucketItems, nil
	case store.GSI1:
		return bucketGSI1, nil
	case store.GSI2:
		return bucketGSI2, nil
	}
	return nil, fmt.Errorf("%w: unknown index %q", store.ErrInvalid, ix)
}

// Query reads a page of one partition of the table or an index.
func (s *Store) Query(ctx context.Context, q store.Query) ([]store.Item, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	p, err := planQuery(q)
	if err != nil {
		return nil, "", fmt.Errorf("query %q partition %q: %w", q.Index, q.PK, err)
	}
	var items []store.Item
	var next string
	err = s.view(func(tx *bbolt.Tx) error {
		items, next, err = p.run(tx)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("query %q partition %q: %w", q.Index, q.PK, err)
	}
	return items, next, nil
}

// queryPlan is a validated query as a range of bucket keys.
type queryPlan struct {
	q      store.Query
	bucket []byte
	// scan is the prefix every matching key has: the partition, then the
	// escaped sort-key prefix.
	scan []byte
	// after, if set, is the cursor's key: the page starts just past it.
	after []byte
}

func planQuery(q store.Query) (queryPlan, error) {
	bucket, err := indexBucket(q.Index)
	if err != nil {
		return queryPlan{}, err
	}
	if q.PK == "" {
		return queryPlan{}, fmt.Errorf("%w: empty partition key", store.ErrInvalid)
	}
	if q.Limit < 0 {
		return queryPlan{}, fmt.Errorf("%w: negative limit %d", store.ErrInvalid, q.Limit)
	}
	partition := appendComponent(nil, q.PK)
	p := queryPlan{q: q, bucket: bucket, scan: appendEscaped(bytes.Clone(partition), q.Prefix)}
	if q.Cursor != "" {
		if p.after, err = decodeCursor(q, partition); err != nil {
			return queryPlan{}, err
		}
	}
	return p, nil
}

// first positions c on the first key of the page, or returns nil.
func (p queryPlan) first(c *bbolt.Cursor) ([]byte, []byte) {
	if !p.q.Reverse {
		if p.after == nil || bytes.Compare(p.after, p.scan) < 0 {
			return c.Seek(p.scan)
		}
		k, v := c.Seek(p.after)
		if bytes.Equal(k, p.after) {
			return c.Next()
		}
		return k, v
	}
	upper := prefixEnd(p.scan)
	if p.after != nil && (upper == nil || bytes.Compare(p.after, upper) < 0) {
		upper = p.after
	}
	if upper == nil {
		return c.Last()
	}
	if k, _ := c.Seek(upper); k == nil {
		return c.Last()
	}
	return c.Prev()
}

func (p queryPlan) advance(c *bbolt.Cursor) ([]byte, []byte) {
	if p.q.Reverse {
		return c.Prev()
	}
	return c.Next()
}

func (p queryPlan) run(tx *bbolt.Tx) ([]store.Item, string, error) {
	items := tx.Bucket(bucketItems)
	c := tx.Bucket(p.bucket).Cursor()
	var page []store.Item
	pageBytes := 0
	for k, v := p.first(c); k != nil && bytes.HasPrefix(k, p.scan); k, v = p.advance(c) {
		if (p.q.Limit > 0 && len(page) == p.q.Limit) || pageBytes >= maxPageBytes {
			return page, encodeCursor(p.q.Index, lastKey(p, page)), nil
		}
		if p.q.Index != store.Base {
			base, err := baseKeyOfIndexEntry(k)
			if err != nil {
				return nil, "", fmt.Errorf("index entry %x: %w", k, err)
			}
			if v = items.Get(base); v == nil {
				return nil, "", fmt.Errorf("index entry %x names a missing item", k)
			}
		}
		it, err := decodeItem(v)
		if err != nil {
			return nil, "", fmt.Errorf("item at %x: %w", k, err)
		}
		page = append(page, it)
		pageBytes += store.ItemSize(it)
	}
	return page, "", nil
}

// lastKey is the bucket key of the page's last item, where the next page resumes.
func lastKey(p queryPlan, page []store.Item) []byte {
	last := page[len(page)-1]
	switch p.q.Index {
	case store.GSI1:
		return indexKey(last.GSI1, last.Key)
	case store.GSI2:
		return indexKey(last.GSI2, last.Key)
	}
	return itemKey(last.Key)
}
