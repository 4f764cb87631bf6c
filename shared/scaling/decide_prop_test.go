package scaling

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genStepPolicy draws a valid step policy: scale-out steps above the
// threshold, scale-in steps below it, or both.
func genStepPolicy(t *rapid.T, name string) ScalingPolicy {
	typ := rapid.SampledFrom([]string{ChangeInCapacity, PercentChangeInCapacity, ExactCapacity}).Draw(t, name+".type")
	adj := func(label string, out bool) int32 {
		switch {
		case typ == ExactCapacity:
			return rapid.Int32Range(0, 40).Draw(t, label)
		case typ == PercentChangeInCapacity && out:
			return rapid.Int32Range(1, 300).Draw(t, label)
		case typ == PercentChangeInCapacity:
			return rapid.Int32Range(-99, -1).Draw(t, label)
		case out:
			return rapid.Int32Range(1, 6).Draw(t, label)
		}
		return rapid.Int32Range(-6, -1).Draw(t, label)
	}
	split := float64(rapid.IntRange(1, 30).Draw(t, name+".split"))
	var steps []StepAdjustment
	switch rapid.IntRange(0, 2).Draw(t, name+".sides") {
	case 0: // scale out
		steps = []StepAdjustment{step(f64(0), &split, adj(name+".a1", true)), step(&split, nil, adj(name+".a2", true))}
	case 1: // scale in
		low := -split
		steps = []StepAdjustment{step(&low, f64(0), adj(name+".a1", false)), step(nil, &low, adj(name+".a2", false))}
	default: // both sides
		steps = []StepAdjustment{step(nil, f64(0), adj(name+".a1", false)), step(f64(0), nil, adj(name+".a2", true))}
	}
	p := stepPolicy(name, typ, steps...)
	cfg := p.StepScalingPolicyConfiguration
	cfg.Cooldown = i32(rapid.SampledFrom([]int32{0, 60, 300}).Draw(t, name+".cooldown"))
	cfg.MetricAggregationType = rapid.SampledFrom([]string{"", AggregationMinimum, AggregationMaximum}).Draw(t, name+".aggregation")
	if typ == PercentChangeInCapacity && rapid.Bool().Draw(t, name+".magnitude?") {
		cfg.MinAdjustmentMagnitude = i32(rapid.Int32Range(1, 4).Draw(t, name+".magnitude"))
	}
	return p
}

func genTTPolicy(t *rapid.T, name string) ScalingPolicy {
	p := ttPolicy(name, float64(rapid.IntRange(20, 90).Draw(t, name+".target")), rapid.IntRange(0, 3).Draw(t, name+".noIn") == 0)
	cfg := p.TargetTrackingScalingPolicyConfiguration
	cfg.ScaleOutCooldown = i32(rapid.SampledFrom([]int32{0, 60, 300}).Draw(t, name+".outCooldown"))
	cfg.ScaleInCooldown = i32(rapid.SampledFrom([]int32{0, 60, 300}).Draw(t, name+".inCooldown"))
	return p
}

func genReadings(t *rapid.T, p ScalingPolicy, label string) []AlarmReading {
	state := rapid.SampledFrom([]string{StateAlarm, StateAlarm, StateAlarm, StateOK, StateInsufficientData}).Draw(t, label+".state")
	points := rapid.SliceOfN(rapid.Float64Range(0, 100), 1, 3).Draw(t, label+".points")
	if p.PolicyType == PolicyTypeStepScaling {
		return []AlarmReading{{AlarmName: p.PolicyName + "-alarm", State: state, Threshold: f64(50), Datapoints: points}}
	}
	high := rapid.Bool().Draw(t, label+".high")
	return []AlarmReading{{AlarmName: TargetTrackingAlarmName(testResource, high, p.PolicyName), State: state, Datapoints: points}}
}

func scaleInCooldown(p ScalingPolicy) time.Duration {
	if c := p.StepScalingPolicyConfiguration; c != nil {
		return seconds(c.CooldownSeconds())
	}
	return seconds(p.TargetTrackingScalingPolicyConfiguration.ScaleInCooldownSeconds())
}

