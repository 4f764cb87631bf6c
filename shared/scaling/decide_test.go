package scaling

import (
	"strings"
	"testing"
	"time"
)

// run is one Decide call in a scenario.
type run struct {
	at         time.Duration // after t0
	policies   []PolicyInput
	deployment bool
	want       int32
}

// scenario runs Decide repeatedly, carrying the desired count and cooldowns,
// and checks the desired count after each run.
func scenario(t *testing.T, tgt ScalableTarget, start int32, runs []run) Decision {
	t.Helper()
	cur, cd := start, Cooldowns(nil)
	var d Decision
	for i, r := range runs {
		d = Decide(Input{Target: tgt, Current: cur, Policies: r.policies, Cooldowns: cd, DeploymentInProgress: r.deployment, Now: t0.Add(r.at)})
		if d.Desired != r.want {
			t.Fatalf("run %d at +%v: desired %d, want %d (notes %q, reasons %+v)", i, r.at, d.Desired, r.want, d.Notes, d.NotScaledReasons)
		}
		cur, cd = d.Desired, d.Cooldowns
	}
	return d
}

func fire(p ScalingPolicy, readings ...AlarmReading) []PolicyInput {
	return []PolicyInput{{Policy: p, Alarms: readings}}
}

func TestDecideStepScaleOut(t *testing.T) {
	d := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: fire(scaleOut(), alarmIn("cpu-high", 75, 80, 82, 81))})
	if d.Desired != 12 || d.Direction != ScaleOut {
		t.Fatalf("desired %d %s, want 12 ScaleOut", d.Desired, d.Direction)
	}
	if d.Description != "Setting desired count to 12." {
		t.Errorf("description %q", d.Description)
	}
	if d.Cause != "monitor alarm cpu-high in state ALARM triggered policy scale-out" {
		t.Errorf("cause %q", d.Cause)
	}
	a, ok := d.Activity(target(1, 20), "act-1", t0)
	if !ok || a.StatusCode != ActivitySuccessful || a.StatusMessage != "Successfully set desired count to 12. Change successfully fulfilled by ecs." || a.ActivityID != "act-1" || a.ResourceID != testResource {
		t.Errorf("activity %+v, %v", a, ok)
	}
	if cd := d.Cooldowns["scale-out"]; !cd.ScaleOutAt.Equal(t0) || cd.ScaleOutAdded != 2 {
		t.Errorf("cooldown %+v, want scale-out at t0 adding 2", cd)
	}
}

func TestDecideBreachValueUsesAggregation(t *testing.T) {
	p := scaleOut()
	p.StepScalingPolicyConfiguration.MetricAggregationType = AggregationMaximum
	// Average 80 (+2 step) but maximum 90 (+3 step): Maximum picks +3.
	d := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: fire(p, alarmIn("cpu-high", 75, 70, 80, 90))})
	if d.Desired != 13 {
		t.Fatalf("desired %d, want 13", d.Desired)
	}
}

func TestDecidePercentWithMinAdjustmentMagnitude(t *testing.T) {
	p := stepPolicy("pct", PercentChangeInCapacity, step(f64(0), nil, 25))
	p.StepScalingPolicyConfiguration.MinAdjustmentMagnitude = i32(2)
	d := Decide(Input{Target: target(1, 20), Current: 4, Now: t0, Policies: fire(p, alarmIn("a", 50, 60))})
	if d.Desired != 6 {
		t.Fatalf("25%% of 4 with MinAdjustmentMagnitude 2: desired %d, want 6", d.Desired)
	}
}

func TestDecideScaleOutCooldownCountsInFlight(t *testing.T) {
	small := fire(scaleOut(), alarmIn("cpu-high", 75, 80)) // +2 step
	big := fire(scaleOut(), alarmIn("cpu-high", 75, 90))   // +3 step
	scenario(t, target(1, 50), 10, []run{
		{at: 0, policies: small, want: 12},                           // +2
		{at: time.Minute, policies: big, want: 13},                   // +3 step in cooldown: only +1 more
		{at: 2 * time.Minute, policies: big, want: 13},               // +3 already in flight
		{at: 3 * time.Minute, policies: small, want: 13},             // a smaller step adds nothing
		{at: time.Minute + 301*time.Second, policies: big, want: 16}, // cooldown over: +3 on 13
	})
}

