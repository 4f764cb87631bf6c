package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/store"
)

// ErrBadAlarmEvent marks an alarm event the scaler cannot use (not a
// CloudWatch Alarm State Change, or malformed reasonData). Nothing is
// changed, and redelivering it cannot help.
var ErrBadAlarmEvent = errors.New("unusable alarm event")

// ScalerOutcome is what one scaler run did for one scalable target.
type ScalerOutcome struct {
	Alarm      string
	ResourceID string
	// Decision is scaling.Decide's answer; zero when the run was skipped.
	Decision scaling.Decision
	// Applied is true when the desired count changed.
	Applied bool
	// Skipped says why nothing was decided (duplicate event, target not
	// registered, re-run not due, ...).
	Skipped string
}

// ScalerHandler is the bus target "scaler": every CloudWatch Alarm State
// Change runs the policies its alarm names. Unusable events are logged and
// dropped; store failures are returned so the bus delivers again.
func (a *Autoscaling) ScalerHandler() bus.Handler {
	return bus.Each(func(ctx context.Context, e bus.Event) error {
		outcomes, err := a.HandleAlarmEvent(ctx, e)
		if errors.Is(err, ErrBadAlarmEvent) {
			a.log.Warn("scaler dropped an alarm event", "event", e.ID, "err", err)
			return nil
		}
		for _, o := range outcomes {
			a.logOutcome(o)
		}
		return err
	})
}

func (a *Autoscaling) logOutcome(o ScalerOutcome) {
	switch {
	case o.Skipped != "":
		a.log.Debug("scaler skipped", "alarm", o.Alarm, "resource", o.ResourceID, "why", o.Skipped)
	case o.Applied:
		a.log.Info("scaler changed desired count", "alarm", o.Alarm, "resource", o.ResourceID,
			"from", o.Decision.Current, "to", o.Decision.Desired, "policy", o.Decision.Policy)
	default:
		a.log.Debug("scaler left desired count", "alarm", o.Alarm, "resource", o.ResourceID,
			"count", o.Decision.Current, "notes", o.Decision.Notes)
	}
}

// HandleAlarmEvent runs the scaler for one "CloudWatch Alarm State Change"
// event, as EventBridge delivers it.
func (a *Autoscaling) HandleAlarmEvent(ctx context.Context, e bus.Event) ([]ScalerOutcome, error) {
	if e.Source != bus.SourceCloudWatch || e.DetailType != bus.DetailTypeAlarmStateChange {
		return nil, fmt.Errorf("%w %s: source %q detail-type %q is not a CloudWatch Alarm State Change", ErrBadAlarmEvent, e.ID, e.Source, e.DetailType)
	}
	d, err := scaling.ParseAlarmStateChange(e.Detail)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrBadAlarmEvent, e.ID, err)
	}
	return a.HandleAlarmChange(ctx, d)
}

// HandleAlarmChange runs the scaling policies an alarm in ALARM invokes:
// those named among its actions (read from the AlarmSource) or, for an
// alarm the source does not know, the target tracking policy its
// description names. Other states invoke nothing. The breach comes from
// the state's reasonData; malformed reasonData is an ErrBadAlarmEvent and
// changes nothing.
func (a *Autoscaling) HandleAlarmChange(ctx context.Context, d scaling.AlarmStateChange) ([]ScalerOutcome, error) {
	reading, err := d.Reading()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAlarmEvent, err)
	}
	if d.State.Value != scaling.StateAlarm {
		return []ScalerOutcome{{Alarm: d.AlarmName, Skipped: "alarm is " + d.State.Value + "; only ALARM invokes scaling policies"}}, nil
	}
	infos, err := a.alarms.DescribeAlarms(ctx, []string{d.AlarmName})
	if err != nil {
		return nil, fmt.Errorf("scaler: read alarm %s: %w", d.AlarmName, err)
	}
	arns := policyARNsIn(nil, d.Configuration.Description)
	if len(infos) > 0 {
		arns = infos[0].PolicyARNs
		reading.ComparisonOperator = infos[0].ComparisonOperator
	}
	return a.run(ctx, trigger{alarm: d.AlarmName, reading: reading, stateTimestamp: d.State.Timestamp, policyARNs: arns})
}

// trigger is one invocation of an alarm's policies.
type trigger struct {
	alarm          string
	reading        scaling.AlarmReading
	stateTimestamp string
	policyARNs     []string
	// rerun marks the monitor's re-run of an alarm that stays in ALARM.
	rerun bool
}

