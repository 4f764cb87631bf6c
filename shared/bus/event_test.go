package bus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func validEvent() Event {
	return Event{
		Version:    "0",
		ID:         "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		DetailType: DetailTypeServiceChange,
		Source:     SourceBerth,
		Account:    "000000000000",
		Time:       time.Date(2020, 1, 23, 17, 57, 58, 0, time.UTC),
		Region:     "us-east-1",
		Resources:  []string{"arn:aws:ecs:us-east-1:000000000000:service/default/web"},
		Detail:     json.RawMessage(`{"serviceName":"web"}`),
	}
}

func TestEventMarshalsAsEventBridge(t *testing.T) {
	e := validEvent()
	e.Time = time.Date(2020, 1, 23, 17, 57, 58, 587_000_000, time.FixedZone("CET", 3600))
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Berth Service Change",` +
		`"source":"berth","account":"000000000000","time":"2020-01-23T16:57:58Z","region":"us-east-1",` +
		`"resources":["arn:aws:ecs:us-east-1:000000000000:service/default/web"],"detail":{"serviceName":"web"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEventMarshalWritesEmptyResourcesAndDetail(t *testing.T) {
	e := validEvent()
	e.Resources, e.Detail = nil, nil
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `"resources":[]`) || !strings.Contains(string(got), `"detail":{}`) {
		t.Errorf("want resources [] and detail {}, got %s", got)
	}
}

func TestEventRoundTrip(t *testing.T) {
	e := validEvent()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(e.Time) || back.ID != e.ID || back.DetailType != e.DetailType ||
		back.Source != e.Source || back.Account != e.Account || back.Region != e.Region ||
		strings.Join(back.Resources, ",") != strings.Join(e.Resources, ",") || string(back.Detail) != string(e.Detail) {
		t.Errorf("round trip changed the event:\n got %+v\nwant %+v", back, e)
	}
}

func TestParseEventAcceptsFractionalTime(t *testing.T) {
	raw := `{"version":"0","id":"x","detail-type":"d","source":"s","account":"123456789012",` +
		`"time":"2019-10-02T17:04:40.989Z","region":"eu-west-1","resources":[],"detail":{}}`
	e, err := ParseEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if e.Time.Nanosecond() != 989_000_000 {
		t.Errorf("time %v lost its fraction", e.Time)
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	tests := []struct {
		field  string
		mutate func(*Event)
	}{
		{"version", func(e *Event) { e.Version = "1" }},
		{"id", func(e *Event) { e.ID = "" }},
		{"detail-type", func(e *Event) { e.DetailType = "" }},
		{"source", func(e *Event) { e.Source = "" }},
		{"account", func(e *Event) { e.Account = "12345" }},
		{"account", func(e *Event) { e.Account = "00000000000a" }},
		{"time", func(e *Event) { e.Time = time.Time{} }},
		{"region", func(e *Event) { e.Region = "" }},
		{"resources[1]", func(e *Event) { e.Resources = append(e.Resources, "") }},
		{"detail", func(e *Event) { e.Detail = json.RawMessage(`"a string"`) }},
		{"detail", func(e *Event) { e.Detail = json.RawMessage(`{"unterminated":`) }},
		{"detail", func(e *Event) { e.Detail = nil }},
		{"detail", func(e *Event) {
			e.Detail = json.RawMessage(`{"blob":"` + strings.Repeat("x", MaxEntrySize) + `"}`)
		}},
	}
	for _, tt := range tests {
		e := validEvent()
		tt.mutate(&e)
		err := e.Validate()
		if !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidEvent", tt.field, err)
			continue
		}
		if !strings.Contains(err.Error(), ": "+tt.field+": ") {
			t.Errorf("%s: error %q does not name the field", tt.field, err)
		}
	}
	if err := validEvent().Validate(); err != nil {
		t.Errorf("valid event refused: %v", err)
	}
}

func TestParseEventRefusesBadJSON(t *testing.T) {
	for _, raw := range []string{
		`not json`,
		`[]`,
		`{"version":"0","time":"yesterday"}`,
		`{"version":0}`,
		`{"resources":"arn"}`,
	} {
		if _, err := ParseEvent([]byte(raw)); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("ParseEvent(%s) = %v, want ErrInvalidEvent", raw, err)
		}
	}
}

func TestEntrySizeCountsAsPutEvents(t *testing.T) {
	e := validEvent()
	want := 14 + len(e.Source) + len(e.DetailType) + len(e.Detail) + len(e.Resources[0])
	if got := e.EntrySize(); got != want {
		t.Errorf("EntrySize() = %d, want %d", got, want)
	}
}

func TestIsAWSSource(t *testing.T) {
	for src, want := range map[string]bool{
		"aws.ecs": true, "aws.cloudwatch": true, "berth": false, "awsome": false, "aws": false,
	} {
		if got := IsAWSSource(src); got != want {
			t.Errorf("IsAWSSource(%q) = %v, want %v", src, got, want)
		}
	}
}

func TestMarshalKeepsArrowsReadable(t *testing.T) {
	f := Factory{Account: testAccount, NewID: SeededIDs(1)}
	e, err := f.DeploymentEvent(time.Unix(0, 0), "arn:aws:ecs:us-east-1:000000000000:service/default/web",
		DeploymentStateChange{EventType: EventTypeInfo, EventName: DeploymentInProgress, DeploymentID: "ecs-svc/1", Reason: "OK -> ALARM"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Detail), "OK -> ALARM") {
		t.Errorf("detail %s escapes '>'", e.Detail)
	}
}
