package scaling

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Alarm state values.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Scaling directions.
const (
	ScaleOut = "ScaleOut"
	ScaleIn  = "ScaleIn"
)

// AlarmReading is what the scaler knows of one alarm when it decides.
type AlarmReading struct {
	AlarmName string
	// State is OK, ALARM or INSUFFICIENT_DATA; only ALARM triggers a policy.
	State string
	// Threshold is nil when unknown (no reasonData, composite alarms).
	Threshold *float64
	// Datapoints are the alarm's recent datapoints, oldest first (reasonData's
	// recentDatapoints).
	Datapoints []float64
	// ComparisonOperator is optional: CloudWatch state-change events do not
	// carry it, Berth's own alarm evaluator does.
	ComparisonOperator string
}

// PolicyInput pairs a policy with the readings of the alarms that invoke it.
type PolicyInput struct {
	Policy ScalingPolicy
	Alarms []AlarmReading
}

// Input is everything Decide needs; nothing else is read.
type Input struct {
	Target  ScalableTarget
	Current int32 // the service's desired count now
	// Policies of the target, each with its alarms' readings.
	Policies  []PolicyInput
	Cooldowns Cooldowns
	// DeploymentInProgress suspends scale-in (ECS does during a rollout).
	DeploymentInProgress bool
	Now                  time.Time
}

// Cooldowns is the scaling memory of one target, by policy name. Decide
// returns an updated copy; the caller stores it with the target.
type Cooldowns map[string]PolicyCooldown

// PolicyCooldown is one policy's last scaling activities.
type PolicyCooldown struct {
	// ScaleOutAt is when the policy last took part in a scale-out, and
	// ScaleOutAdded how much that scale-out added over the capacity the
	// policy computed from; during the scale-out cooldown that capacity is
	// counted as already in flight.
	ScaleOutAt    time.Time `json:"scaleOutAt,omitzero"`
	ScaleOutAdded int32     `json:"scaleOutAdded,omitempty"`
	// ScaleInAt is when the policy last took part in a scale-in; any
	// scale-out clears it, ending the scale-in cooldown early.
	ScaleInAt time.Time `json:"scaleInAt,omitzero"`
}

// Decision is Decide's answer.
type Decision struct {
	Current int32
	// Desired is the new desired count; equal to Current when nothing changes.
	Desired int32
	// Direction is ScaleOut or ScaleIn when Desired != Current, else "".
	Direction string
	// Policy and Alarm name the trigger that set Desired (or, when a
	// triggered policy could not scale, the one that tried).
	Policy, Alarm string
	// Description and Cause are the scaling activity's texts, empty when
	// there is nothing to record.
	Description, Cause string
	// NotScaledReasons say why a triggered policy left capacity unchanged.
	NotScaledReasons []NotScaledReason
	// Notes explain, for logs, why policies did nothing (state, cooldown,
	// suspension, no matching step).
	Notes     []string
	Cooldowns Cooldowns
}

// Changed reports whether the decision changes the desired count.
func (d Decision) Changed() bool { return d.Desired != d.Current }

// proposal is one policy's wish for the target's capacity.
type proposal struct {
	policy, alarm string
	out           bool  // direction asked for
	base          int32 // capacity the adjustment was computed from
	capacity      int32 // after cooldown and clamping; Current when blocked
	reason        string
}

// Decide runs the scaling state machine once: it evaluates every policy
// whose alarm is in ALARM and returns the new desired count, the activity
// texts and the updated cooldowns. Rules (AAS's, see doc.go for Berth's
// choices): step and target-tracking proposals are clamped to [Min, Max]
// with the jump to Min (Max) when the count lies outside; the largest
// capacity wins; scale-in waits for its cooldown and a deployment;
// a scale-out in cooldown only adds what exceeds the capacity in flight and
// cancels every scale-in cooldown; target tracking scales out if any policy
// asks and in only if all policies with scale-in enabled ask.
func Decide(in Input) Decision {
	d := Decision{Current: in.Current, Desired: in.Current, Cooldowns: maps.Clone(in.Cooldowns)}
	if d.Cooldowns == nil {
		d.Cooldowns = Cooldowns{}
	}
	props := proposals(in, &d.Notes)
	if len(props) == 0 {
		return d
	}
	return settle(in, d, props)
}

// proposals collects what every policy asks for, in policy-name order.
func proposals(in Input, notes *[]string) []proposal {
	policies := slices.Clone(in.Policies)
	slices.SortStableFunc(policies, func(a, b PolicyInput) int { return strings.Compare(a.Policy.PolicyName, b.Policy.PolicyName) })
	var props []proposal
	var vote scaleInVote
	for _, pi := range policies {
		switch pi.Policy.PolicyType {
		case PolicyTypeStepScaling:
			props = append(props, stepProposals(in, pi, notes)...)
		case PolicyTypeTargetTracking:
			out, inward, enabled := targetTrackingProposals(in, pi, notes)
			props = append(props, out...)
			vote.cast(enabled, inward)
		default:
			*notes = append(*notes, fmt.Sprintf("policy %s: type %q is not evaluated", pi.Policy.PolicyName, pi.Policy.PolicyType))
		}
	}
	return append(props, vote.result(notes)...)
}

