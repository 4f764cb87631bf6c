package cql

import (
	"strings"
	"time"
)

// dateLayouts are the registeredAt formats ECS documents, with the span of
// time each one names.
var dateLayouts = []struct {
	layout string
	span   time.Duration
}{
	{"2006-01-02T15:04:05Z07:00", time.Second}, // ...+00:00 and ...Z
	{"2006-01-02T15:04:05", time.Second},       // UTC
	{"2006-01-02", 24 * time.Hour},             // UTC
}

// parseDate reads a registeredAt argument as the interval [lo, hi) it
// names: the whole second or the whole day.
func parseDate(s string) (lo, hi time.Time, ok bool) {
	// Go accepts a fraction after the seconds even when the layout has
	// none; ECS's formats have none, so neither does Berth.
	if strings.ContainsAny(s, ".,") {
		return lo, hi, false
	}
	for _, l := range dateLayouts {
		t, err := time.Parse(l.layout, s)
		if err == nil {
			return t, t.Add(l.span), true
		}
	}
	return lo, hi, false
}
