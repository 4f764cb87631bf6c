package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
)

// ScalableTarget is a scalable target as stored: its AAS shape plus what
// AAS does not show.
type ScalableTarget struct {
	scaling.ScalableTarget
	Berth ScalableTargetState `json:"berth"`
}

// ScalableTargetState is the scaler's memory of a target.
type ScalableTargetState struct {
	Tags map[string]string `json:"tags,omitempty"`
	// Cooldowns are scaling.Decide's per-policy cooldowns, saved in the
	// transaction that applies the decision.
	Cooldowns scaling.Cooldowns `json:"cooldowns,omitempty"`
	// Runs records, per alarm, the scaler's last run for it, so the
	// monitor re-runs an alarm still in ALARM once a minute and a
	// redelivered event is recognised.
	Runs map[string]AlarmRun `json:"runs,omitempty"`
	// Activities are the sequence numbers of the target's recorded
	// activities, oldest first; beyond MaxScalingActivities the oldest is
	// deleted as a new one is written.
	Activities []int64 `json:"activities,omitempty"`
}

// AlarmRun is one run of the scaler for an alarm.
type AlarmRun struct {
	At time.Time `json:"at"`
	// StateTimestamp is the alarm state's timestamp the run acted on.
	StateTimestamp string `json:"stateTimestamp,omitempty"`
}

// Retention of scaling activities: AAS keeps six weeks of history; Berth
// also bounds the count per target.
const (
	ScalingActivityTTL   = 6 * 7 * 24 * time.Hour
	MaxScalingActivities = 100
)

// ScalingTx is one read-modify-write of a scalable target. UpdateScaling
// fills the read side; the change function edits it and says what to write.
type ScalingTx struct {
	Key scaling.TargetKey
	// Target is the registered target, nil when there is none. To write
	// it, set PutTarget (creating it when it was nil) or DeleteTarget.
	Target       *ScalableTarget
	PutTarget    bool
	DeleteTarget bool
	// Policies are the target's policies, by name order. PutPolicies and
	// DeletePolicies name the writes.
	Policies       []scaling.ScalingPolicy
	PutPolicies    []scaling.ScalingPolicy
	DeletePolicies []string
	// Service is the ECS service behind the target (nil when it does not
	// exist), read only when UpdateScaling was asked to. PutService writes
	// it back under the version it was read at.
	Service    *Service
	PutService bool
	// Activities are recorded with the write (each needs PutTarget, which
	// numbers them).
	Activities []scaling.ScalingActivity

	versions map[Key]int64
}

// Policy returns the target's policy of that name.
func (tx *ScalingTx) Policy(name string) (scaling.ScalingPolicy, bool) {
	i := slices.IndexFunc(tx.Policies, func(p scaling.ScalingPolicy) bool { return p.PolicyName == name })
	if i < 0 {
		return scaling.ScalingPolicy{}, false
	}
	return tx.Policies[i], true
}

// UpdateScaling reads a target's partition (the target and its policies,
// one Query) and, with withService, its ECS service; calls change; and
// commits what change asked for in one transaction, every item under the
// version it was read at. A conflict re-reads and calls change again, so
// change must derive everything from tx. change may return ErrUnchanged
// to write nothing.
func (db *DB) UpdateScaling(ctx context.Context, key scaling.TargetKey, withService bool, change func(tx *ScalingTx) error) error {
	return retry(ctx, "update scalable target "+key.ResourceID, func() error {
		tx, err := db.readScaling(ctx, key, withService)
		if err != nil {
			return err
		}
		if err := change(tx); err != nil {
			if errors.Is(err, ErrUnchanged) {
				return nil
			}
			return err
		}
		writes, err := db.scalingWrites(tx)
		if err != nil || len(writes) == 0 {
			return err
		}
		return db.s.Transact(ctx, writes)
	})
}

// ScalingState reads a target and its policies in one Query; the target
// is nil when it is not registered.
func (db *DB) ScalingState(ctx context.Context, key scaling.TargetKey) (*ScalableTarget, []scaling.ScalingPolicy, error) {
	tx, err := db.readScaling(ctx, key, false)
	if err != nil {
		return nil, nil, err
	}
	return tx.Target, tx.Policies, nil
}

func (db *DB) readScaling(ctx context.Context, key scaling.TargetKey, withService bool) (*ScalingTx, error) {
	tx := &ScalingTx{Key: key, versions: map[Key]int64{}}
	items, err := db.all(ctx, Query{PK: scalingTargetPK(key.ServiceNamespace, key.ResourceID, key.ScalableDimension)})
	if err != nil {
		return nil, fmt.Errorf("read scalable target %s: %w", key.ResourceID, err)
	}
	for _, it := range items {
		tx.versions[it.Key] = it.Version
		switch KindOf(it.Key) {
		case KindScalableTarget:
			t, err := decode[ScalableTarget](it)
			if err != nil {
				return nil, err
			}
			tx.Target = &t
		case KindScalingPolicy:
			p, err := decode[scaling.ScalingPolicy](it)
			if err != nil {
				return nil, err
			}
			tx.Policies = append(tx.Policies, p)
		}
	}
	if withService {
		if err := db.readScalingService(ctx, tx); err != nil {
			return nil, err
		}
	}
	return tx, nil
}