// run invokes a trigger's policies, target by target.
func (a *Autoscaling) run(ctx context.Context, t trigger) ([]ScalerOutcome, error) {
	keys := targetsOf(t.policyARNs)
	if len(keys) == 0 {
		return []ScalerOutcome{{Alarm: t.alarm, Skipped: "the alarm names no scaling policy"}}, nil
	}
	var outcomes []ScalerOutcome
	var errs []error
	for _, k := range keys {
		o, err := a.runTarget(ctx, k, t)
		if err != nil {
			errs = append(errs, fmt.Errorf("scale %s for alarm %s: %w", k.ResourceID, t.alarm, err))
			continue
		}
		outcomes = append(outcomes, o)
	}
	return outcomes, errors.Join(errs...)
}

// targetsOf lists the targets of policy ARNs, in order of first mention.
func targetsOf(arns []string) []scaling.TargetKey {
	var keys []scaling.TargetKey
	for _, arn := range arns {
		if k, ok := policyTarget(arn); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// policyTarget reads the target out of a policy ARN
// (arn:aws:autoscaling:<region>:<account>:scalingPolicy:<id>:resource/<ns>/<resource>:policyName/<name>).
func policyTarget(arn string) (scaling.TargetKey, bool) {
	_, rest, ok := strings.Cut(arn, ":resource/")
	if !ok {
		return scaling.TargetKey{}, false
	}
	ns, rest, _ := strings.Cut(rest, "/")
	resource, _, ok := strings.Cut(rest, ":policyName/")
	if !ok || ns != scaling.NamespaceECS {
		return scaling.TargetKey{}, false
	}
	k := targetKey(ns, resource, scaling.DimensionDesired)
	if _, err := scaling.ValidateTargetKey(k); err != nil {
		return scaling.TargetKey{}, false
	}
	return k, true
}

// runTarget decides and applies one target's scaling in one transaction:
// the service's desired count, the cooldowns, the alarm's run and the
// activity commit together.
func (a *Autoscaling) runTarget(ctx context.Context, k scaling.TargetKey, t trigger) (ScalerOutcome, error) {
	var out ScalerOutcome
	err := a.c.db.UpdateScaling(ctx, k, true, func(tx *store.ScalingTx) error {
		now := a.c.now()
		out = ScalerOutcome{Alarm: t.alarm, ResourceID: k.ResourceID}
		if out.Skipped = a.skip(tx, t, now); out.Skipped != "" {
			return store.ErrUnchanged
		}
		in, err := a.decideInput(ctx, tx, t, now)
		if err != nil {
			return err
		}
		out.Decision = scaling.Decide(in)
		out.Applied, err = a.apply(ctx, tx, out.Decision, now)
		if err != nil {
			return err
		}
		if tx.Target.Berth.Runs == nil {
			tx.Target.Berth.Runs = map[string]store.AlarmRun{}
		}
		tx.Target.Berth.Runs[t.alarm] = store.AlarmRun{At: now, StateTimestamp: t.stateTimestamp}
		tx.PutTarget = true
		return nil
	})
	return out, err
}

// skip says why a trigger must not run now, or "".
func (a *Autoscaling) skip(tx *store.ScalingTx, t trigger, now time.Time) string {
	if tx.Target == nil {
		return "no scalable target is registered"
	}
	if !slices.ContainsFunc(tx.Policies, func(p scaling.ScalingPolicy) bool { return slices.Contains(t.policyARNs, p.PolicyARN) }) {
		return "none of the alarm's policies exists"
	}
	if tx.Service == nil {
		return "the service does not exist"
	}
	last, ran := tx.Target.Berth.Runs[t.alarm]
	switch {
	case !ran:
		return ""
	case t.rerun && now.Sub(last.At) < a.rerunEvery:
		return "re-run not due"
	case !t.rerun && t.stateTimestamp != "" && t.stateTimestamp == last.StateTimestamp:
		return "duplicate delivery of a state change already acted on"
	}
	return ""
}

// decideInput gathers what Decide reads: every policy of the target, the
// trigger's reading for the policies it invokes, and the current readings
// of the target tracking alarms (their scale-in vote needs all of them).
func (a *Autoscaling) decideInput(ctx context.Context, tx *store.ScalingTx, t trigger, now time.Time) (scaling.Input, error) {
	others, err := a.trackingReadings(ctx, tx.Policies, t.alarm)
	if err != nil {
		return scaling.Input{}, err
	}
	in := scaling.Input{
		Target:               tx.Target.ScalableTarget,
		Current:              int32(tx.Service.DesiredCount),
		Cooldowns:            tx.Target.Berth.Cooldowns,
		DeploymentInProgress: deploymentInProgress(tx.Service),
		Now:                  now,
	}
	for _, p := range tx.Policies {
		pi := scaling.PolicyInput{Policy: p}
		invoked := slices.Contains(t.policyARNs, p.PolicyARN)
		if invoked && p.PolicyType == scaling.PolicyTypeStepScaling {
			pi.Alarms = []scaling.AlarmReading{t.reading}
		}
		for _, al := range p.Alarms {
			switch r, ok := others[al.AlarmName]; {
			case al.AlarmName == t.alarm && invoked:
				pi.Alarms = append(pi.Alarms, t.reading)
			case ok:
				pi.Alarms = append(pi.Alarms, r)
			}
		}
		in.Policies = append(in.Policies, pi)
	}
	return in, nil
}

// trackingReadings reads the current state of the target tracking alarms
// of policies, except the trigger's; an alarm whose reasonData is
// malformed counts as carrying no datapoints.
func (a *Autoscaling) trackingReadings(ctx context.Context, policies []scaling.ScalingPolicy, triggerAlarm string) (map[string]scaling.AlarmReading, error) {
	var names []string
	for _, p := range policies {
		for _, n := range ownedAlarms(p) {
			if n != triggerAlarm {
				names = append(names, n)
			}
		}
	}
	out := map[string]scaling.AlarmReading{}
	if len(names) == 0 {
		return out, nil
	}
	infos, err := a.alarms.DescribeAlarms(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("read target tracking alarms: %w", err)
	}
	for _, info := range infos {
		r, err := info.Reading()
		if err != nil {
			a.log.Warn("alarm has malformed reasonData; read without datapoints", "alarm", info.Name, "err", err)
			r = scaling.AlarmReading{AlarmName: info.Name, State: info.State, ComparisonOperator: info.ComparisonOperator}
		}
		out[info.Name] = r
	}
	return out, nil
}

// deploymentInProgress reports whether the service is rolling out, which
// suspends scale-in.
func deploymentInProgress(s *store.Service) bool {
	live := 0
	for _, d := range s.Deployments {
		if d.Status == ecs.DeploymentInactive {
			continue
		}
		live++
		if d.RolloutState == ecs.RolloutInProgress {
			return true
		}
	}
	return live > 1
}

// apply records a decision in tx: the new desired count (on an ACTIVE
// service), the cooldowns and the activity. A decision that cannot be
// applied because the service is not ACTIVE is recorded as a Failed
// activity and keeps the old cooldowns.
func (a *Autoscaling) apply(ctx context.Context, tx *store.ScalingTx, d scaling.Decision, now time.Time) (bool, error) {
	act, record := d.Activity(tx.Target.ScalableTarget, a.newID(), now)
	if !d.Changed() {
		if record {
			tx.Activities = append(tx.Activities, act)
		}
		return false, nil
	}
	err := a.setDesired(ctx, tx.Service, int(d.Desired), now)
	if e, ok := ecs.AsError(err); ok && !e.Fault {
		act.StatusCode, act.StatusMessage = scaling.ActivityFailed, fmt.Sprintf("Failed to set desired count to %d. Reason: %s", d.Desired, e.Message)
		tx.Activities = append(tx.Activities, act)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	tx.PutService = true
	tx.Target.Berth.Cooldowns = d.Cooldowns
	tx.Activities = append(tx.Activities, act)
	return true, nil
}

// Tick is the scaler's part of the monitor's periodic pass: the local
// evaluator runs (when configured), then every alarm still in ALARM runs
// its policies again once RerunEvery has passed since its last run, as
// CloudWatch re-invokes scaling actions every minute.
func (a *Autoscaling) Tick(ctx context.Context) error {
	var errs []error
	if a.evaluate != nil {
		if err := a.evaluate(ctx); err != nil {
			errs = append(errs, fmt.Errorf("evaluate alarms: %w", err))
		}
	}
	alarms, err := a.alarms.AlarmsInAlarm(ctx)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list alarms in ALARM: %w", err))...)
	}
	for _, al := range alarms {
		reading, err := al.Reading()
		if err != nil {
			a.log.Warn("alarm in ALARM has malformed reasonData; not re-run", "alarm", al.Name, "err", err)
			continue
		}
		outcomes, err := a.run(ctx, trigger{alarm: al.Name, reading: reading, stateTimestamp: al.StateTimestamp, policyARNs: al.PolicyARNs, rerun: true})
		for _, o := range outcomes {
			a.logOutcome(o)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
