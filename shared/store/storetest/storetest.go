package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/store"
)

// Run runs the Store contract. open returns a new, empty store for one test
// and arranges (with t.Cleanup) for it to be released.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CreateGetReplaceDelete", func(t *testing.T) { testCreateGetReplaceDelete(t, open(t)) })
	t.Run("ItemFieldsRoundTrip", func(t *testing.T) { testItemFieldsRoundTrip(t, open(t)) })
	t.Run("ConditionFailuresWriteNothing", func(t *testing.T) { testConditionFailures(t, open) })
	t.Run("FirstFailingWriteIsNamed", func(t *testing.T) { testFirstFailingWrite(t, open(t)) })
	t.Run("TransactionLimits", func(t *testing.T) { testTransactionLimits(t, open(t)) })
	t.Run("InvalidWrites", func(t *testing.T) { testInvalidWrites(t, open(t)) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceledContext(t, open(t)) })
	t.Run("BatchGet", func(t *testing.T) { testBatchGet(t, open(t)) })
	t.Run("QueryOrderPrefixReverseLimit", func(t *testing.T) { testQueryOrder(t, open(t)) })
	t.Run("QueryInvalid", func(t *testing.T) { testQueryInvalid(t, open(t)) })
	t.Run("PaginationUnderChange", func(t *testing.T) { testPaginationUnderChange(t, open(t)) })
	t.Run("PaginationBySize", func(t *testing.T) { testPaginationBySize(t, open(t)) })
	t.Run("IndexPaginationWithEqualSortKeys", func(t *testing.T) { testIndexEqualSortKeys(t, open(t)) })
	t.Run("IndexMembership", func(t *testing.T) { testIndexMembership(t, open(t)) })
	t.Run("ExpiredItemsReadableUntilDeleted", func(t *testing.T) { testExpiredReadable(t, open(t)) })
	t.Run("ConcurrentIncrements", func(t *testing.T) { testConcurrentIncrements(t, open(t)) })
	t.Run("MatchesModel", func(t *testing.T) { testModel(t, open(t)) })
}

// indexTimeout bounds the wait for an index to reflect a committed write;
// DynamoDB's indexes usually converge well within a second.
const indexTimeout = 10 * time.Second

// doc is a small JSON document.
func doc(fields ...any) []byte {
	m := map[string]any{}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fmt.Sprint(fields[i])] = fields[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return b
}

func key(pk, sk string) store.Key { return store.Key{PK: pk, SK: sk} }

func put(it store.Item, expect int64) store.Write {
	return store.Write{Op: store.Put, Item: it, Expect: expect}
}

func del(k store.Key, expect int64) store.Write {
	return store.Write{Op: store.Delete, Key: k, Expect: expect}
}

func check(k store.Key, expect int64) store.Write {
	return store.Write{Op: store.Check, Key: k, Expect: expect}
}

func mustTransact(t testing.TB, s store.Store, writes ...store.Write) {
	t.Helper()
	if err := s.Transact(t.Context(), writes); err != nil {
		t.Fatalf("Transact(%d writes): %v", len(writes), err)
	}
}

func mustGet(t testing.TB, s store.Store, k store.Key) store.Item {
	t.Helper()
	it, err := s.Get(t.Context(), k)
	if err != nil {
		t.Fatalf("Get(%s): %v", k, err)
	}
	return it
}

func mustBeAbsent(t testing.TB, s store.Store, k store.Key) {
	t.Helper()
	if it, err := s.Get(t.Context(), k); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s) = %+v, %v; want ErrNotFound", k, it, err)
	}
}

// jsonEqual compares two JSON documents by value: an adapter may store a
// document in another spelling (key order, spacing).
func jsonEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func sameItem(a, b store.Item) bool {
	return a.Key == b.Key && a.Version == b.Version && a.GSI1 == b.GSI1 && a.GSI2 == b.GSI2 &&
		a.ExpiresAt == b.ExpiresAt && jsonEqual(a.Data, b.Data)
}

func describe(it store.Item) string {
	return fmt.Sprintf("{%s v%d gsi1=%s gsi2=%s ttl=%d %s}", it.Key, it.Version, it.GSI1, it.GSI2, it.ExpiresAt, it.Data)
}

// withVersion is it as the store should return it after a write at version v.
func withVersion(it store.Item, v int64) store.Item {
	it.Version = v
	return it
}

func assertItem(t testing.TB, got, want store.Item) {
	t.Helper()
	if !sameItem(got, want) {
		t.Fatalf("item = %s\nwant   %s", describe(got), describe(want))
	}
}

func assertConflict(t testing.TB, err error, index int, k store.Key) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v; want a *store.ConflictError", err)
	}
	if ce.Index != index || ce.Key != k {
		t.Fatalf("conflict names write %d (%s); want write %d (%s)", ce.Index, ce.Key, index, k)
	}
}

// maxPages bounds a pagination loop, so an adapter whose cursor never ends
// fails instead of hanging.
const maxPages = 10_000

// queryAll follows cursors to the end of the query.
func queryAll(t testing.TB, s store.Store, q store.Query) []store.Item {
	t.Helper()
	items, err := tryQueryAll(t.Context(), s, q)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func tryQueryAll(ctx context.Context, s store.Store, q store.Query) ([]store.Item, error) {
	var all []store.Item
	for range maxPages {
		page, next, err := s.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("Query(%+v): %w", q, err)
		}
		if q.Limit > 0 && len(page) > q.Limit {
			return nil, fmt.Errorf("Query(%+v) returned %d items, over its limit", q, len(page))
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		q.Cursor = next
	}
	return nil, fmt.Errorf("Query(%+v) still had a cursor after %d pages", q, maxPages)
}

func keysOf(items []store.Item) []store.Key {
	keys := make([]store.Key, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}

// eventually polls cond until it reports success or the deadline passes;
// cond returns a description of what it saw, for the failure message.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last saw %s", what, timeout, saw)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: test ended while waiting", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// awaitQuery waits until a query returns exactly want (compared as items,
// in order): at once for the base table, which is strongly consistent; for
// an index, once it has caught up with the writes.
func awaitQuery(t testing.TB, s store.Store, q store.Query, want []store.Item) {
	t.Helper()
	timeout := time.Duration(0)
	if q.Index != store.Base {
		timeout = indexTimeout
	}
	eventually(t, timeout, fmt.Sprintf("query %+v returns %d items", q, len(want)), func() (bool, string) {
		got, err := tryQueryAll(t.Context(), s, q)
		if err != nil {
			return false, err.Error()
		}
		return sameItems(got, want), describeAll(got)
	})
}

func sameItems(got, want []store.Item) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !sameItem(got[i], want[i]) {
			return false
		}
	}
	return true
}

func describeAll(items []store.Item) string {
	var b bytes.Buffer
	b.WriteString("[")
	for i, it := range items {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(describe(it))
	}
	b.WriteString("]")
	return b.String()
}
