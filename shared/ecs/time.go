package ecs

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Timestamp is a point in time in ECS's wire form: epoch seconds as a JSON
// number with millisecond precision (e.g. 1700000000.123). The zero value
// means "not set"; use it with the omitzero tag option.
type Timestamp struct{ time.Time }

// At wraps t, truncated to the millisecond precision ECS keeps.
func At(t time.Time) Timestamp { return Timestamp{t.Truncate(time.Millisecond).UTC()} }

// MarshalJSON writes epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64), nil
}

// UnmarshalJSON reads epoch seconds (integer or fractional) or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = Timestamp{}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("timestamp must be epoch seconds, got %s", b)
	}
	sec, frac := math.Modf(f)
	*t = Timestamp{time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()}
	return nil
}

// ISO formats t the way ECS events do (RFC 3339, UTC, millisecond precision
// when there is a fraction).
func (t Timestamp) ISO() string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.999Z07:00")
}