func (db *DB) readScalingService(ctx context.Context, tx *ScalingTx) error {
	svc, err := scaling.ParseResourceID("ResourceId", tx.Key.ResourceID)
	if err != nil {
		return err
	}
	s, version, ok, err := db.Service(ctx, svc.Cluster, svc.Name)
	if err != nil {
		return fmt.Errorf("read service %s: %w", tx.Key.ResourceID, err)
	}
	if ok {
		tx.Service = &s
		tx.versions[serviceKey(svc.Cluster, svc.Name)] = version
	}
	return nil
}

// scalingWrites turns the requests in tx into writes.
func (db *DB) scalingWrites(tx *ScalingTx) ([]Write, error) {
	var writes []Write
	add := func(w Write, err error) error {
		if err == nil {
			writes = append(writes, w)
		}
		return err
	}
	k := tx.Key
	if tx.PutService {
		if tx.Service == nil {
			return nil, errors.New("scaling write: PutService without a service")
		}
		if err := add(db.ServiceWrite(tx.Service, tx.versions[serviceKey(tx.Service.Berth.Cluster, tx.Service.ServiceName)])); err != nil {
			return nil, err
		}
	}
	for _, p := range tx.PutPolicies {
		if err := add(db.policyWrite(k, p, tx.versions)); err != nil {
			return nil, err
		}
	}
	for _, name := range tx.DeletePolicies {
		pk := scalingPolicyKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension, name)
		if v, ok := tx.versions[pk]; ok {
			writes = append(writes, Write{Op: Delete, Key: pk, Expect: v})
		}
	}
	tw, err := db.targetWrites(tx)
	if err != nil {
		return nil, err
	}
	return append(writes, tw...), nil
}

func (db *DB) policyWrite(k scaling.TargetKey, p scaling.ScalingPolicy, versions map[Key]int64) (Write, error) {
	key := scalingPolicyKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension, p.PolicyName)
	w, err := putWrite(key, p, versions[key])
	w.Item.GSI1 = scalingPolicyIndexKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension, p.PolicyName)
	return w, err
}

// targetWrites writes or deletes the target, with the activities numbered
// from it; an untouched target is still checked, so a policy cannot be
// written beside a target deregistered meanwhile.
func (db *DB) targetWrites(tx *ScalingTx) ([]Write, error) {
	k := tx.Key
	key := scalableTargetKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension)
	version := tx.versions[key]
	switch {
	case tx.DeleteTarget:
		return []Write{{Op: Delete, Key: key, Expect: version}}, nil
	case !tx.PutTarget && len(tx.Activities) > 0:
		return nil, errors.New("scaling write: activities need PutTarget")
	case !tx.PutTarget:
		return []Write{{Op: Check, Key: key, Expect: version}}, nil
	case tx.Target == nil:
		return nil, errors.New("scaling write: PutTarget without a target")
	}
	activities, err := db.activityWrites(tx)
	if err != nil {
		return nil, err
	}
	w, err := putWrite(key, tx.Target, version)
	if err != nil {
		return nil, err
	}
	w.Item.GSI1 = scalableTargetIndexKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension)
	return append(activities, w), nil
}

// activityWrites numbers tx's activities after the target's last one
// (and never below the activity's start in milliseconds, so numbers stay
// unique across a re-registration), and deletes the oldest beyond the bound.
func (db *DB) activityWrites(tx *ScalingTx) ([]Write, error) {
	k, st := tx.Key, &tx.Target.Berth
	var writes []Write
	for _, a := range tx.Activities {
		seq := a.StartTime.UnixMilli()
		if n := len(st.Activities); n > 0 {
			seq = max(seq, st.Activities[n-1]+1)
		}
		w, err := putWrite(scalingActivityKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension, seq), a, AnyVersion)
		if err != nil {
			return nil, err
		}
		w.Item.GSI1 = scalingActivityIndexKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension, a.StartTime.UnixMilli(), seq)
		w.Item.ExpiresAt = a.StartTime.Add(ScalingActivityTTL).Unix()
		writes = append(writes, w)
		st.Activities = append(st.Activities, seq)
	}
	for len(st.Activities) > MaxScalingActivities {
		old := scalingActivityKey(k.ServiceNamespace, k.ResourceID, k.ScalableDimension, st.Activities[0])
		writes = append(writes, Write{Op: Delete, Key: old, Expect: AnyVersion})
		st.Activities = st.Activities[1:]
	}
	return writes, nil
}

