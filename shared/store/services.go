package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/berth-run/berth/shared/ecs"
)

// Service is a service as stored: its ECS shape plus the scheduler's state
// and the events waiting to be published.
type Service struct {
	ecs.Service
	Berth ServiceState `json:"berth"`
}

// ServiceState is the part of a service ECS does not show.
type ServiceState struct {
	Cluster string `json:"cluster"`
	// ClientToken is the idempotency token the service was created with.
	ClientToken string `json:"clientToken,omitempty"`
	// RequestDigest identifies the create request, to tell a retry from a conflict.
	RequestDigest string `json:"requestDigest,omitempty"`
	// Scheduler is the service scheduler's own state, opaque to the store.
	Scheduler json.RawMessage `json:"scheduler,omitempty"`
	// Outbox holds ECS Service Action and Deployment State Change events
	// decided together with the change that caused them; the publisher
	// emits those with a sequence number above the previous version's.
	Outbox    []OutboxEvent `json:"outbox,omitempty"`
	OutboxSeq int64         `json:"outboxSeq,omitempty"`
}

// OutboxEvent is an event decided by the scheduler, published from the
// committed service item.
type OutboxEvent struct {
	Seq int64 `json:"seq"`
	// DetailType is "ECS Service Action" or "ECS Deployment State Change".
	DetailType   string        `json:"detailType"`
	EventType    string        `json:"eventType"`
	EventName    string        `json:"eventName"`
	Reason       string        `json:"reason,omitempty"`
	DeploymentID string        `json:"deploymentId,omitempty"`
	Instances    []string      `json:"containerInstanceArns,omitempty"`
	At           ecs.Timestamp `json:"at"`
}

// maxOutbox bounds the events kept on a service item; older ones were
// published long ago (the publisher runs on every commit).
const maxOutbox = 20

// AddOutbox appends events to the service's outbox, numbering them.
func (s *Service) AddOutbox(events ...OutboxEvent) {
	for _, e := range events {
		s.Berth.OutboxSeq++
		e.Seq = s.Berth.OutboxSeq
		s.Berth.Outbox = append(s.Berth.Outbox, e)
	}
	if n := len(s.Berth.Outbox); n > maxOutbox {
		s.Berth.Outbox = slices.Clone(s.Berth.Outbox[n-maxOutbox:])
	}
}

// ServiceWrite encodes a service as a Put expecting version expect; plans
// commit it together with their task writes.
func (db *DB) ServiceWrite(s *Service, expect int64) (Write, error) {
	return putWrite(serviceKey(s.Berth.Cluster, s.ServiceName), s, expect)
}

// Service reads a service; ok is false when it was never created.
func (db *DB) Service(ctx context.Context, cluster, name string) (Service, int64, bool, error) {
	var s Service
	v, err := db.getJSON(ctx, serviceKey(cluster, name), &s)
	if errors.Is(err, ErrNotFound) {
		return Service{}, 0, false, nil
	}
	return s, v, err == nil, err
}

// Services reads every service of a cluster (one partition).
func (db *DB) Services(ctx context.Context, cluster string) ([]Service, []int64, error) {
	items, err := db.all(ctx, Query{PK: servicesPK(cluster)})
	if err != nil {
		return nil, nil, err
	}
	out := make([]Service, 0, len(items))
	versions := make([]int64, 0, len(items))
	for _, it := range items {
		s, err := decode[Service](it)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
		versions = append(versions, it.Version)
	}
	return out, versions, nil
}

// CreateService stores a new service, replacing an INACTIVE one of the same
// name. An ACTIVE or DRAINING service of that name is a conflict unless the
// request carries the same client token and parameters (a retry), in which
// case the existing service is returned.
func (db *DB) CreateService(ctx context.Context, s Service) (Service, error) {
	var out Service
	err := retry(ctx, "create service "+s.ServiceName, func() error {
		cluster, cv, err := db.ActiveCluster(ctx, s.Berth.Cluster)
		if err != nil {
			return err
		}
		existing, version, ok, err := db.Service(ctx, s.Berth.Cluster, s.ServiceName)
		if err != nil {
			return err
		}
		if ok && existing.Status != ecs.ServiceInactive {
			if s.Berth.ClientToken != "" && existing.Berth.ClientToken == s.Berth.ClientToken && existing.Berth.RequestDigest == s.Berth.RequestDigest {
				out = existing
				return nil
			}
			return ecs.InvalidParameter("serviceName: creation of service was not idempotent: service %s already exists and is %s", s.ServiceName, existing.Status)
		}
		sw, err := db.ServiceWrite(&s, version)
		if err != nil {
			return err
		}
		cw, err := bumpCluster(cluster, cv)
		if err != nil {
			return err
		}
		out = s
		return db.s.Transact(ctx, []Write{cw, sw})
	})
	return out, err
}

// UpdateService applies change to a service under its version; change may
// return ErrUnchanged to write nothing.
func (db *DB) UpdateService(ctx context.Context, cluster, name string, change func(*Service) error) (Service, error) {
	var out Service
	err := retry(ctx, "update service "+name, func() error {
		s, version, ok, err := db.Service(ctx, cluster, name)
		if err != nil {
			return err
		}
		if !ok {
			return ecs.Errorf(ecs.ServiceNotFoundException, "Service not found.")
		}
		err = change(&s)
		if errors.Is(err, ErrUnchanged) {
			out = s
			return nil
		}
		if err != nil {
			return err
		}
		w, err := db.ServiceWrite(&s, version)
		if err != nil {
			return err
		}
		out = s
		return db.s.Transact(ctx, []Write{w})
	})
	return out, err
}

// ListServices pages through a cluster's service ARNs that keep accepts.
func (db *DB) ListServices(ctx context.Context, cluster, token string, maxResults *int, keep func(*Service) bool) (Page, error) {
	limit, err := pageLimit(maxResults, 10, 100)
	if err != nil {
		return Page{}, err
	}
	items, next, err := db.scan(ctx, Query{PK: servicesPK(cluster)}, token, limit, func(it Item) (bool, error) {
		s, err := decode[Service](it)
		return err == nil && keep(&s), err
	})
	if err != nil {
		return Page{}, err
	}
	page := Page{NextToken: next, Items: []string{}}
	for _, it := range items {
		page.Items = append(page.Items, db.acct.ServiceARN(cluster, it.SK))
	}
	return page, nil
}

// Plan is what one reconcile pass commits atomically: the service as it
// should be (written under the version it was read at), tasks to create on
// the instances they were placed on (read at base's versions), and tasks to
// change (typically to desiredStatus STOPPED), each under its version.
type Plan struct {
	Service        *Service
	ServiceVersion int64
	Base           []Instance
	Start          []Task
	Change         []Task
}

// CommitPlan commits a plan in one transaction. A *ConflictError means the
// service, an instance or a task moved since the plan was made: re-read and
// re-plan.
func (db *DB) CommitPlan(ctx context.Context, p Plan) error {
	var extra []Write
	if p.Service != nil {
		w, err := db.ServiceWrite(p.Service, p.ServiceVersion)
		if err != nil {
			return err
		}
		extra = append(extra, w)
	}
	for i := range p.Change {
		t := p.Change[i]
		ws, err := db.taskWrites(&t, t.Version, false)
		if err != nil {
			return err
		}
		extra = append(extra, ws...)
	}
	if len(p.Start) == 0 {
		if len(extra) == 0 {
			return nil
		}
		return db.s.Transact(ctx, extra)
	}
	return db.CommitPlacement(ctx, p.Base, p.Start, extra)
}
