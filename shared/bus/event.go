package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sources of the events Berth emits and consumes.
const (
	// SourceBerth is the source of every event Berth emits. EventBridge
	// refuses custom events whose source starts with "aws.", so Berth's
	// ECS-shaped events cannot use ECS's own "aws.ecs".
	SourceBerth = "berth"
	// SourceCloudWatch is the source of CloudWatch alarm state changes,
	// which drive the scaler.
	SourceCloudWatch = "aws.cloudwatch"
	// SourceEvents is the source of the events EventBridge schedules emit.
	SourceEvents = "aws.events"
)

// Detail types, the event's "detail-type".
const (
	DetailTypeTaskStateChange              = "ECS Task State Change"
	DetailTypeContainerInstanceStateChange = "ECS Container Instance State Change"
	DetailTypeServiceAction                = "ECS Service Action"
	DetailTypeDeploymentStateChange        = "ECS Deployment State Change"
	DetailTypeAlarmStateChange             = "CloudWatch Alarm State Change"
	DetailTypeScheduled                    = "Scheduled Event"

	// DetailTypeServiceChange is Berth-internal (not an ECS event): it
	// announces that a service item changed so the reconciler runs for it.
	// Users may subscribe to it but should not rely on its shape.
	DetailTypeServiceChange = "Berth Service Change"
)

// EnvelopeVersion is the only envelope version EventBridge uses.
const EnvelopeVersion = "0"

// MaxEntrySize is the largest event PutEvents accepts, measured by EntrySize.
const MaxEntrySize = 256 * 1024

// ErrInvalidEvent marks an event that is not a valid EventBridge event; test
// with errors.Is.
var ErrInvalidEvent = errors.New("invalid event")

// Event is an EventBridge event: the envelope and its JSON detail. It
// marshals to exactly the JSON EventBridge delivers to targets.
type Event struct {
	Version    string
	ID         string
	DetailType string
	Source     string
	Account    string
	// Time is when the event happened; it is written with second precision.
	Time      time.Time
	Region    string
	Resources []string
	// Detail is the event-specific payload, a JSON object.
	Detail json.RawMessage
}

// wireEvent is Event's JSON form, members in EventBridge's order.
type wireEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// envelopeTimeLayout is EventBridge's time format: UTC, whole seconds.
const envelopeTimeLayout = "2006-01-02T15:04:05Z"

// MarshalJSON writes the envelope as EventBridge does: time in whole
// seconds, resources always an array and detail always an object.
func (e Event) MarshalJSON() ([]byte, error) {
	w := wireEvent{
		Version:    e.Version,
		ID:         e.ID,
		DetailType: e.DetailType,
		Source:     e.Source,
		Account:    e.Account,
		Time:       e.Time.UTC().Format(envelopeTimeLayout),
		Region:     e.Region,
		Resources:  e.Resources,
		Detail:     e.Detail,
	}
	if w.Resources == nil {
		w.Resources = []string{}
	}
	if len(bytes.TrimSpace(w.Detail)) == 0 {
		w.Detail = json.RawMessage("{}")
	}
	return marshal(w)
}

// marshal is json.Marshal without HTML escaping: EventBridge delivers
// "->" as it is, not as "-\u003e".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads an envelope. It fails only on JSON it cannot map
// (wrong member types, a time that is not ISO-8601); Validate judges the rest.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	var t time.Time
	if w.Time != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, w.Time); err != nil {
			return fmt.Errorf("%w: time: %q is not an ISO-8601 time such as 2020-01-23T17:57:58Z", ErrInvalidEvent, w.Time)
		}
	}
	*e = Event{
		Version:    w.Version,
		ID:         w.ID,
		DetailType: w.DetailType,
		Source:     w.Source,
		Account:    w.Account,
		Time:       t.UTC(),
		Region:     w.Region,
		Resources:  w.Resources,
		Detail:     w.Detail,
	}
	return nil
}

// ParseEvent reads and validates one event in EventBridge's JSON form.
func ParseEvent(b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		if errors.Is(err, ErrInvalidEvent) {
			return Event{}, err
		}
		return Event{}, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Validate checks what EventBridge requires of an event: every envelope
// member set, a 12-digit account, detail a JSON object, and the entry within
// MaxEntrySize. It does not refuse "aws." sources: AWS services emit those
// (the adapter for real EventBridge refuses to put them, see IsAWSSource).
func (e Event) Validate() error {
	switch {
	case e.Version != EnvelopeVersion:
		return invalidEvent("version", "must be %q, got %q", EnvelopeVersion, e.Version)
	case e.ID == "":
		return invalidEvent("id", "must not be empty")
	case e.DetailType == "":
		return invalidEvent("detail-type", "must not be empty")
	case e.Source == "":
		return invalidEvent("source", "must not be empty")
	case !isAccountID(e.Account):
		return invalidEvent("account", "must be a 12-digit account ID, got %q", e.Account)
	case e.Time.IsZero():
		return invalidEvent("time", "must be set")
	case e.Region == "":
		return invalidEvent("region", "must not be empty")
	}
	for i, r := range e.Resources {
		if r == "" {
			return invalidEvent(fmt.Sprintf("resources[%d]", i), "must not be empty")
		}
	}
	if !isJSONObject(e.Detail) {
		return invalidEvent("detail", "must be a JSON object")
	}
	if n := e.EntrySize(); n > MaxEntrySize {
		return invalidEvent("detail", "the event is %d bytes; EventBridge accepts at most %d", n, MaxEntrySize)
	}
	return nil
}

// EntrySize is the event's size as PutEvents counts it against its 256 KiB
// limit: 14 bytes for the time plus the UTF-8 bytes of source, detail-type,
// detail and every resource.
func (e Event) EntrySize() int {
	n := len(e.Source) + len(e.DetailType) + len(e.Detail)
	if !e.Time.IsZero() {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// IsAWSSource reports whether source is reserved to AWS services: EventBridge
// refuses PutEvents entries with such a source.
func IsAWSSource(source string) bool {
	return len(source) >= 4 && source[:4] == "aws."
}

func invalidEvent(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidEvent, field, fmt.Sprintf(format, args...))
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
