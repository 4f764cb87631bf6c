package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
)

// Alarm is a CloudWatch metric alarm in Berth's local alarm store (the
// stand-in for CloudWatch in `berth up`): its definition with
// PutMetricAlarm's member names and its state with DescribeAlarms'.
type Alarm struct {
	scaling.AlarmDefinition
	StateValue                         string           `json:"StateValue"`
	StateReason                        string           `json:"StateReason,omitempty"`
	StateReasonData                    string           `json:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              ecs.Timestamp    `json:"StateUpdatedTimestamp,omitzero"`
	AlarmConfigurationUpdatedTimestamp ecs.Timestamp    `json:"AlarmConfigurationUpdatedTimestamp,omitzero"`
	Berth                              AlarmBookkeeping `json:"berth"`
}

// AlarmBookkeeping is what the local evaluator keeps beside an alarm.
type AlarmBookkeeping struct {
	// EvaluatedAt is the evaluator's last pass over the alarm.
	EvaluatedAt time.Time `json:"evaluatedAt,omitzero"`
	// ManagedBy is the ARN of the target tracking policy that owns the
	// alarm; empty for users' alarms.
	ManagedBy string `json:"managedBy,omitempty"`
}

// InitialAlarmReason is CloudWatch's reason for a new alarm's state.
const InitialAlarmReason = "Unchecked: Initial alarm creation"

// PutAlarm creates an alarm (in INSUFFICIENT_DATA, as CloudWatch does) or
// replaces an existing one's definition, keeping its state. managedBy
// names the policy owning a target tracking alarm.
func (db *DB) PutAlarm(ctx context.Context, def scaling.AlarmDefinition, managedBy string) (Alarm, error) {
	var out Alarm
	err := retry(ctx, "put alarm "+def.AlarmName, func() error {
		a, version, ok, err := db.Alarm(ctx, def.AlarmName)
		if err != nil {
			return err
		}
		now := db.stamp()
		if !ok {
			a = Alarm{StateValue: scaling.StateInsufficientData, StateReason: InitialAlarmReason, StateUpdatedTimestamp: now}
		}
		a.AlarmDefinition = def
		a.AlarmConfigurationUpdatedTimestamp = now
		a.Berth.ManagedBy = managedBy
		w, err := putWrite(alarmKey(def.AlarmName), a, version)
		if err != nil {
			return err
		}
		out = a
		return db.s.Transact(ctx, []Write{w})
	})
	return out, err
}

// Alarm reads one alarm; ok is false when it does not exist.
func (db *DB) Alarm(ctx context.Context, name string) (Alarm, int64, bool, error) {
	var a Alarm
	version, err := db.getJSON(ctx, alarmKey(name), &a)
	if errors.Is(err, ErrNotFound) {
		return Alarm{}, 0, false, nil
	}
	return a, version, err == nil, err
}

// Alarms reads every local alarm, by name (one partition).
func (db *DB) Alarms(ctx context.Context) ([]Alarm, error) {
	items, err := db.all(ctx, Query{PK: pkAlarms})
	if err != nil {
		return nil, fmt.Errorf("read alarms: %w", err)
	}
	return decodeAll[Alarm](items)
}

// UpdateAlarm applies change to an alarm under its version; change may
// return ErrUnchanged. ok is false when the alarm does not exist.
func (db *DB) UpdateAlarm(ctx context.Context, name string, change func(*Alarm) error) (Alarm, bool, error) {
	var out Alarm
	found := false
	err := retry(ctx, "update alarm "+name, func() error {
		a, version, ok, err := db.Alarm(ctx, name)
		if err != nil || !ok {
			found = false
			return err
		}
		found = true
		if err := change(&a); err != nil {
			if errors.Is(err, ErrUnchanged) {
				out = a
				return nil
			}
			return err
		}
		w, err := putWrite(alarmKey(name), a, version)
		if err != nil {
			return err
		}
		out = a
		return db.s.Transact(ctx, []Write{w})
	})
	return out, found, err
}

// DeleteAlarms deletes the named alarms; missing ones are ignored, as
// CloudWatch's DeleteAlarms does.
func (db *DB) DeleteAlarms(ctx context.Context, names []string) error {
	for start := 0; start < len(names); start += MaxTransactItems {
		batch := distinct(names[start:min(start+MaxTransactItems, len(names))])
		writes := make([]Write, len(batch))
		for i, n := range batch {
			writes[i] = Write{Op: Delete, Key: alarmKey(n), Expect: AnyVersion}
		}
		if err := db.s.Transact(ctx, writes); err != nil {
			return fmt.Errorf("delete alarms: %w", err)
		}
	}
	return nil
}
