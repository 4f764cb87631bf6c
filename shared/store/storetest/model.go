package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/berth-run/berth/shared/store"
)

// The model test runs random transactions against the store and a map,
// and after every step checks that reads and queries of the store agree
// with the map. Each rapid run uses partitions of its own, so one store
// serves them all (opening a DynamoDB table per run would be slow).

var (
	modelPartitions  = []string{"a", "b"}
	modelSortKeys    = []string{"x", "x0", "xy", "y", "z"}
	modelIndexParts  = []string{"g", "h"}
	modelIndexSorts  = []string{"1", "10", "2"} // few values, so index sort keys repeat
	modelPrefixes    = []string{"", "x", "xy", "y", "1", "10"}
	modelExpectKinds = []string{"current", "absent", "any", "wrong"}
)

type model struct {
	s     store.Store
	ns    string // prefix of every partition key of this run
	items map[store.Key]store.Item
}

func testModel(t *testing.T, s store.Store) {
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		m := &model{s: s, ns: fmt.Sprintf("model-%d/", run), items: map[store.Key]store.Item{}}
		rt.Repeat(map[string]func(*rapid.T){
			"transact": m.transact,
			"query":    m.query,
			"batchGet": m.batchGet,
			"":         m.checkGets,
		})
	})
}

func (m *model) allKeys() []store.Key {
	var keys []store.Key
	for _, pk := range modelPartitions {
		for _, sk := range modelSortKeys {
			keys = append(keys, key(m.ns+pk, sk))
		}
	}
	return keys
}

func (m *model) indexKey(t *rapid.T, label string) store.Key {
	if rapid.IntRange(0, 3).Draw(t, label+" absent") == 0 {
		return store.Key{}
	}
	return key(m.ns+rapid.SampledFrom(modelIndexParts).Draw(t, label+" pk"), rapid.SampledFrom(modelIndexSorts).Draw(t, label+" sk"))
}

func (m *model) expectFor(t *rapid.T, k store.Key, i int) int64 {
	cur, exists := m.items[k]
	switch rapid.SampledFrom(modelExpectKinds).Draw(t, fmt.Sprintf("expect %d", i)) {
	case "current":
		return cur.Version // 0 when absent: must not exist
	case "absent":
		return 0
	case "any":
		return store.AnyVersion
	default:
		if exists {
			return cur.Version + 1
		}
		return 1
	}
}

func (m *model) transact(t *rapid.T) {
	keys := rapid.SliceOfNDistinct(rapid.SampledFrom(m.allKeys()), 1, 4, rapid.ID[store.Key]).Draw(t, "keys")
	writes := make([]store.Write, len(keys))
	for i, k := range keys {
		expect := m.expectFor(t, k, i)
		switch rapid.SampledFrom([]store.Op{store.Put, store.Put, store.Delete, store.Check}).Draw(t, fmt.Sprintf("op %d", i)) {
		case store.Put:
			it := store.Item{
				Key:  k,
				Data: doc("n", rapid.IntRange(0, 1000).Draw(t, fmt.Sprintf("n %d", i))),
				GSI1: m.indexKey(t, fmt.Sprintf("gsi1 %d", i)),
				GSI2: m.indexKey(t, fmt.Sprintf("gsi2 %d", i)),
			}
			if rapid.Bool().Draw(t, fmt.Sprintf("expires %d", i)) {
				it.ExpiresAt = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			}
			writes[i] = put(it, expect)
		case store.Delete:
			writes[i] = del(k, expect)
		default:
			writes[i] = check(k, expect)
		}
	}

	failing := m.firstFailing(writes)
	err := m.s.Transact(t.Context(), writes)
	if failing >= 0 {
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Index != failing || ce.Key != writes[failing].Target() {
			t.Fatalf("Transact: err = %v; want a conflict at write %d (%s)", err, failing, writes[failing].Target())
		}
		return
	}
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	m.apply(writes)
}

func (m *model) firstFailing(writes []store.Write) int {
	for i, w := range writes {
		cur, exists := m.items[w.Target()]
		switch {
		case w.Expect == store.AnyVersion:
		case w.Expect == 0 && exists:
			return i
		case w.Expect > 0 && (!exists || cur.Version != w.Expect):
			return i
		}
	}
	return -1
}

