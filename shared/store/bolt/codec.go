package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/berth-run/berth/shared/store"
)

// Values are a compact binary encoding, versioned by their first byte so a
// later format can be told apart. Decoding copies every byte out of the
// value, because bbolt's memory is only valid inside its transaction.
const (
	itemFormat   = 1
	changeFormat = 1
)

var errCorruptValue = errors.New("corrupt value")

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendBytes(dst, b []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

func encodedItemSize(it store.Item) int {
	return 1 + 3*binary.MaxVarintLen64 + 7*binary.MaxVarintLen32 +
		len(it.PK) + len(it.SK) + len(it.GSI1.PK) + len(it.GSI1.SK) + len(it.GSI2.PK) + len(it.GSI2.SK) + len(it.Data)
}

func appendItem(dst []byte, it store.Item) []byte {
	dst = append(dst, itemFormat)
	dst = binary.AppendUvarint(dst, uint64(it.Version))
	dst = binary.AppendVarint(dst, it.ExpiresAt)
	for _, s := range [...]string{it.PK, it.SK, it.GSI1.PK, it.GSI1.SK, it.GSI2.PK, it.GSI2.SK} {
		dst = appendString(dst, s)
	}
	return appendBytes(dst, it.Data)
}

func encodeItem(it store.Item) []byte {
	return appendItem(make([]byte, 0, encodedItemSize(it)), it)
}

// reader walks an encoded value, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorruptValue
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorruptValue
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errCorruptValue
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) raw() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errCorruptValue
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) string() string { return string(r.raw()) }

func (r *reader) bytes() []byte {
	b := r.raw()
	if r.err != nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

func (r *reader) item() store.Item {
	if f := r.byte(); r.err == nil && f != itemFormat {
		r.err = fmt.Errorf("%w: item format %d", errCorruptValue, f)
	}
	var it store.Item
	it.Version = int64(r.uvarint())
	it.ExpiresAt = r.varint()
	it.PK, it.SK = r.string(), r.string()
	it.GSI1.PK, it.GSI1.SK = r.string(), r.string()
	it.GSI2.PK, it.GSI2.SK = r.string(), r.string()
	it.Data = r.bytes()
	return it
}

func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorruptValue
	}
	return r.err
}

func decodeItem(b []byte) (store.Item, error) {
	r := reader{b: b}
	it := r.item()
	if err := r.end(); err != nil {
		return store.Item{}, err
	}
	return it, nil
}

// A change record holds its key and whichever images exist, flagged.
const (
	hasOld = 1 << iota
	hasNew
)

func encodeChange(c store.Change) []byte {
	size := 2 + len(c.Key.PK) + len(c.Key.SK) + 2*binary.MaxVarintLen32
	var flags byte
	if c.Old != nil {
		flags |= hasOld
		size += encodedItemSize(*c.Old)
	}
	if c.New != nil {
		flags |= hasNew
		size += encodedItemSize(*c.New)
	}
	b := append(make([]byte, 0, size), changeFormat, flags)
	b = appendString(appendString(b, c.Key.PK), c.Key.SK)
	if c.Old != nil {
		b = appendItem(b, *c.Old)
	}
	if c.New != nil {
		b = appendItem(b, *c.New)
	}
	return b
}

func decodeChange(b []byte) (store.Change, error) {
	r := reader{b: b}
	if f := r.byte(); r.err == nil && f != changeFormat {
		return store.Change{}, fmt.Errorf("%w: change format %d", errCorruptValue, f)
	}
	flags := r.byte()
	var c store.Change
	c.Key.PK, c.Key.SK = r.string(), r.string()
	if flags&hasOld != 0 {
		old := r.item()
		c.Old = &old
	}
	if flags&hasNew != 0 {
		it := r.item()
		c.New = &it
	}
	if err := r.end(); err != nil {
		return store.Change{}, err
	}
	return c, nil
}