// TestDecideProperties drives Decide through random sequences of alarm
// readings, operator changes of the count, deployments and suspensions, and
// checks that the result stays in [Min, Max] (or moves into it from
// outside, or stays put), that no policy scales in again before its
// cooldown unless a scale-out came between, and that suspension and
// deployments hold.
func TestDecideProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		minCap := rapid.Int32Range(0, 20).Draw(t, "min")
		maxCap := rapid.Int32Range(minCap, minCap+30).Draw(t, "max")
		tgt := target(minCap, maxCap)
		tgt.SuspendedState.DynamicScalingInSuspended = rapid.IntRange(0, 5).Draw(t, "inSuspended") == 0
		tgt.SuspendedState.DynamicScalingOutSuspended = rapid.IntRange(0, 5).Draw(t, "outSuspended") == 0
		var policies []ScalingPolicy
		byName := map[string]ScalingPolicy{}
		for i := range rapid.IntRange(1, 4).Draw(t, "policies") {
			name := fmt.Sprintf("p%d", i)
			p := genStepPolicy(t, name)
			if rapid.IntRange(0, 2).Draw(t, name+".tt") == 0 {
				p = genTTPolicy(t, name)
			} else if err := ValidateStepScaling(p.StepScalingPolicyConfiguration); err != nil {
				t.Fatalf("generated an invalid policy: %v", err)
			}
			policies = append(policies, p)
			byName[name] = p
		}

		cur, cd, now := rapid.Int32Range(0, 60).Draw(t, "current"), Cooldowns(nil), t0
		lastIn := map[string]int{} // policy → step of its last winning scale-in
		lastInAt := map[string]time.Time{}
		lastOut := -1
		for i := range rapid.IntRange(1, 15).Draw(t, "steps") {
			now = now.Add(time.Duration(rapid.IntRange(0, 400).Draw(t, "wait")) * time.Second)
			if rapid.IntRange(0, 9).Draw(t, "operator") == 0 {
				cur = rapid.Int32Range(0, 60).Draw(t, "operatorCount")
			}
			deploy := rapid.IntRange(0, 4).Draw(t, "deploy") == 0
			var in []PolicyInput
			for _, p := range policies {
				in = append(in, PolicyInput{Policy: p, Alarms: genReadings(t, p, fmt.Sprintf("%s.%d", p.PolicyName, i))})
			}
			d := Decide(Input{Target: tgt, Current: cur, Policies: in, Cooldowns: cd, DeploymentInProgress: deploy, Now: now})

			inRange := d.Desired >= minCap && d.Desired <= maxCap
			switch {
			case cur >= minCap && cur <= maxCap && !inRange:
				t.Fatalf("step %d: %d within [%d, %d] went to %d", i, cur, minCap, maxCap, d.Desired)
			case (cur < minCap || cur > maxCap) && !inRange && d.Desired != cur:
				t.Fatalf("step %d: %d outside [%d, %d] went to %d, neither into the range nor nowhere", i, cur, minCap, maxCap, d.Desired)
			case cur < minCap && d.Desired < cur, cur > maxCap && d.Desired > cur:
				t.Fatalf("step %d: %d outside [%d, %d] moved away to %d", i, cur, minCap, maxCap, d.Desired)
			}
			switch d.Direction {
			case ScaleIn:
				if deploy || tgt.SuspendedState.DynamicScalingInSuspended {
					t.Fatalf("step %d: scaled in during a deployment (%v) or suspension", i, deploy)
				}
				if last, ok := lastIn[d.Policy]; ok && lastOut < last && now.Before(lastInAt[d.Policy].Add(scaleInCooldown(byName[d.Policy]))) {
					t.Fatalf("step %d: %s scaled in at %v, within its cooldown from %v", i, d.Policy, now, lastInAt[d.Policy])
				}
				lastIn[d.Policy], lastInAt[d.Policy] = i, now
			case ScaleOut:
				if tgt.SuspendedState.DynamicScalingOutSuspended {
					t.Fatalf("step %d: scaled out while scale-out is suspended", i)
				}
				lastOut = i
			case "":
				if d.Changed() {
					t.Fatalf("step %d: changed without a direction", i)
				}
			}
			cur, cd = d.Desired, d.Cooldowns
		}
	})
}