// scaleInVote gathers target tracking scale-ins, which happen only when
// every policy with scale-in enabled proposes one.
type scaleInVote struct {
	enabled, ready int
	props          []proposal
}

func (v *scaleInVote) cast(enabled bool, inward []proposal) {
	if !enabled {
		return
	}
	v.enabled++
	if len(inward) > 0 {
		v.ready++
		v.props = append(v.props, inward...)
	}
}

func (v *scaleInVote) result(notes *[]string) []proposal {
	if len(v.props) > 0 && v.ready < v.enabled {
		*notes = append(*notes, fmt.Sprintf("target tracking scale-in waits: %d of %d policies with scale-in enabled are ready", v.ready, v.enabled))
		return nil
	}
	return v.props
}

// settle picks the largest capacity among the proposals and records the
// activity and cooldowns it implies.
func settle(in Input, d Decision, props []proposal) Decision {
	win := props[0]
	for _, p := range props[1:] {
		if p.capacity > win.capacity {
			win = p
		}
	}
	d.Desired, d.Policy, d.Alarm = win.capacity, win.policy, win.alarm
	if !d.Changed() {
		return notScaled(in, d, props)
	}
	d.Description = fmt.Sprintf("Setting desired count to %d.", d.Desired)
	d.Cause = alarmCause(win)
	if d.Desired > d.Current {
		d.Direction = ScaleOut
		recordScaleOut(d.Cooldowns, props, in.Current, d.Desired, in.Now)
	} else {
		d.Direction = ScaleIn
		recordScaleIn(d.Cooldowns, props, in.Current, in.Now)
	}
	return d
}

func alarmCause(p proposal) string {
	return "monitor alarm " + p.alarm + " in state ALARM triggered policy " + p.policy
}

func recordScaleOut(cd Cooldowns, props []proposal, current, desired int32, now time.Time) {
	for _, p := range props {
		if p.out && p.capacity > current {
			c := cd[p.policy]
			c.ScaleOutAt, c.ScaleOutAdded = now, max(0, desired-p.base)
			cd[p.policy] = c
		}
	}
	for name, c := range cd {
		if !c.ScaleInAt.IsZero() {
			c.ScaleInAt = time.Time{}
			cd[name] = c
		}
	}
}

func recordScaleIn(cd Cooldowns, props []proposal, current int32, now time.Time) {
	for _, p := range props {
		if !p.out && p.capacity < current {
			c := cd[p.policy]
			c.ScaleInAt = now
			cd[p.policy] = c
		}
	}
}

// notScaled explains a decision that leaves capacity unchanged: the reasons
// of the policies that hit a limit, the first of them named as the cause.
func notScaled(in Input, d Decision, props []proposal) Decision {
	seen := map[string]bool{}
	for _, p := range props {
		if p.reason == "" || p.capacity != in.Current || seen[p.reason] {
			continue
		}
		if len(seen) == 0 {
			d.Policy, d.Alarm = p.policy, p.alarm
			d.Description, d.Cause = "Attempting to scale due to alarm triggered", alarmCause(p)
		}
		seen[p.reason] = true
		r := NotScaledReason{Code: p.reason, CurrentCapacity: ptr(in.Current)}
		switch p.reason {
		case NotScaledAtMaxCapacity:
			r.MaxCapacity = ptr(in.Target.MaxCapacity)
		case NotScaledAtMinCapacity:
			r.MinCapacity = ptr(in.Target.MinCapacity)
		}
		d.NotScaledReasons = append(d.NotScaledReasons, r)
	}
	return d
}

// stepProposals evaluates a step policy against each of its alarms in ALARM.
func stepProposals(in Input, pi PolicyInput, notes *[]string) []proposal {
	name, cfg := pi.Policy.PolicyName, pi.Policy.StepScalingPolicyConfiguration
	if cfg == nil {
		*notes = append(*notes, fmt.Sprintf("policy %s: no StepScalingPolicyConfiguration", name))
		return nil
	}
	var props []proposal
	for _, r := range pi.Alarms {
		if !triggered(name, r, notes) {
			continue
		}
		if p, ok := stepProposal(in, name, cfg, r, notes); ok {
			props = append(props, p)
		}
	}
	return props
}

