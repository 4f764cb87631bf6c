package scheduler

import (
	"encoding/hex"
	"strconv"
	"time"
)

// ids draws the identifiers a call creates (deployments, service events,
// tasks) from the caller's seed, so the call stays a pure function of its
// input: the same seed gives the same IDs.
type ids struct{ state uint64 }

// newIDs starts a stream from the caller's seed and the time, so a caller
// that reuses a seed still gets new IDs at another time. It differs from
// the placement engine's stream, which takes the seed as is.
func newIDs(seed int64, now time.Time) *ids {
	return &ids{state: uint64(seed) ^ uint64(now.UnixNano())*0x5bd1e9955bd1e995}
}

// next is splitmix64: cheap, and every seed gives a full-period stream.
func (g *ids) next() uint64 {
	g.state += 0x9e3779b97f4a7c15
	z := g.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// deploymentID is ECS's form: ecs-svc/ and 19 digits.
func (g *ids) deploymentID() string {
	return DeploymentIDFrom(g.next())
}

// DeploymentIDFrom formats a deployment ID (ecs-svc/ and 19 digits, the
// first not 0) from any 64-bit number.
func DeploymentIDFrom(n uint64) string {
	const low, span = 1_000_000_000_000_000_000, 9_000_000_000_000_000_000
	return deploymentPrefix + strconv.FormatUint(low+n%span, 10)
}

// eventID is a version-4 UUID, as ECS gives service events.
func (g *ids) eventID() string {
	var b [16]byte
	putUint64(b[:8], g.next())
	putUint64(b[8:], g.next())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// taskID is 32 lowercase hex digits, the form of Berth's task IDs.
func (g *ids) taskID() string {
	var b [16]byte
	putUint64(b[:8], g.next())
	putUint64(b[8:], g.next())
	return hex.EncodeToString(b[:])
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}
