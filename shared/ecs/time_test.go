package ecs

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampWireForm(t *testing.T) {
	cases := []struct {
		at   time.Time
		want string
	}{
		{time.Unix(1700000000, 0), "1700000000"},
		{time.Unix(1700000000, 123e6), "1700000000.123"},
		{time.Unix(1700000000, 999999999), "1700000000.999"},
	}
	for _, c := range cases {
		got, err := json.Marshal(At(c.at))
		if err != nil || string(got) != c.want {
			t.Errorf("At(%v) = %s, %v; want %s", c.at, got, err, c.want)
		}
		var back Timestamp
		if err := json.Unmarshal(got, &back); err != nil || !back.Equal(At(c.at).Time) {
			t.Errorf("round trip of %s = %v, %v", got, back, err)
		}
	}
}

func TestTimestampOmittedWhenZero(t *testing.T) {
	b, _ := json.Marshal(Task{TaskArn: "x"})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, f := range []string{"createdAt", "startedAt", "stoppedAt", "pullStartedAt"} {
		if _, ok := m[f]; ok {
			t.Errorf("zero %s should be omitted: %s", f, b)
		}
	}
}

func TestTimestampRejectsNonNumbers(t *testing.T) {
	for _, in := range []string{`"2020-01-01"`, `true`, `{}`, `1e400`} {
		var ts Timestamp
		if err := json.Unmarshal([]byte(in), &ts); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want an error", in)
		}
	}
}

func TestTimestampISO(t *testing.T) {
	if got := At(time.Date(2020, 1, 23, 17, 57, 58, 0, time.UTC)).ISO(); got != "2020-01-23T17:57:58Z" {
		t.Errorf("ISO = %q", got)
	}
	if got := At(time.Date(2020, 1, 23, 17, 57, 58, 5e8, time.UTC)).ISO(); got != "2020-01-23T17:57:58.5Z" {
		t.Errorf("ISO with fraction = %q", got)
	}
}
