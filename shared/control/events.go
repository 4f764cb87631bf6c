package control

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
)

// Events serves EventBridge's PutEvents on the local endpoint, so
// `aws events put-events --endpoint-url ...` injects events into the
// in-process bus (for instance a CloudWatch alarm for the scaler).
type Events struct {
	Bus     bus.Bus
	Account ecs.Account
	NewID   func() string
	Now     func() time.Time
}

// PutEventsInput is PutEvents' request.
type PutEventsInput struct {
	Entries    []PutEventsEntry `json:"Entries"`
	EndpointID string           `json:"EndpointId"`
}

// PutEventsEntry is one event to put.
type PutEventsEntry struct {
	Source       string        `json:"Source"`
	DetailType   string        `json:"DetailType"`
	Detail       string        `json:"Detail"`
	Resources    []string      `json:"Resources"`
	Time         ecs.Timestamp `json:"Time"`
	EventBusName string        `json:"EventBusName"`
	TraceHeader  string        `json:"TraceHeader"`
}

// PutEventsOutput is PutEvents' response.
type PutEventsOutput struct {
	FailedEntryCount int                    `json:"FailedEntryCount"`
	Entries          []PutEventsResultEntry `json:"Entries"`
}

// PutEventsResultEntry is one entry's outcome: an event ID or an error.
type PutEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// PutEvents validates each entry as EventBridge does and puts the valid ones
// on the bus; invalid entries fail alone, in Entries.
func (e *Events) PutEvents(ctx context.Context, in *PutEventsInput) (*PutEventsOutput, error) {
	if n := len(in.Entries); n < 1 || n > 10 {
		return nil, ecs.Errorf("ValidationException", "Entries: 1-10 entries are allowed, got %d", n)
	}
	out := &PutEventsOutput{Entries: make([]PutEventsResultEntry, len(in.Entries))}
	var events []bus.Event
	var slots []int
	for i, entry := range in.Entries {
		ev, code, msg := e.toEvent(entry)
		if code != "" {
			out.Entries[i] = PutEventsResultEntry{ErrorCode: code, ErrorMessage: msg}
			out.FailedEntryCount++
			continue
		}
		out.Entries[i] = PutEventsResultEntry{EventID: ev.ID}
		events = append(events, ev)
		slots = append(slots, i)
	}
	if len(events) == 0 {
		return out, nil
	}
	if err := e.Bus.Put(ctx, events...); err != nil {
		if errors.Is(err, bus.ErrClosed) {
			return nil, ecs.Server(err)
		}
		for _, i := range slots {
			out.Entries[i] = PutEventsResultEntry{ErrorCode: "InternalFailure", ErrorMessage: err.Error()}
		}
		out.FailedEntryCount += len(slots)
	}
	return out, nil
}

// toEvent builds the envelope for an entry, or the error code EventBridge
// would give it.
func (e *Events) toEvent(entry PutEventsEntry) (bus.Event, string, string) {
	switch {
	case entry.Source == "":
		return bus.Event{}, "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case entry.DetailType == "":
		return bus.Event{}, "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case entry.Detail == "":
		return bus.Event{}, "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(entry.Detail), &detail); err != nil || detail == nil {
		return bus.Event{}, "MalformedDetail", "Detail is malformed: it must be a JSON object."
	}
	at := entry.Time.Time
	if at.IsZero() {
		at = e.Now()
	}
	ev := bus.Event{
		Version:    bus.EnvelopeVersion,
		ID:         e.NewID(),
		DetailType: entry.DetailType,
		Source:     entry.Source,
		Account:    e.Account.ID,
		Time:       at,
		Region:     e.Account.Region,
		Resources:  orEmpty(entry.Resources),
		Detail:     json.RawMessage(entry.Detail),
	}
	if err := ev.Validate(); err != nil {
		return bus.Event{}, "InvalidArgument", err.Error()
	}
	return ev, "", ""
}
