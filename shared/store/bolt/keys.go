package bolt

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/berth-run/berth/shared/store"
)

// Keys in the items, gsi and ttl buckets are built from string components
// encoded so that bbolt's byte-wise key order equals the order of the
// component tuples, each compared byte-wise as DynamoDB compares string keys:
// a NUL byte is escaped as 0x00 0xFF and every component ends with 0x00 0x01.
// The terminator sorts below every byte a component may hold, so "a" < "ab"
// and a partition's keys are contiguous.
const (
	escapeByte = 0x00
	escapedNul = 0xFF
	terminator = 0x01
)

var errCorruptKey = errors.New("corrupt key")

// appendEscaped appends s escaped but unterminated: a prefix of every
// component that starts with s.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == escapeByte {
			dst = append(dst, escapeByte, escapedNul)
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

// appendComponent appends s as one terminated key component.
func appendComponent(dst []byte, s string) []byte {
	return append(appendEscaped(dst, s), escapeByte, terminator)
}

// readComponent decodes the component at the start of b and returns the rest.
func readComponent(b []byte) (string, []byte, error) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != escapeByte {
			continue
		}
		if i+1 >= len(b) {
			return "", nil, errCorruptKey
		}
		switch b[i+1] {
		case terminator:
			if out == nil {
				return string(b[:i]), b[i+2:], nil
			}
			return string(append(out, b[:i]...)), b[i+2:], nil
		case escapedNul:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, errCorruptKey
		}
	}
	return "", nil, errCorruptKey
}

// skipComponent returns b after its first component.
func skipComponent(b []byte) ([]byte, error) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] != escapeByte {
			continue
		}
		switch b[i+1] {
		case terminator:
			return b[i+2:], nil
		case escapedNul:
			i++
		default:
			return nil, errCorruptKey
		}
	}
	return nil, errCorruptKey
}

// itemKey is an item's key in the items bucket.
func itemKey(k store.Key) []byte {
	return appendComponent(appendComponent(make([]byte, 0, len(k.PK)+len(k.SK)+4), k.PK), k.SK)
}

// decodeItemKey reverses itemKey.
func decodeItemKey(b []byte) (store.Key, error) {
	pk, rest, err := readComponent(b)
	if err != nil {
		return store.Key{}, err
	}
	sk, rest, err := readComponent(rest)
	if err != nil {
		return store.Key{}, err
	}
	if len(rest) != 0 {
		return store.Key{}, errCorruptKey
	}
	return store.Key{PK: pk, SK: sk}, nil
}

// indexKey is an item's entry in a gsi bucket: the index key, then the base
// key, which makes entries unique although index sort keys need not be.
func indexKey(ik, base store.Key) []byte {
	b := make([]byte, 0, len(ik.PK)+len(ik.SK)+len(base.PK)+len(base.SK)+8)
	b = appendComponent(appendComponent(b, ik.PK), ik.SK)
	return appendComponent(appendComponent(b, base.PK), base.SK)
}

// baseKeyOfIndexEntry returns the items-bucket key inside a gsi entry.
func baseKeyOfIndexEntry(entry []byte) ([]byte, error) {
	rest, err := skipComponent(entry)
	if err != nil {
		return nil, err
	}
	return skipComponent(rest)
}

// ttlKey is an item's entry in the ttl bucket: its expiry, big-endian so
// entries sort by time, then its base key.
func ttlKey(expiresAt int64, k store.Key) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(k.PK)+len(k.SK)+4), uint64(expiresAt))
	return append(b, itemKey(k)...)
}

// inIndex reports whether an item with index key ik belongs in the index:
// like a sparse DynamoDB GSI, only when both index attributes are set.
func inIndex(ik store.Key) bool { return ik.PK != "" && ik.SK != "" }

// prefixEnd returns the smallest key greater than every key that starts
// with prefix, or nil if there is none.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// A cursor is the bucket key of the last item a page returned, tagged with
// the index it belongs to. Resuming by key, not by offset, keeps pages free
// of gaps and repeats when items come and go between them.
var cursorEncoding = base64.RawURLEncoding

func indexTag(ix store.Index) byte {
	switch ix {
	case store.GSI1:
		return 1
	case store.GSI2:
		return 2
	default:
		return 0
	}
}

func encodeCursor(ix store.Index, lastKey []byte) string {
	return cursorEncoding.EncodeToString(append([]byte{indexTag(ix)}, lastKey...))
}

// decodeCursor checks that cursor came from a query of the same index and
// partition and returns the bucket key it resumes after.
func decodeCursor(q store.Query, partition []byte) ([]byte, error) {
	raw, err := cursorEncoding.DecodeString(q.Cursor)
	if err != nil || len(raw) == 0 || raw[0] != indexTag(q.Index) || !bytes.HasPrefix(raw[1:], partition) {
		return nil, fmt.Errorf("%w: cursor does not belong to a query of index %q partition %q", store.ErrInvalid, q.Index, q.PK)
	}
	key := raw[1:]
	components := 2
	if q.Index != store.Base {
		components = 4
	}
	rest := key
	for range components {
		if rest, err = skipComponent(rest); err != nil {
			return nil, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
	}
	return key, nil
}