// ScalableTargets pages through a namespace's targets, in resource order:
// those named in resourceIDs when any (read directly), else all of them
// (through the namespace index).
func (db *DB) ScalableTargets(ctx context.Context, namespace string, resourceIDs []string, dimension, token string, limit int) ([]ScalableTarget, string, error) {
	keep := func(t ScalableTarget) bool { return dimension == "" || t.ScalableDimension == dimension }
	if len(resourceIDs) > 0 {
		return db.namedTargets(ctx, namespace, resourceIDs, keep, token, limit)
	}
	items, next, err := db.scanListing(ctx, Query{Index: GSI1, PK: "AS#" + namespace + "#TARGETS"}, token, limit, func(it Item) (bool, error) {
		t, err := decode[ScalableTarget](it)
		return err == nil && keep(t), err
	})
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[ScalableTarget](items)
	return out, next, err
}

// namedTargets reads the listed targets (every dimension Berth serves),
// paging by position in the sorted, distinct list.
func (db *DB) namedTargets(ctx context.Context, namespace string, resourceIDs []string, keep func(ScalableTarget) bool, token string, limit int) ([]ScalableTarget, string, error) {
	ids := slices.Clone(resourceIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	start, err := decodeToken(token)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s", ErrInvalidToken, token)
	}
	if start != "" {
		ids = ids[firstAtOrAfter(ids, start):]
	}
	var out []ScalableTarget
	for len(ids) > 0 && len(out) < limit {
		batch := ids[:min(len(ids), limit-len(out))]
		ids = ids[len(batch):]
		keys := make([]Key, len(batch))
		for i, id := range batch {
			keys[i] = scalableTargetKey(namespace, id, scaling.DimensionDesired)
		}
		items, err := db.s.BatchGet(ctx, keys)
		if err != nil {
			return nil, "", err
		}
		ts, err := decodeAll[ScalableTarget](items)
		if err != nil {
			return nil, "", err
		}
		for _, t := range ts {
			if keep(t) {
				out = append(out, t)
			}
		}
	}
	if len(ids) == 0 {
		return out, "", nil
	}
	return out, encodeToken(ids[0]), nil
}

// firstAtOrAfter is the index of the first id at or after start.
func firstAtOrAfter(ids []string, start string) int {
	i, _ := slices.BinarySearch(ids, start)
	return i
}

// PolicyFilter selects scaling policies for DescribeScalingPolicies.
type PolicyFilter struct {
	Namespace, ResourceID, Dimension string
	Names                            []string
}

// ScalingPolicies pages through the policies the filter selects, ordered
// by resource and name: one target's partition when ResourceID is given,
// else the namespace index.
func (db *DB) ScalingPolicies(ctx context.Context, f PolicyFilter, token string, limit int) ([]scaling.ScalingPolicy, string, error) {
	q := Query{Index: GSI1, PK: scalingPolicyIndexPK(f.Namespace)}
	if f.ResourceID != "" {
		dim := f.Dimension
		if dim == "" {
			dim = scaling.DimensionDesired
		}
		q = Query{PK: scalingTargetPK(f.Namespace, f.ResourceID, dim), Prefix: policyPrefix}
	}
	keep := func(p scaling.ScalingPolicy) bool {
		return (f.Dimension == "" || p.ScalableDimension == f.Dimension) &&
			(len(f.Names) == 0 || slices.Contains(f.Names, p.PolicyName))
	}
	items, next, err := db.scanListing(ctx, q, token, limit, func(it Item) (bool, error) {
		p, err := decode[scaling.ScalingPolicy](it)
		return err == nil && keep(p), err
	})
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[scaling.ScalingPolicy](items)
	return out, next, err
}

// ScalingActivities pages through activities newest first: one target's
// when resourceID is given, else the namespace's. keep filters them.
func (db *DB) ScalingActivities(ctx context.Context, namespace, resourceID, dimension, token string, limit int, keep func(scaling.ScalingActivity) bool) ([]scaling.ScalingActivity, string, error) {
	q := Query{Index: GSI1, PK: scalingActivityIndexPK(namespace), Reverse: true}
	if resourceID != "" {
		if dimension == "" {
			dimension = scaling.DimensionDesired
		}
		q = Query{PK: scalingActivityPK(namespace, resourceID, dimension), Reverse: true}
	}
	items, next, err := db.scanListing(ctx, q, token, limit, func(it Item) (bool, error) {
		a, err := decode[scaling.ScalingActivity](it)
		return err == nil && (dimension == "" || a.ScalableDimension == dimension) && keep(a), err
	})
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[scaling.ScalingActivity](items)
	return out, next, err
}

func decodeAll[T any](items []Item) ([]T, error) {
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := decode[T](it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ErrInvalidToken is returned by the Application Auto Scaling listings
// for a NextToken Berth did not issue (AAS answers InvalidNextTokenException,
// where ECS answers InvalidParameterException).
var ErrInvalidToken = errors.New("invalid NextToken")

// scanListing is scan for the AAS listings, whose only client error is a
// bad token.
func (db *DB) scanListing(ctx context.Context, q Query, token string, limit int, keep func(Item) (bool, error)) ([]Item, string, error) {
	items, next, err := db.scan(ctx, q, token, limit, keep)
	if ecs.IsCode(err, ecs.InvalidParameterException) {
		return nil, "", fmt.Errorf("%w: %s", ErrInvalidToken, token)
	}
	return items, next, err
}