func TestDecideScaleInBlockedByCooldown(t *testing.T) {
	low := fire(scaleIn(), alarmIn("cpu-low", 25, 10))
	d := scenario(t, target(1, 20), 10, []run{
		{at: 0, policies: low, want: 9},
		{at: time.Minute, policies: low, want: 9},
		{at: 299 * time.Second, policies: low, want: 9},
		{at: 300 * time.Second, policies: low, want: 8},
	})
	if d.Direction != ScaleIn {
		t.Errorf("direction %q", d.Direction)
	}
	blocked := Decide(Input{Target: target(1, 20), Current: 9, Now: t0.Add(time.Minute), Policies: low,
		Cooldowns: Cooldowns{"scale-in": {ScaleInAt: t0}}})
	if blocked.Changed() || !containsNote(blocked.Notes, "cooldown") {
		t.Errorf("blocked scale-in: desired %d notes %q", blocked.Desired, blocked.Notes)
	}
	if _, ok := blocked.Activity(target(1, 20), "x", t0); ok {
		t.Error("a cooldown-blocked scale-in recorded an activity")
	}
}

func TestDecideScaleOutCancelsScaleInCooldown(t *testing.T) {
	low := fire(scaleIn(), alarmIn("cpu-low", 25, 10))
	high := fire(scaleOut(), alarmIn("cpu-high", 75, 80))
	d := scenario(t, target(1, 20), 10, []run{
		{at: 0, policies: low, want: 9},
		{at: time.Minute, policies: high, want: 11},    // scale-out proceeds during scale-in cooldown
		{at: 2 * time.Minute, policies: low, want: 10}, // and ended it: scale-in may run again
	})
	if !d.Cooldowns["scale-in"].ScaleInAt.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("scale-in cooldown not restarted: %+v", d.Cooldowns["scale-in"])
	}
}

func TestDecideClamping(t *testing.T) {
	cases := []struct {
		name     string
		min, max int32
		current  int32
		policy   ScalingPolicy
		reading  AlarmReading
		want     int32
		reason   string
	}{
		{"scale-out clamped to max", 1, 10, 8, scaleOut(), alarmIn("hi", 75, 90), 10, ""},
		{"scale-out at max", 1, 10, 10, scaleOut(), alarmIn("hi", 75, 90), 10, NotScaledAtMaxCapacity},
		{"scale-in clamped to min", 3, 10, 4, stepPolicy("in", ChangeInCapacity, step(nil, f64(0), -5)), alarmIn("lo", 25, 10), 3, ""},
		{"scale-in at min", 3, 10, 3, scaleIn(), alarmIn("lo", 25, 10), 3, NotScaledAtMinCapacity},
		{"below min, scale-out jumps to min then applies", 5, 20, 2, scaleOut(), alarmIn("hi", 75, 80), 7, ""},
		{"below min, scale-in does nothing", 5, 20, 2, scaleIn(), alarmIn("lo", 25, 10), 2, NotScaledAtMinCapacity},
		{"above max, scale-in jumps to max then applies", 1, 10, 14, stepPolicy("in", ChangeInCapacity, step(nil, f64(0), -2)), alarmIn("lo", 25, 10), 8, ""},
		{"above max, scale-out does nothing", 1, 10, 14, scaleOut(), alarmIn("hi", 75, 90), 14, NotScaledAtMaxCapacity},
		{"exact capacity clamped to max", 1, 10, 4, stepPolicy("exact", ExactCapacity, step(f64(0), nil, 30)), alarmIn("hi", 75, 90), 10, ""},
		{"exact capacity equal to current", 1, 10, 4, stepPolicy("exact", ExactCapacity, step(f64(0), nil, 4)), alarmIn("hi", 75, 90), 4, NotScaledAtDesiredCapacity},
		{"scale to zero allowed", 0, 10, 1, scaleIn(), alarmIn("lo", 25, 10), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tgt := target(c.min, c.max)
			d := Decide(Input{Target: tgt, Current: c.current, Now: t0, Policies: fire(c.policy, c.reading)})
			if d.Desired != c.want {
				t.Fatalf("desired %d, want %d (notes %q)", d.Desired, c.want, d.Notes)
			}
			if c.reason == "" {
				if len(d.NotScaledReasons) != 0 {
					t.Errorf("unexpected reasons %+v", d.NotScaledReasons)
				}
				return
			}
			if len(d.NotScaledReasons) != 1 || d.NotScaledReasons[0].Code != c.reason {
				t.Fatalf("reasons %+v, want %s", d.NotScaledReasons, c.reason)
			}
			a, ok := d.Activity(tgt, "id", t0)
			if !ok || a.StatusCode != ActivityFailed || a.Description != "Attempting to scale due to alarm triggered" || len(a.NotScaledReasons) != 1 {
				t.Errorf("not-scaled activity %+v, %v", a, ok)
			}
			r := d.NotScaledReasons[0]
			if r.CurrentCapacity == nil || *r.CurrentCapacity != c.current {
				t.Errorf("CurrentCapacity %v, want %d", r.CurrentCapacity, c.current)
			}
			if c.reason == NotScaledAtMaxCapacity && (r.MaxCapacity == nil || *r.MaxCapacity != c.max) {
				t.Errorf("MaxCapacity %v, want %d", r.MaxCapacity, c.max)
			}
			if c.reason == NotScaledAtMinCapacity && (r.MinCapacity == nil || *r.MinCapacity != c.min) {
				t.Errorf("MinCapacity %v, want %d", r.MinCapacity, c.min)
			}
		})
	}
}

