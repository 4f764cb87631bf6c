package bus

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// ISOTime is a timestamp in an event detail. ECS's API writes epoch seconds
// but its events write ISO-8601 in UTC the way Java's Instant prints: three
// fraction digits when there are milliseconds, none otherwise
// (2020-01-23T17:57:34.402Z, 2020-05-23T11:11:11Z). The zero value is
// written as null; use it with omitzero.
type ISOTime struct{ time.Time }

// ISO wraps t, truncated to the millisecond precision ECS keeps.
func ISO(t time.Time) ISOTime { return ISOTime{t.Truncate(time.Millisecond).UTC()} }

// FromTimestamp converts an API timestamp to an event timestamp.
func FromTimestamp(t ecs.Timestamp) ISOTime {
	if t.IsZero() {
		return ISOTime{}
	}
	return ISO(t.Time)
}

// Timestamp converts back to an API timestamp.
func (t ISOTime) Timestamp() ecs.Timestamp {
	if t.IsZero() {
		return ecs.Timestamp{}
	}
	return ecs.At(t.Time)
}

// String formats t as ECS events do; "" for the zero time.
func (t ISOTime) String() string {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	if u.Nanosecond()/int(time.Millisecond) == 0 {
		return u.Format("2006-01-02T15:04:05Z")
	}
	return u.Format("2006-01-02T15:04:05.000Z")
}

// MarshalJSON writes the ISO-8601 string, or null for the zero time.
func (t ISOTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendQuote(nil, t.String()), nil
}

// UnmarshalJSON reads any RFC 3339 time, or null.
func (t *ISOTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = ISOTime{}
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("timestamp must be an ISO-8601 string, got %s", b)
	}
	parsed, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %q is not ISO-8601 (e.g. 2020-01-23T17:57:34.402Z)", s)
	}
	*t = ISO(parsed)
	return nil
}