// stepProposal picks the step the alarm's breach falls in and sizes it.
func stepProposal(in Input, name string, cfg *StepScalingPolicyConfiguration, r AlarmReading, notes *[]string) (proposal, bool) {
	if r.Threshold == nil || len(r.Datapoints) == 0 {
		*notes = append(*notes, fmt.Sprintf("policy %s: alarm %s carries no threshold and datapoints to pick a step from", name, r.AlarmName))
		return proposal{}, false
	}
	breach, _ := Aggregate(cfg.Aggregation(), r.Datapoints)
	step, ok := SelectStep(cfg.StepAdjustments, *r.Threshold, breach, r.ComparisonOperator)
	if !ok || step.ScalingAdjustment == nil {
		*notes = append(*notes, fmt.Sprintf("policy %s: no step adjustment covers breach value %s against threshold %s", name, fmtFloat(breach), fmtFloat(*r.Threshold)))
		return proposal{}, false
	}
	adj := *step.ScalingAdjustment
	out := adj > 0
	switch {
	case cfg.AdjustmentType == ExactCapacity && adj == in.Current:
		return proposal{policy: name, alarm: r.AlarmName, out: true, base: in.Current, capacity: in.Current, reason: NotScaledAtDesiredCapacity}, true
	case cfg.AdjustmentType == ExactCapacity:
		out = adj > in.Current
	case adj == 0:
		*notes = append(*notes, fmt.Sprintf("policy %s: step adjustment is 0", name))
		return proposal{}, false
	}
	compute := func(base int32) int32 {
		return Adjust(cfg.AdjustmentType, adj, int32OrDefault(cfg.MinAdjustmentMagnitude, 0), base)
	}
	return limit(in, name, r.AlarmName, out, cfg.CooldownSeconds(), cfg.CooldownSeconds(), compute, notes)
}

// triggered reports whether a reading invokes its policy (state ALARM).
func triggered(policy string, r AlarmReading, notes *[]string) bool {
	if r.State == StateAlarm {
		return true
	}
	*notes = append(*notes, fmt.Sprintf("policy %s: alarm %s is %s; nothing to do", policy, r.AlarmName, orUnknown(r.State)))
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "in an unknown state"
	}
	return s
}

// limit turns a policy's wish into a proposal under AAS's rules:
// suspension, deployment, cooldowns, and [Min, Max] with the jump rule.
// compute maps a base capacity to the capacity the policy asks for.
func limit(in Input, policy, alarm string, out bool, outCooldown, inCooldown int32, compute func(base int32) int32, notes *[]string) (proposal, bool) {
	t, cur := in.Target, in.Current
	p := proposal{policy: policy, alarm: alarm, out: out, base: cur, capacity: cur}
	cd := in.Cooldowns[policy]
	if out {
		if t.SuspendedState.DynamicScalingOutSuspended {
			*notes = append(*notes, fmt.Sprintf("policy %s: dynamic scale-out is suspended", policy))
			return p, false
		}
		if cur >= t.MaxCapacity {
			p.reason = NotScaledAtMaxCapacity
			return p, true
		}
		if inCooldownWindow(cd.ScaleOutAt, outCooldown, in.Now) {
			p.base = max(0, cur-cd.ScaleOutAdded)
		}
		p.base = max(p.base, t.MinCapacity)
		p.capacity = clamp(compute(p.base), t.MinCapacity, t.MaxCapacity)
		if p.capacity <= cur {
			p.capacity = cur
			*notes = append(*notes, fmt.Sprintf("policy %s: scale-out to %d does not exceed the current %d (capacity already in flight)", policy, compute(p.base), cur))
		}
		return p, true
	}
	if t.SuspendedState.DynamicScalingInSuspended {
		*notes = append(*notes, fmt.Sprintf("policy %s: dynamic scale-in is suspended", policy))
		return p, false
	}
	if inCooldownWindow(cd.ScaleInAt, inCooldown, in.Now) {
		*notes = append(*notes, fmt.Sprintf("policy %s: scale-in blocked by cooldown until %s", policy, cd.ScaleInAt.Add(seconds(inCooldown)).UTC().Format(time.RFC3339)))
		return p, false
	}
	if in.DeploymentInProgress {
		p.reason = NotScaledUnscalable
		return p, true
	}
	if cur <= t.MinCapacity {
		p.reason = NotScaledAtMinCapacity
		return p, true
	}
	p.base = min(cur, t.MaxCapacity)
	p.capacity = clamp(compute(p.base), t.MinCapacity, t.MaxCapacity)
	if p.capacity >= cur {
		p.capacity, p.reason = cur, NotScaledAtDesiredCapacity
	}
	return p, true
}

func inCooldownWindow(at time.Time, cooldown int32, now time.Time) bool {
	return !at.IsZero() && now.Before(at.Add(seconds(cooldown)))
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

func clamp(v, lo, hi int32) int32 { return min(max(v, lo), hi) }

func ptr[T any](v T) *T { return &v }
