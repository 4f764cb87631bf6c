package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/store"
)

func testCreateGetReplaceDelete(t *testing.T, s store.Store) {
	k := key("svc#a", "task#1")
	mustBeAbsent(t, s, k)

	created := store.Item{Key: k, Data: doc("state", "PENDING"), Version: 42}
	mustTransact(t, s, put(created, 0))
	assertItem(t, mustGet(t, s, k), withVersion(created, 1))

	replaced := store.Item{Key: k, Data: doc("state", "RUNNING")}
	mustTransact(t, s, put(replaced, 1))
	assertItem(t, mustGet(t, s, k), withVersion(replaced, 2))

	unconditional := store.Item{Key: k, Data: doc("state", "STOPPED")}
	mustTransact(t, s, put(unconditional, store.AnyVersion))
	assertItem(t, mustGet(t, s, k), withVersion(unconditional, 3))

	mustTransact(t, s, check(k, 3))
	assertItem(t, mustGet(t, s, k), withVersion(unconditional, 3))

	mustTransact(t, s, del(k, 3))
	mustBeAbsent(t, s, k)

	// A deleted item's history is gone: re-creating it starts at version 1.
	mustTransact(t, s, put(created, 0))
	assertItem(t, mustGet(t, s, k), withVersion(created, 1))
	mustTransact(t, s, del(k, store.AnyVersion))
	mustBeAbsent(t, s, k)

	// Deleting what is not there, without a condition or expecting absence, succeeds.
	mustTransact(t, s, del(k, store.AnyVersion))
	mustTransact(t, s, del(k, 0))
	mustTransact(t, s, check(k, 0))
	mustBeAbsent(t, s, k)

	// An unconditional put creates.
	mustTransact(t, s, put(created, store.AnyVersion))
	assertItem(t, mustGet(t, s, k), withVersion(created, 1))
}

func testItemFieldsRoundTrip(t *testing.T, s store.Store) {
	it := store.Item{
		Key:       key("cluster#default", "instance#i-0abc"),
		Data:      doc("nested", map[string]any{"cpu": 1024, "ports": []any{80, 443}}, "name", "ünïcode ✓"),
		GSI1:      key("g1#default", "ACTIVE#i-0abc"),
		GSI2:      key("g2#x", "2024-01-01T00:00:00Z"),
		ExpiresAt: 4102444800,
	}
	mustTransact(t, s, put(it, 0))
	assertItem(t, mustGet(t, s, it.Key), withVersion(it, 1))
}

func testBatchGet(t *testing.T, s store.Store) {
	var writes []store.Write
	for _, sk := range []string{"a", "b", "c", "d"} {
		writes = append(writes, put(store.Item{Key: key("p", sk), Data: doc("sk", sk)}, 0))
	}
	mustTransact(t, s, writes...)
	mustTransact(t, s, put(store.Item{Key: key("p", "c"), Data: doc("sk", "c2")}, 1))

	keys := []store.Key{key("p", "d"), key("p", "missing"), key("p", "a"), key("other", "a"), key("p", "c")}
	got, err := s.BatchGet(t.Context(), keys)
	if err != nil {
		t.Fatalf("BatchGet: %v", err)
	}
	want := []store.Item{
		{Key: key("p", "d"), Version: 1, Data: doc("sk", "d")},
		{Key: key("p", "a"), Version: 1, Data: doc("sk", "a")},
		{Key: key("p", "c"), Version: 2, Data: doc("sk", "c2")},
	}
	if !sameItems(got, want) {
		t.Fatalf("BatchGet = %s\nwant %s", describeAll(got), describeAll(want))
	}

	full := make([]store.Key, store.MaxTransactItems)
	for i := range full {
		full[i] = key("p", strings.Repeat("x", i+1))
	}
	full[0], full[99] = key("p", "b"), key("p", "a")
	got, err = s.BatchGet(t.Context(), full)
	if err != nil {
		t.Fatalf("BatchGet of %d keys: %v", len(full), err)
	}
	if len(got) != 2 || got[0].Key != key("p", "b") || got[1].Key != key("p", "a") {
		t.Fatalf("BatchGet of %d keys = %v; want p|b then p|a", len(full), keysOf(got))
	}

	tooMany := append(full, key("p", "c"))
	if _, err := s.BatchGet(t.Context(), tooMany); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("BatchGet of %d keys: err = %v; want ErrInvalid", len(tooMany), err)
	}
	if _, err := s.BatchGet(t.Context(), []store.Key{key("p", "a"), key("p", "a")}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("BatchGet with a repeated key: err = %v; want ErrInvalid", err)
	}
	if _, err := s.BatchGet(t.Context(), []store.Key{key("p", "")}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("BatchGet with an empty sort key: err = %v; want ErrInvalid", err)
	}
}

