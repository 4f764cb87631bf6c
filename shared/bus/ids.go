package bus

import (
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"sync"
)

// UUID formats 16 bytes as a version 4 (random) UUID, the form of
// EventBridge event IDs; it sets the version and variant bits itself.
func UUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// SeededIDs returns a generator of UUIDs drawn from a deterministic source:
// the same seed gives the same sequence, which tests rely on. It is safe for
// concurrent use.
func SeededIDs(seed uint64) func() string {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		var b [16]byte
		for i := 0; i < 16; i += 8 {
			v := r.Uint64()
			for j := 0; j < 8; j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		return UUID(b)
	}
}

// RandomIDs returns a generator of UUIDs from the operating system's secure
// random source, for production wiring.
func RandomIDs() func() string {
	return func() string {
		var b [16]byte
		// crypto/rand.Read never returns an error (it aborts the program
		// instead), so there is nothing to handle.
		_, _ = crand.Read(b[:])
		return UUID(b)
	}
}
