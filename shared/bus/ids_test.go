package bus

import (
	"regexp"
	"testing"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUUIDSetsVersionAndVariant(t *testing.T) {
	var ff [16]byte
	for i := range ff {
		ff[i] = 0xff
	}
	for _, b := range [][16]byte{{}, ff} {
		if s := UUID(b); !uuidV4.MatchString(s) {
			t.Errorf("UUID(%x) = %s, not a version 4 UUID", b, s)
		}
	}
}

func TestSeededIDsAreDeterministicAndDistinct(t *testing.T) {
	a, b, c := SeededIDs(7), SeededIDs(7), SeededIDs(8)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		x, y, z := a(), b(), c()
		if x != y {
			t.Fatalf("draw %d: same seed gave %s and %s", i, x, y)
		}
		if x == z {
			t.Fatalf("draw %d: seeds 7 and 8 both gave %s", i, x)
		}
		if !uuidV4.MatchString(x) {
			t.Fatalf("draw %d: %s is not a version 4 UUID", i, x)
		}
		if seen[x] {
			t.Fatalf("draw %d: %s repeated", i, x)
		}
		seen[x] = true
	}
}

func TestRandomIDsAreUUIDs(t *testing.T) {
	next := RandomIDs()
	x, y := next(), next()
	if !uuidV4.MatchString(x) || x == y {
		t.Errorf("RandomIDs gave %s then %s", x, y)
	}
}