func TestDecideLargestCapacityWins(t *testing.T) {
	plus3 := stepPolicy("plus-3", ChangeInCapacity, step(f64(0), nil, 3))
	double := stepPolicy("plus-200pct", PercentChangeInCapacity, step(f64(0), nil, 200))
	minus1 := stepPolicy("minus-1", ChangeInCapacity, step(nil, f64(0), -1))
	minus3 := stepPolicy("minus-3", ChangeInCapacity, step(nil, f64(0), -3))
	cases := []struct {
		name     string
		policies []PolicyInput
		want     int32
		winner   string
	}{
		{"+3 against +200% of 10: 30", []PolicyInput{
			{Policy: plus3, Alarms: []AlarmReading{alarmIn("a", 50, 60)}},
			{Policy: double, Alarms: []AlarmReading{alarmIn("b", 50, 60)}},
		}, 30, "plus-200pct"},
		{"scale-out beats scale-in", []PolicyInput{
			{Policy: minus3, Alarms: []AlarmReading{alarmIn("lo", 50, 10)}},
			{Policy: plus3, Alarms: []AlarmReading{alarmIn("hi", 50, 60)}},
		}, 13, "plus-3"},
		{"the gentler scale-in wins", []PolicyInput{
			{Policy: minus3, Alarms: []AlarmReading{alarmIn("lo3", 50, 10)}},
			{Policy: minus1, Alarms: []AlarmReading{alarmIn("lo1", 50, 10)}},
		}, 9, "minus-1"},
		{"a policy at max vetoes a scale-in", []PolicyInput{
			{Policy: minus1, Alarms: []AlarmReading{alarmIn("lo", 50, 10)}},
			{Policy: plus3, Alarms: []AlarmReading{alarmIn("hi", 50, 60)}},
		}, 10, "plus-3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			maxCap := int32(100)
			if strings.Contains(c.name, "at max") {
				maxCap = 10
			}
			d := Decide(Input{Target: target(1, maxCap), Current: 10, Now: t0, Policies: c.policies})
			if d.Desired != c.want || d.Policy != c.winner {
				t.Fatalf("desired %d by %s, want %d by %s", d.Desired, d.Policy, c.want, c.winner)
			}
		})
	}
}