func (m *model) apply(writes []store.Write) {
	for _, w := range writes {
		switch w.Op {
		case store.Put:
			it := w.Item
			it.Version = m.items[it.Key].Version + 1
			m.items[it.Key] = it
		case store.Delete:
			delete(m.items, w.Key)
		}
	}
}

func (m *model) checkGets(t *rapid.T) {
	for _, k := range m.allKeys() {
		got, err := m.s.Get(t.Context(), k)
		want, exists := m.items[k]
		switch {
		case !exists && !errors.Is(err, store.ErrNotFound):
			t.Fatalf("Get(%s) = %s, %v; want ErrNotFound", k, describe(got), err)
		case exists && err != nil:
			t.Fatalf("Get(%s): %v; want %s", k, err, describe(want))
		case exists && !sameItem(got, want):
			t.Fatalf("Get(%s) = %s; want %s", k, describe(got), describe(want))
		}
	}
}

func (m *model) batchGet(t *rapid.T) {
	keys := rapid.SliceOfNDistinct(rapid.SampledFrom(m.allKeys()), 1, 6, rapid.ID[store.Key]).Draw(t, "keys")
	got, err := m.s.BatchGet(t.Context(), keys)
	if err != nil {
		t.Fatalf("BatchGet: %v", err)
	}
	var want []store.Item
	for _, k := range keys {
		if it, ok := m.items[k]; ok {
			want = append(want, it)
		}
	}
	if !sameItems(got, want) {
		t.Fatalf("BatchGet(%v) = %s; want %s", keys, describeAll(got), describeAll(want))
	}
}

func (m *model) query(t *rapid.T) {
	ix := rapid.SampledFrom([]store.Index{store.Base, store.GSI1, store.GSI2}).Draw(t, "index")
	parts := modelPartitions
	if ix != store.Base {
		parts = modelIndexParts
	}
	q := store.Query{
		Index:   ix,
		PK:      m.ns + rapid.SampledFrom(parts).Draw(t, "partition"),
		Prefix:  rapid.SampledFrom(modelPrefixes).Draw(t, "prefix"),
		Limit:   rapid.IntRange(0, 3).Draw(t, "limit"),
		Reverse: rapid.Bool().Draw(t, "reverse"),
	}
	want := m.expectedQuery(q)
	if ix == store.Base {
		got, err := tryQueryAll(t.Context(), m.s, q)
		if err != nil || !sameItems(got, want) {
			t.Fatalf("query %+v = %s, %v\nwant %s", q, describeAll(got), err, describeAll(want))
		}
		return
	}
	// An index may lag the table, so wait for it to converge; it must then
	// hold exactly the model's items, ordered by index sort key (the order
	// among equal index sort keys is the adapter's).
	deadline := time.Now().Add(indexTimeout)
	for {
		got, err := tryQueryAll(t.Context(), m.s, q)
		if err == nil && sameIndexResult(q, got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %+v = %s, %v\nwant (up to order among equal index sort keys) %s", q, describeAll(got), err, describeAll(want))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func indexOf(ix store.Index, it store.Item) store.Key {
	switch ix {
	case store.GSI1:
		return it.GSI1
	case store.GSI2:
		return it.GSI2
	}
	return it.Key
}

// expectedQuery is the model's answer, ordered by sort key (then base key).
func (m *model) expectedQuery(q store.Query) []store.Item {
	var out []store.Item
	for _, it := range m.items {
		k := indexOf(q.Index, it)
		if k.PK == q.PK && k.SK != "" && strings.HasPrefix(k.SK, q.Prefix) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b store.Item) int {
		return cmp.Or(
			strings.Compare(indexOf(q.Index, a).SK, indexOf(q.Index, b).SK),
			strings.Compare(a.PK, b.PK),
			strings.Compare(a.SK, b.SK))
	})
	if q.Reverse {
		slices.Reverse(out)
	}
	return out
}

func sameIndexResult(q store.Query, got, want []store.Item) bool {
	if len(got) != len(want) {
		return false
	}
	byKey := map[store.Key]store.Item{}
	for i := range got {
		if indexOf(q.Index, got[i]).SK != indexOf(q.Index, want[i]).SK {
			return false
		}
		byKey[got[i].Key] = got[i]
	}
	for _, w := range want {
		if g, ok := byKey[w.Key]; !ok || !sameItem(g, w) {
			return false
		}
	}
	return len(byKey) == len(got) // no item twice
}