func testInvalidWrites(t *testing.T, s store.Store) {
	ok := store.Item{Key: key("p", "ok"), Data: doc()}
	huge := store.Item{Key: key("p", "huge"), Data: doc("blob", strings.Repeat("x", store.MaxItemBytes))}
	cases := []struct {
		name   string
		writes []store.Write
		want   error
	}{
		{"no writes", nil, store.ErrInvalid},
		{"empty partition key", []store.Write{put(ok, 0), put(store.Item{Key: key("", "s"), Data: doc()}, 0)}, store.ErrInvalid},
		{"empty sort key", []store.Write{put(ok, 0), del(key("p", ""), store.AnyVersion)}, store.ErrInvalid},
		{"duplicate keys", []store.Write{put(ok, 0), check(key("p", "ok"), 0)}, store.ErrInvalid},
		{"unknown op", []store.Write{put(ok, 0), {Op: store.Op(99), Key: key("p", "x")}}, store.ErrInvalid},
		{"expect below AnyVersion", []store.Write{put(ok, 0), put(store.Item{Key: key("p", "y"), Data: doc()}, -2)}, store.ErrInvalid},
		{"oversize item", []store.Write{put(ok, 0), put(huge, 0)}, store.ErrTooLarge},
		{"partition key over 2048 bytes", []store.Write{put(ok, 0), put(store.Item{Key: key(strings.Repeat("p", 2049), "s"), Data: doc()}, 0)}, store.ErrInvalid},
		{"sort key over 1024 bytes", []store.Write{put(ok, 0), put(store.Item{Key: key("p", strings.Repeat("s", 1025)), Data: doc()}, 0)}, store.ErrInvalid},
	}
	for _, c := range cases {
		if err := s.Transact(t.Context(), c.writes); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v; want %v", c.name, err, c.want)
		}
	}
	mustBeAbsent(t, s, ok.Key)
	if _, err := s.Get(t.Context(), key("p", "")); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Get with an empty sort key: err = %v; want ErrInvalid", err)
	}
	if _, err := s.Get(t.Context(), key("", "s")); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Get with an empty partition key: err = %v; want ErrInvalid", err)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	k := key("p", "canceled")
	if err := s.Transact(ctx, []store.Write{put(store.Item{Key: k, Data: doc()}, 0)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Transact with a canceled context: err = %v; want context.Canceled", err)
	}
	mustBeAbsent(t, s, k)
	if _, err := s.Get(ctx, k); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a canceled context: err = %v; want context.Canceled", err)
	}
	if _, _, err := s.Query(ctx, store.Query{PK: "p"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Query with a canceled context: err = %v; want context.Canceled", err)
	}
}

func testExpiredReadable(t *testing.T, s store.Store) {
	it := store.Item{Key: key("p", "expired"), Data: doc(), ExpiresAt: 1, GSI1: key("g", "x")}
	mustTransact(t, s, put(it, 0))
	assertItem(t, mustGet(t, s, it.Key), withVersion(it, 1))
	awaitQuery(t, s, store.Query{PK: "p"}, []store.Item{withVersion(it, 1)})
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "g"}, []store.Item{withVersion(it, 1)})
}
