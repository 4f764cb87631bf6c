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
// event (detail.version is the item's version); every change to a service a
// Berth Service Change that wakes the reconciler, plus the Service Action
// and Deployment State Change events its outbox gained. Because events
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
	case store.KindService:
		return p.serviceEvents(now, ch)
	}
	return nil, nil
}

// serviceEvents announces a service change to the reconciler and publishes
// the outbox events the new version added.
func (p *Publisher) serviceEvents(now time.Time, ch store.Change) ([]bus.Event, error) {
	var s store.Service
	if err := json.Unmarshal(ch.New.Data, &s); err != nil {
		return nil, err
	}
	var seen int64
	if ch.Old != nil {
		var old store.Service
		if err := json.Unmarshal(ch.Old.Data, &old); err != nil {
			return nil, err
		}
		seen = old.Berth.OutboxSeq
	}
	change, err := p.Factory.ServiceChangeEvent(now, bus.ServiceChange{
		ClusterArn: s.ClusterArn, ServiceArn: s.ServiceArn, ServiceName: s.ServiceName, Version: ch.New.Version,
	})
	if err != nil {
		return nil, err
	}
	events := []bus.Event{change}
	for _, o := range s.Berth.Outbox {
		if o.Seq <= seen {
			continue
		}
		e, err := p.outboxEvent(&s, o)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

func (p *Publisher) outboxEvent(s *store.Service, o store.OutboxEvent) (bus.Event, error) {
	if o.DetailType == bus.DetailTypeDeploymentStateChange {
		return p.Factory.DeploymentEvent(o.At.Time, s.ServiceArn, bus.DeploymentStateChange{
			EventType: o.EventType, EventName: o.EventName, DeploymentID: o.DeploymentID,
			UpdatedAt: bus.ISO(o.At.Time), Reason: o.Reason,
		})
	}
	return p.Factory.ServiceActionEvent(o.At.Time, s.ServiceArn, bus.ServiceAction{
		EventType: o.EventType, EventName: o.EventName, ClusterArn: s.ClusterArn,
		CreatedAt: bus.ISO(o.At.Time), ContainerInstanceArns: o.Instances, Reason: o.Reason,
	})
}
