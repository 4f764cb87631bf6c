package bolt

import (
	"bytes"
	"cmp"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/berth-run/berth/shared/store"
)

// keyString draws strings rich in the bytes the key encoding treats
// specially (NUL, 0x01, 0xFF) and in shared prefixes.
func keyString() *rapid.Generator[string] {
	return rapid.Map(rapid.SliceOfN(rapid.SampledFrom([]byte{0, 1, 2, 'a', 'b', 0xFE, 0xFF}), 0, 6), func(b []byte) string { return string(b) })
}

func compareKeys(a, b store.Key) int {
	return cmp.Or(strings.Compare(a.PK, b.PK), strings.Compare(a.SK, b.SK))
}

func sign(n int) int { return cmp.Compare(n, 0) }

func TestItemKeyOrderIsTupleOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := store.Key{PK: keyString().Draw(t, "a.pk"), SK: keyString().Draw(t, "a.sk")}
		b := store.Key{PK: keyString().Draw(t, "b.pk"), SK: keyString().Draw(t, "b.sk")}
		if got, want := sign(bytes.Compare(itemKey(a), itemKey(b))), compareKeys(a, b); got != want {
			t.Fatalf("encoded order of %q and %q is %d; want %d", a, b, got, want)
		}
		back, err := decodeItemKey(itemKey(a))
		if err != nil || back != a {
			t.Fatalf("decodeItemKey(itemKey(%q)) = %q, %v", a, back, err)
		}
	})
}

func TestIndexKeyOrderAndPrefix(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ik := store.Key{PK: "g", SK: keyString().Draw(t, "gsk")}
		other := store.Key{PK: "g", SK: keyString().Draw(t, "other gsk")}
		base := store.Key{PK: keyString().Draw(t, "pk"), SK: keyString().Draw(t, "sk")}
		entry, otherEntry := indexKey(ik, base), indexKey(other, base)
		if ik.SK != other.SK {
			if got, want := sign(bytes.Compare(entry, otherEntry)), strings.Compare(ik.SK, other.SK); got != want {
				t.Fatalf("index sort keys %q and %q order as %d; want %d", ik.SK, other.SK, got, want)
			}
		}
		prefix := keyString().Draw(t, "prefix")
		scan := appendEscaped(appendComponent(nil, ik.PK), prefix)
		if got, want := bytes.HasPrefix(entry, scan), strings.HasPrefix(ik.SK, prefix); got != want {
			t.Fatalf("entry for sort key %q matches prefix %q: %v; want %v", ik.SK, prefix, got, want)
		}
		b, err := baseKeyOfIndexEntry(entry)
		if err != nil || !bytes.Equal(b, itemKey(base)) {
			t.Fatalf("base key of index entry = %x, %v; want %x", b, err, itemKey(base))
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte("ab"), []byte("ac")},
		{[]byte{'a', 0xFF}, []byte("b")},
		{[]byte{0xFF, 0xFF}, nil},
		{[]byte{}, nil},
	}
	for _, c := range cases {
		if got := prefixEnd(c.in); !bytes.Equal(got, c.want) || (c.want == nil) != (got == nil) {
			t.Errorf("prefixEnd(%x) = %x; want %x", c.in, got, c.want)
		}
	}
}

func itemGen() *rapid.Generator[store.Item] {
	return rapid.Custom(func(t *rapid.T) store.Item {
		return store.Item{
			Key:       store.Key{PK: keyString().Draw(t, "pk"), SK: keyString().Draw(t, "sk")},
			Version:   rapid.Int64Range(0, 1<<62).Draw(t, "version"),
			Data:      rapid.SliceOf(rapid.Byte()).Draw(t, "data"),
			GSI1:      store.Key{PK: keyString().Draw(t, "g1pk"), SK: keyString().Draw(t, "g1sk")},
			GSI2:      store.Key{PK: keyString().Draw(t, "g2pk"), SK: keyString().Draw(t, "g2sk")},
			ExpiresAt: rapid.Int64().Draw(t, "ttl"),
		}
	})
}

func sameStored(a, b store.Item) bool {
	return a.Key == b.Key && a.Version == b.Version && bytes.Equal(a.Data, b.Data) &&
		a.GSI1 == b.GSI1 && a.GSI2 == b.GSI2 && a.ExpiresAt == b.ExpiresAt
}

func TestItemAndChangeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		it := itemGen().Draw(t, "item")
		back, err := decodeItem(encodeItem(it))
		if err != nil || !sameStored(back, it) {
			t.Fatalf("item round trip: %+v, %v; want %+v", back, err, it)
		}
		c := store.Change{Key: it.Key}
		if rapid.Bool().Draw(t, "has old") {
			old := itemGen().Draw(t, "old")
			c.Old = &old
		}
		if rapid.Bool().Draw(t, "has new") {
			c.New = &it
		}
		got, err := decodeChange(encodeChange(c))
		if err != nil || got.Key != c.Key || (got.Old == nil) != (c.Old == nil) || (got.New == nil) != (c.New == nil) ||
			(c.Old != nil && !sameStored(*got.Old, *c.Old)) || (c.New != nil && !sameStored(*got.New, *c.New)) {
			t.Fatalf("change round trip: %+v, %v; want %+v", got, err, c)
		}
	})
}

// FuzzDecode feeds arbitrary bytes to every decoder of stored data: a
// damaged file must give errors, never a panic or a silent misread.
func FuzzDecode(f *testing.F) {
	it := store.Item{Key: store.Key{PK: "p", SK: "s\x00"}, Version: 3, Data: []byte(`{"a":1}`), GSI1: store.Key{PK: "g", SK: "1"}, ExpiresAt: 9}
	f.Add(encodeItem(it))
	f.Add(encodeChange(store.Change{Key: it.Key, Old: &it, New: &it}))
	f.Add(itemKey(it.Key))
	f.Add(indexKey(it.GSI1, it.Key))
	f.Add([]byte{itemFormat, 0xFF})
	f.Add([]byte{0, 0xFF, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := decodeItem(b); err == nil {
			if again, err := decodeItem(encodeItem(got)); err != nil || !sameStored(again, got) {
				t.Fatalf("decodeItem accepted %x as %+v, which does not survive a round trip", b, got)
			}
		}
		if k, err := decodeItemKey(b); err == nil && !bytes.Equal(itemKey(k), b) {
			t.Fatalf("decodeItemKey accepted %x but re-encodes it as %x", b, itemKey(k))
		}
		_, _ = decodeChange(b)
		_, _ = baseKeyOfIndexEntry(b)
		q := store.Query{PK: "p", Cursor: cursorEncoding.EncodeToString(b)}
		_, _ = decodeCursor(q, appendComponent(nil, q.PK))
	})
}