func TestDecideDeploymentSuspendsScaleIn(t *testing.T) {
	in := Input{Target: target(1, 20), Current: 10, Now: t0, DeploymentInProgress: true, Policies: fire(scaleIn(), alarmIn("lo", 25, 10))}
	d := Decide(in)
	if d.Changed() || len(d.NotScaledReasons) != 1 || d.NotScaledReasons[0].Code != NotScaledUnscalable {
		t.Fatalf("scale-in during deployment: desired %d reasons %+v", d.Desired, d.NotScaledReasons)
	}
	if !d.Cooldowns["scale-in"].ScaleInAt.IsZero() {
		t.Error("a suspended scale-in started a cooldown")
	}
	in.Policies = fire(scaleOut(), alarmIn("hi", 75, 80))
	if d := Decide(in); d.Desired != 12 {
		t.Fatalf("scale-out during deployment: desired %d, want 12", d.Desired)
	}
}

func TestDecideSuspendedState(t *testing.T) {
	tgt := target(1, 20)
	tgt.SuspendedState = SuspendedState{DynamicScalingInSuspended: true}
	d := Decide(Input{Target: tgt, Current: 10, Now: t0, Policies: fire(scaleIn(), alarmIn("lo", 25, 10))})
	if d.Changed() || !containsNote(d.Notes, "scale-in is suspended") {
		t.Errorf("scale-in suspended: desired %d notes %q", d.Desired, d.Notes)
	}
	if d := Decide(Input{Target: tgt, Current: 10, Now: t0, Policies: fire(scaleOut(), alarmIn("hi", 75, 80))}); d.Desired != 12 {
		t.Errorf("scale-out with only scale-in suspended: desired %d", d.Desired)
	}
	tgt.SuspendedState = SuspendedState{DynamicScalingOutSuspended: true}
	d = Decide(Input{Target: tgt, Current: 10, Now: t0, Policies: fire(scaleOut(), alarmIn("hi", 75, 80))})
	if d.Changed() || !containsNote(d.Notes, "scale-out is suspended") {
		t.Errorf("scale-out suspended: desired %d notes %q", d.Desired, d.Notes)
	}
	if _, ok := d.Activity(tgt, "x", t0); ok {
		t.Error("a suspended scale-out recorded an activity")
	}
}

func TestDecideNothingWithoutAlarm(t *testing.T) {
	for _, state := range []string{StateInsufficientData, StateOK, ""} {
		r := alarmIn("hi", 75, 80)
		r.State = state
		d := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: []PolicyInput{
			{Policy: scaleOut(), Alarms: []AlarmReading{r}},
			{Policy: ttPolicy("tt", 50, false), Alarms: []AlarmReading{{AlarmName: TargetTrackingAlarmName(testResource, true, "u"), State: state, Datapoints: []float64{90}}}},
		}})
		if d.Changed() || d.Description != "" || len(d.Cooldowns) != 0 {
			t.Errorf("state %q: decision %+v", state, d)
		}
	}
}

func TestDecideStepWithoutDatapoints(t *testing.T) {
	r := AlarmReading{AlarmName: "composite", State: StateAlarm}
	d := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: fire(scaleOut(), r)})
	if d.Changed() || !containsNote(d.Notes, "no threshold") {
		t.Errorf("decision %+v", d)
	}
}

