package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// DB is the domain-level face of the store: every method is one atomic
// operation (one transaction, or a bounded optimistic read-modify-write
// loop whose commit is one transaction) and returns ECS-shaped values and
// ECS errors. It is written once over the Store port, so every adapter
// behaves the same.
type DB struct {
	s     Store
	acct  ecs.Account
	now   func() time.Time
	newID func() string
	// StoppedTaskTTL is how long a stopped task stays describable.
	StoppedTaskTTL time.Duration
}

// DefaultStoppedTaskTTL keeps stopped tasks describable for an hour, as ECS promises.
const DefaultStoppedTaskTTL = time.Hour

// maxAttempts bounds optimistic retries of one operation.
const maxAttempts = 25

// NewDB wraps a store for an account, reading time from now and drawing
// resource IDs (32 hex digits, as ECS's) from newID.
func NewDB(s Store, acct ecs.Account, now func() time.Time, newID func() string) *DB {
	return &DB{s: s, acct: acct, now: now, newID: newID, StoppedTaskTTL: DefaultStoppedTaskTTL}
}

// NewID draws a fresh resource ID.
func (db *DB) NewID() string { return db.newID() }

// Store is the port the DB writes to.
func (db *DB) Store() Store { return db.s }

// Account is the region and account the DB names resources in.
func (db *DB) Account() ecs.Account { return db.acct }

func (db *DB) stamp() ecs.Timestamp { return ecs.At(db.now()) }

// getJSON reads an item and decodes its document into v.
func (db *DB) getJSON(ctx context.Context, key Key, v any) (int64, error) {
	it, err := db.s.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(it.Data, v); err != nil {
		return 0, fmt.Errorf("decode %s: %w", key, err)
	}
	return it.Version, nil
}

// putWrite encodes v as a Put of key expecting version expect.
func putWrite(key Key, v any, expect int64) (Write, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Write{}, fmt.Errorf("encode %s: %w", key, err)
	}
	return Write{Op: Put, Item: Item{Key: key, Data: data}, Expect: expect}, nil
}

// retry runs an optimistic read-modify-write until it commits without a
// conflict, up to maxAttempts times.
func retry(ctx context.Context, what string, attempt func() error) error {
	var err error
	for range maxAttempts {
		if err = attempt(); !errors.Is(err, ErrConflict) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s: gave up after %d conflicting attempts: %w", what, maxAttempts, err)
}

// ErrUnchanged, returned by a change function, ends an update without
// writing anything.
var ErrUnchanged = errors.New("unchanged")

// Page is one page of a listing: its items' names or ARNs and the token
// for the next page ("" at the end).
type Page struct {
	Items     []string
	NextToken string
}

// pageLimit applies ECS's maxResults rule: default def, 1..max.
func pageLimit(maxResults *int, def, max int) (int, error) {
	if maxResults == nil {
		return def, nil
	}
	if *maxResults < 1 || *maxResults > max {
		return 0, ecs.InvalidParameter("maxResults: %d is outside 1-%d", *maxResults, max)
	}
	return *maxResults, nil
}

const tokenPrefix = "b1."

// encodeToken turns a store cursor into an opaque nextToken.
func encodeToken(cursor string) string {
	if cursor == "" {
		return ""
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(cursor))
}

// decodeToken reverses encodeToken; a token Berth did not issue is an
// InvalidParameterException.
func decodeToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	if len(token) <= len(tokenPrefix) || token[:len(tokenPrefix)] != tokenPrefix {
		return "", ecs.InvalidParameter("nextToken: the token is not valid")
	}
	b, err := base64.RawURLEncoding.DecodeString(token[len(tokenPrefix):])
	if err != nil || len(b) == 0 {
		return "", ecs.InvalidParameter("nextToken: the token is not valid")
	}
	return string(b), nil
}

// scan pages through a query, keeping items that keep returns true for,
// until limit items are kept. It reads no further than it returns, so the
// token it hands back resumes exactly after the last item examined.
func (db *DB) scan(ctx context.Context, q Query, token string, limit int, keep func(Item) (bool, error)) ([]Item, string, error) {
	cursor, err := decodeToken(token)
	if err != nil {
		return nil, "", err
	}
	q.Cursor = cursor
	var out []Item
	for {
		q.Limit = limit - len(out)
		items, next, err := db.s.Query(ctx, q)
		if err != nil {
			if errors.Is(err, ErrInvalid) {
				return nil, "", ecs.InvalidParameter("nextToken: the token is not valid")
			}
			return nil, "", err
		}
		for _, it := range items {
			ok, err := keep(it)
			if err != nil {
				return nil, "", err
			}
			if ok {
				out = append(out, it)
			}
		}
		if next == "" {
			return out, "", nil
		}
		if len(out) >= limit {
			return out, encodeToken(next), nil
		}
		q.Cursor = next
	}
}

// all reads every item of a partition (used where a partition is bounded:
// a cluster's instances, a service's tasks).
func (db *DB) all(ctx context.Context, q Query) ([]Item, error) {
	var out []Item
	for {
		items, next, err := db.s.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		q.Cursor = next
	}
}

func decode[T any](it Item) (T, error) {
	var v T
	if err := json.Unmarshal(it.Data, &v); err != nil {
		return v, fmt.Errorf("decode %s: %w", it.Key, err)
	}
	return v, nil
}
