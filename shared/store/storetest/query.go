package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/store"
)

// orderedSortKeys are sort keys whose byte-wise order differs from naive
// expectations: case, digits, separators, multi-byte UTF-8, prefixes.
var orderedSortKeys = []string{
	" lead", "#", "0", "9", "A", "Z", "a", "a#1", "a#10", "a#2", "a/b", "ab", "b", "z", "~", "é", "ü", "日本",
}

func testQueryOrder(t *testing.T, s store.Store) {
	shuffled := slices.Clone(orderedSortKeys)
	slices.Reverse(shuffled)
	var writes []store.Write
	for i, sk := range shuffled {
		writes = append(writes,
			put(store.Item{Key: key("p", sk), Data: doc("i", i), GSI1: key("g", sk+"!"), GSI2: key("h", "same")}, 0),
			// A partition whose key extends "p" must stay apart from it.
			put(store.Item{Key: key("p2", sk), Data: doc("i", i), GSI1: key("g2", sk)}, 0))
	}
	mustTransact(t, s, writes...)

	want := slices.Clone(orderedSortKeys)
	slices.Sort(want) // byte-wise, as DynamoDB orders string sort keys
	if !slices.Equal(want, orderedSortKeys) {
		t.Fatalf("fixture is not in byte order: %q", orderedSortKeys)
	}
	assertSortKeys := func(q store.Query, want []string) {
		t.Helper()
		var got []string
		if q.Index == store.Base {
			got = sortKeys(queryAll(t, s, q))
		} else {
			eventually(t, indexTimeout, fmt.Sprintf("query %+v", q), func() (bool, string) {
				items, err := tryQueryAll(t.Context(), s, q)
				if err != nil {
					return false, err.Error()
				}
				got = sortKeys(items)
				return slices.Equal(got, want), fmt.Sprintf("%q", got)
			})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("query %+v: sort keys %q\nwant %q", q, got, want)
		}
	}
	reversed := slices.Clone(want)
	slices.Reverse(reversed)

	assertSortKeys(store.Query{PK: "p"}, want)
	assertSortKeys(store.Query{PK: "p", Reverse: true}, reversed)
	assertSortKeys(store.Query{PK: "p", Prefix: "a"}, []string{"a", "a#1", "a#10", "a#2", "a/b", "ab"})
	assertSortKeys(store.Query{PK: "p", Prefix: "a#", Reverse: true}, []string{"a#2", "a#10", "a#1"})
	assertSortKeys(store.Query{PK: "p", Prefix: "a#1"}, []string{"a#1", "a#10"})
	assertSortKeys(store.Query{PK: "p", Prefix: "日"}, []string{"日本"})
	assertSortKeys(store.Query{PK: "p", Prefix: "~~"}, nil)
	assertSortKeys(store.Query{PK: "nobody"}, nil)
	assertSortKeys(store.Query{PK: "p", Limit: 5}, want)
	assertSortKeys(store.Query{PK: "p", Limit: 1, Reverse: true}, reversed)
	assertSortKeys(store.Query{PK: "p", Limit: 2, Prefix: "a"}, []string{"a", "a#1", "a#10", "a#2", "a/b", "ab"})
	assertSortKeys(store.Query{Index: store.GSI1, PK: "g"}, want)
	assertSortKeys(store.Query{Index: store.GSI1, PK: "g", Prefix: "a#1", Reverse: true, Limit: 1}, []string{"a#10", "a#1"})
	assertSortKeys(store.Query{Index: store.GSI1, PK: "g2", Prefix: "z"}, []string{"z"})

	page, next, err := s.Query(t.Context(), store.Query{PK: "p", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortKeys(page); !slices.Equal(got, want[:3]) || next == "" {
		t.Fatalf("first page of 3 = %q, cursor %q; want %q and a cursor", got, next, want[:3])
	}
	page, _, err = s.Query(t.Context(), store.Query{PK: "p", Limit: 3, Reverse: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortKeys(page); !slices.Equal(got, reversed[:3]) {
		t.Fatalf("first reverse page of 3 = %q; want %q", got, reversed[:3])
	}

	// Index queries return whole items, like a GSI projecting ALL attributes.
	eventually(t, indexTimeout, "gsi2 query returns whole items", func() (bool, string) {
		items, err := tryQueryAll(t.Context(), s, store.Query{Index: store.GSI2, PK: "h"})
		if err != nil || len(items) != len(want) {
			return false, fmt.Sprint(len(items), err)
		}
		for _, it := range items {
			if !sameItem(it, mustGet(t, s, it.Key)) {
				return false, describe(it)
			}
		}
		return true, ""
	})
}

func sortKeys(items []store.Item) []string {
	var sks []string
	for _, it := range items {
		sks = append(sks, it.SK)
	}
	return sks
}

func testQueryInvalid(t *testing.T, s store.Store) {
	mustTransact(t, s,
		put(store.Item{Key: key("p", "a"), Data: doc()}, 0),
		put(store.Item{Key: key("p", "b"), Data: doc()}, 0),
		put(store.Item{Key: key("q", "a"), Data: doc()}, 0))
	_, cursor, err := s.Query(t.Context(), store.Query{PK: "p", Limit: 1})
	if err != nil || cursor == "" {
		t.Fatalf("first page: cursor %q, err %v; want a cursor", cursor, err)
	}
	cases := []struct {
		name string
		q    store.Query
	}{
		{"empty partition key", store.Query{}},
		{"unknown index", store.Query{Index: "gsi9", PK: "p"}},
		{"negative limit", store.Query{PK: "p", Limit: -1}},
		{"garbage cursor", store.Query{PK: "p", Cursor: "%%not a cursor%%"}},
		{"cursor of another partition", store.Query{PK: "q", Cursor: cursor}},
		{"cursor of another index", store.Query{Index: store.GSI1, PK: "p", Cursor: cursor}},
	}
	for _, c := range cases {
		if _, _, err := s.Query(t.Context(), c.q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v; want ErrInvalid", c.name, err)
		}
	}
}

// testPaginationUnderChange pages through a partition while items are
// inserted and deleted on both sides of the cursor: every item present
// throughout appears exactly once, in order; items deleted ahead of the
// cursor never appear; items inserted ahead of it do.
func testPaginationUnderChange(t *testing.T, s store.Store) {
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			pk := fmt.Sprintf("pages-%v", reverse)
			const n = 240
			var writes []store.Write
			for i := range n {
				writes = append(writes, put(store.Item{Key: key(pk, sk(i*10)), Data: doc("i", i)}, 0))
				if len(writes) == store.MaxTransactItems {
					mustTransact(t, s, writes...)
					writes = nil
				}
			}
			mustTransact(t, s, writes...)

			stable := map[string]bool{}
			for i := range n {
				stable[sk(i*10)] = true
			}
			mustAppear, mustNotAppear := map[string]bool{}, map[string]bool{}
			var got []string
			q := store.Query{PK: pk, Limit: 7, Reverse: reverse}
			for pages := 0; ; pages++ {
				if pages > maxPages {
					t.Fatal("pagination does not end")
				}
				page, next, err := s.Query(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, sortKeys(page)...)
				if next == "" {
					break
				}
				q.Cursor = next
				if len(page) == 0 {
					continue
				}
				// Inserted keys carry a suffix, so they never collide with
				// the numbered ones; they may be written twice, hence AnyVersion.
				pos := pageEnd(page)
				ahead, behind := pos+13, pos-13
				if reverse {
					ahead, behind = behind, ahead
				}
				if ahead >= 0 && ahead < n*10 {
					mustTransact(t, s, put(store.Item{Key: key(pk, sk(ahead)+"a"), Data: doc()}, store.AnyVersion))
					mustAppear[sk(ahead)+"a"] = true
				}
				if behind >= 0 && behind < n*10 {
					mustTransact(t, s, put(store.Item{Key: key(pk, sk(behind)+"b"), Data: doc()}, store.AnyVersion))
					mustNotAppear[sk(behind)+"b"] = true
				}
				victim := pos + 20
				if reverse {
					victim = pos - 20
				}
				if stable[sk(victim)] {
					mustTransact(t, s, del(key(pk, sk(victim)), 1))
					delete(stable, sk(victim))
					mustNotAppear[sk(victim)] = true
				}
			}
			assertStrictlyOrdered(t, got, reverse)
			seen := map[string]bool{}
			for _, k := range got {
				seen[k] = true
				if mustNotAppear[k] {
					t.Errorf("%q appeared although it was only ever behind the cursor or deleted ahead of it", k)
				}
			}
			for k := range stable {
				if !seen[k] {
					t.Errorf("%q, present throughout, never appeared", k)
				}
			}
			for k := range mustAppear {
				if !seen[k] {
					t.Errorf("%q, inserted ahead of the cursor, never appeared", k)
				}
			}
		})
	}
}

// sk renders n as a fixed-width sort key, so byte order is numeric order.
func sk(n int) string { return fmt.Sprintf("k%06d", n) }

// pageEnd reads the number back from a page's last key, ignoring a suffix.
func pageEnd(page []store.Item) int {
	var n int
	if _, err := fmt.Sscanf(page[len(page)-1].SK, "k%06d", &n); err != nil {
		panic(err) // every sort key in this test comes from sk
	}
	return n
}

func assertStrictlyOrdered(t *testing.T, sks []string, reverse bool) {
	t.Helper()
	for i := 1; i < len(sks); i++ {
		a, b := sks[i-1], sks[i]
		if reverse {
			a, b = b, a
		}
		if a >= b {
			t.Fatalf("sort keys out of order or repeated at %d: %q then %q", i, sks[i-1], sks[i])
		}
	}
}

// testPaginationBySize reads a partition bigger than one response may carry
// with no limit: the store pages it, and the pages hold every item once.
func testPaginationBySize(t *testing.T, s store.Store) {
	const n = 12
	blob := strings.Repeat("b", 150*1024)
	for i := range n {
		mustTransact(t, s, put(store.Item{Key: key("big", sk(i)), Data: doc("blob", blob, "i", i)}, 0))
	}
	got := sortKeys(queryAll(t, s, store.Query{PK: "big"}))
	if len(got) != n {
		t.Fatalf("read %d of %d large items", len(got), n)
	}
	assertStrictlyOrdered(t, got, false)
}

func testIndexEqualSortKeys(t *testing.T, s store.Store) {
	const same, others = 40, 5
	var writes []store.Write
	var wantSame []store.Key
	for i := range same {
		k := key(fmt.Sprintf("part-%d", i%3), sk(i))
		writes = append(writes, put(store.Item{Key: k, Data: doc("i", i), GSI1: key("g", "same"), GSI2: key("h", "same")}, 0))
		wantSame = append(wantSame, k)
	}
	for i := range others {
		writes = append(writes, put(store.Item{Key: key("part-x", sk(i)), Data: doc(), GSI1: key("g", fmt.Sprintf("other-%d", i)), GSI2: key("h", "a")}, 0))
	}
	mustTransact(t, s, writes...)

	for _, ix := range []store.Index{store.GSI1, store.GSI2} {
		eventually(t, indexTimeout, fmt.Sprintf("%s holds every item", ix), func() (bool, string) {
			items, err := tryQueryAll(t.Context(), s, store.Query{Index: ix, PK: map[store.Index]string{store.GSI1: "g", store.GSI2: "h"}[ix]})
			return err == nil && len(items) == same+others, fmt.Sprint(len(items), err)
		})
	}
	for _, reverse := range []bool{false, true} {
		for _, limit := range []int{1, 3, 7} {
			q := store.Query{Index: store.GSI1, PK: "g", Limit: limit, Reverse: reverse}
			items := queryAll(t, s, q)
			if len(items) != same+others {
				t.Fatalf("%+v: %d items; want %d", q, len(items), same+others)
			}
			seen := map[store.Key]bool{}
			for i, it := range items {
				if seen[it.Key] {
					t.Fatalf("%+v: %s appears twice", q, it.Key)
				}
				seen[it.Key] = true
				if i == 0 {
					continue
				}
				prev, cur := items[i-1].GSI1.SK, it.GSI1.SK
				if reverse {
					prev, cur = cur, prev
				}
				if prev > cur {
					t.Fatalf("%+v: index sort keys out of order: %q then %q", q, items[i-1].GSI1.SK, it.GSI1.SK)
				}
			}
			for _, k := range wantSame {
				if !seen[k] {
					t.Fatalf("%+v: %s missing", q, k)
				}
			}
		}
	}
	items := queryAll(t, s, store.Query{Index: store.GSI2, PK: "h", Prefix: "sa", Limit: 4})
	if len(items) != same {
		t.Fatalf("gsi2 prefix query: %d items; want %d", len(items), same)
	}
}

func testIndexMembership(t *testing.T, s store.Store) {
	a := store.Item{Key: key("task", "a"), Data: doc("v", 1), GSI1: key("inst#1", "task#a"), GSI2: key("svc#x", "RUNNING")}
	b := store.Item{Key: key("task", "b"), Data: doc("v", 1), GSI1: key("inst#1", "task#b")}
	mustTransact(t, s, put(a, 0), put(b, 0))
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst#1"}, []store.Item{withVersion(a, 1), withVersion(b, 1)})
	awaitQuery(t, s, store.Query{Index: store.GSI2, PK: "svc#x"}, []store.Item{withVersion(a, 1)})

	// a moves to another index partition and changes its gsi2 sort key.
	a2 := a
	a2.Data, a2.GSI1, a2.GSI2 = doc("v", 2), key("inst#2", "task#a"), key("svc#x", "STOPPED")
	mustTransact(t, s, put(a2, 1))
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst#1"}, []store.Item{withVersion(b, 1)})
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst#2"}, []store.Item{withVersion(a2, 2)})
	awaitQuery(t, s, store.Query{Index: store.GSI2, PK: "svc#x", Prefix: "RUN"}, nil)
	awaitQuery(t, s, store.Query{Index: store.GSI2, PK: "svc#x", Prefix: "STOP"}, []store.Item{withVersion(a2, 2)})

	// An update that keeps the index keys keeps the item indexed, with its new data.
	a3 := a2
	a3.Data = doc("v", 3)
	mustTransact(t, s, put(a3, 2))
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst#2"}, []store.Item{withVersion(a3, 3)})

	// Clearing an index key takes the item out of that index only.
	a4 := a3
	a4.GSI1 = store.Key{}
	mustTransact(t, s, put(a4, 3))
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst#2"}, nil)
	awaitQuery(t, s, store.Query{Index: store.GSI2, PK: "svc#x"}, []store.Item{withVersion(a4, 4)})

	// Setting it again puts it back.
	a5 := a4
	a5.GSI1 = key("inst#1", "task#0")
	mustTransact(t, s, put(a5, 4))
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst#1"}, []store.Item{withVersion(a5, 5), withVersion(b, 1)})

	// Deleting items removes them from every index.
	mustTransact(t, s, del(a.Key, 5), del(b.Key, 1))
	awaitQuery(t, s, store.Query{Index: store.GSI1, PK: "inst#1"}, nil)
	awaitQuery(t, s, store.Query{Index: store.GSI2, PK: "svc#x"}, nil)
}