func TestDecideTargetTracking(t *testing.T) {
	cpu, mem := ttPolicy("cpu", 50, false), ttPolicy("mem", 60, false)
	memNoIn := ttPolicy("mem", 60, true)
	cases := []struct {
		name     string
		current  int32
		policies []PolicyInput
		want     int32
		reason   string
	}{
		{"scale-out proportional, rounded up", 10, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttHigh("cpu", 60, 70, 72)}},
		}, 15, ""}, // ceil(10 × 72 / 50) = 15
		{"any policy may scale out", 10, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttHigh("cpu", 80)}},
			{Policy: mem, Alarms: []AlarmReading{ttLow("mem", 20)}},
		}, 16, ""},
		{"scale-in needs every policy", 10, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttLow("cpu", 30)}},
			{Policy: mem},
		}, 10, ""},
		{"scale-in when all agree, gradually", 10, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttLow("cpu", 30, 20)}},
			{Policy: mem, Alarms: []AlarmReading{ttLow("mem", 40)}},
		}, 9, ""}, // proportional 6 and 7, but at most a tenth of 10 per step
		{"scale-in of a large service moves a tenth", 40, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttLow("cpu", 10)}},
		}, 36, ""},
		{"scale-in stops at the proportional capacity", 40, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttLow("cpu", 44)}},
		}, 36, ""}, // ceil(40 × 44 / 50) = 36
		{"a policy with scale-in disabled does not vote", 10, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttLow("cpu", 30)}},
			{Policy: memNoIn},
		}, 9, ""},
		{"DisableScaleIn ignores the low alarm", 10, []PolicyInput{
			{Policy: memNoIn, Alarms: []AlarmReading{ttLow("mem", 10)}},
		}, 10, ""},
		{"scale-in that would flap is refused", 2, []PolicyInput{
			{Policy: ttPolicy("cpu", 75, false), Alarms: []AlarmReading{ttLow("cpu", 60)}},
		}, 2, NotScaledFlapping},
		{"scale-out from zero starts one task", 0, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttHigh("cpu", 80)}},
		}, 1, ""},
		{"high alarm with the newest datapoint under target does nothing", 10, []PolicyInput{
			{Policy: cpu, Alarms: []AlarmReading{ttHigh("cpu", 80, 40)}},
		}, 10, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(Input{Target: target(0, 50), Current: c.current, Now: t0, Policies: c.policies})
			if d.Desired != c.want {
				t.Fatalf("desired %d, want %d (notes %q)", d.Desired, c.want, d.Notes)
			}
			if c.reason != "" && (len(d.NotScaledReasons) != 1 || d.NotScaledReasons[0].Code != c.reason) {
				t.Fatalf("reasons %+v, want %s", d.NotScaledReasons, c.reason)
			}
		})
	}
}

func TestDecideTargetTrackingCooldowns(t *testing.T) {
	cpu := ttPolicy("cpu", 50, false)
	high := []PolicyInput{{Policy: cpu, Alarms: []AlarmReading{ttHigh("cpu", 60)}}}
	low := []PolicyInput{{Policy: cpu, Alarms: []AlarmReading{ttLow("cpu", 20)}}}
	scenario(t, target(1, 50), 10, []run{
		{at: 0, policies: high, want: 12},                             // ceil(10 × 1.2)
		{at: time.Minute, policies: high, want: 12},                   // in flight: ceil(10 × 1.2) again
		{at: 301 * time.Second, policies: high, want: 15},             // cooldown over: ceil(12 × 1.2)
		{at: 10 * time.Minute, policies: low, want: 14},               // scale-out does not block scale-in
		{at: 11 * time.Minute, policies: low, want: 14},               // scale-in cooldown
		{at: 15 * time.Minute, policies: low, want: 13},               // cooldown over
		{at: 15*time.Minute + time.Second, policies: high, want: 16},  // scale-out during scale-in cooldown
		{at: 15*time.Minute + 2*time.Second, policies: low, want: 15}, // which it ended
	})
}

func TestApplyBounds(t *testing.T) {
	cases := []struct {
		current, want int32
		cause         string
	}{
		{1, 2, "minimum capacity was set to 2"},
		{9, 5, "maximum capacity was set to 5"},
		{3, 3, ""},
	}
	for _, c := range cases {
		d := ApplyBounds(target(2, 5), c.current)
		if d.Desired != c.want || d.Cause != c.cause {
			t.Errorf("ApplyBounds(%d) = %d %q, want %d %q", c.current, d.Desired, d.Cause, c.want, c.cause)
		}
		if _, ok := d.Activity(target(2, 5), "id", t0); ok != (c.cause != "") {
			t.Errorf("ApplyBounds(%d): activity %v", c.current, ok)
		}
	}
}

func TestDecideDoesNotMutateInput(t *testing.T) {
	cd := Cooldowns{"scale-in": {ScaleInAt: t0}}
	Decide(Input{Target: target(1, 20), Current: 10, Now: t0.Add(time.Minute), Cooldowns: cd, Policies: fire(scaleOut(), alarmIn("hi", 75, 80))})
	if !cd["scale-in"].ScaleInAt.Equal(t0) || len(cd) != 1 {
		t.Errorf("input cooldowns changed: %+v", cd)
	}
}

func containsNote(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}
