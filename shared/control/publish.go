package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/store"
)

// Publisher turns the store's committed changes into events: every new
// version of a task or container instance becomes its ECS state-change
// event (detail.version is the item's version). Because events
// come only from committed state, no change goes unannounced and no event
// announces a change that did not commit. Redelivered changes publish
// duplicates with the same version, which consumers tolerate.
type Publisher struct {
	Bus     bus.Bus
	Factory bus.Factory
	Now     func() time.Time
}

// Handle publishes the events for a batch of changes.
func (p *Publisher) Handle(ctx context.Context, changes []store.Change) error {
	var events []bus.Event
	for _, ch := range changes {
		evs, err := p.eventsFor(ch)
		if err != nil {
			return fmt.Errorf("publish change to %s: %w", ch.Key, err)
		}
		events = append(events, evs...)
	}
	for start := 0; start < len(events); start += 10 {
		if err := p.Bus.Put(ctx, events[start:min(start+10, len(events))]...); err != nil {
			return fmt.Errorf("publish %d events: %w", len(events), err)
		}
	}
	return nil
}

// eventsFor maps one change to its events; changes that announce nothing
// (deletions, heartbeats, unchanged versions) map to none.
func (p *Publisher) eventsFor(ch store.Change) ([]bus.Event, error) {
	if ch.New == nil || (ch.Old != nil && ch.Old.Version >= ch.New.Version) {
		return nil, nil
	}
	now := p.Now()
	switch store.KindOf(ch.Key) {
	case store.KindTask:
		var t store.Task
		if err := json.Unmarshal(ch.New.Data, &t); err != nil {
			return nil, err
		}
		t.Version = ch.New.Version
		e, err := p.Factory.TaskEvent(now, &t.Task)
		return []bus.Event{e}, err
	case store.KindInstance:
		var in store.Instance
		if err := json.Unmarshal(ch.New.Data, &in); err != nil {
			return nil, err
		}
		in.Version = ch.New.Version
		e, err := p.Factory.InstanceEvent(now, &in.ContainerInstance)
		return []bus.Event{e}, err
	}
	return nil, nil
}
