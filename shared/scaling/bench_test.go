package scaling

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDecide decides for a target with four step policies and two
// target tracking policies, every alarm in ALARM.
func BenchmarkDecide(b *testing.B) {
	var policies []PolicyInput
	for i := range 4 {
		p := scaleOut()
		p.PolicyName = fmt.Sprintf("step-%d", i)
		policies = append(policies, PolicyInput{Policy: p, Alarms: []AlarmReading{alarmIn(p.PolicyName, 75, 80, 85, 90)}})
	}
	for i := range 2 {
		p := ttPolicy(fmt.Sprintf("tt-%d", i), 50, false)
		policies = append(policies, PolicyInput{Policy: p, Alarms: []AlarmReading{ttHigh(p.PolicyName, 60, 70, 80), ttLow(p.PolicyName, 10)}})
	}
	in := Input{Target: target(1, 100), Current: 10, Policies: policies, Now: t0,
		Cooldowns: Cooldowns{"step-0": {ScaleOutAt: t0.Add(-time.Minute), ScaleOutAdded: 2}}}
	b.ReportAllocs()
	for b.Loop() {
		if d := Decide(in); !d.Changed() {
			b.Fatal("no change")
		}
	}
}

// BenchmarkEvaluateAlarm evaluates a 15-of-15 one-minute alarm over an
// hour of samples taken every 10 seconds.
func BenchmarkEvaluateAlarm(b *testing.B) {
	def := AlarmDefinition{AlarmName: "low", Namespace: "AWS/ECS", MetricName: "CPUUtilization", Statistic: StatAverage,
		Period: 60, EvaluationPeriods: 15, DatapointsToAlarm: 15, Threshold: 45, ComparisonOperator: LessThanThreshold}
	now := t0.Add(time.Hour + 20*time.Second)
	var samples []Sample
	for ts := t0; ts.Before(now); ts = ts.Add(10 * time.Second) {
		samples = append(samples, Sample{Timestamp: ts, Value: 20})
	}
	b.ReportAllocs()
	for b.Loop() {
		if ev := EvaluateAlarm(def, samples, StateOK, now); ev.State != StateAlarm {
			b.Fatal(ev.State)
		}
	}
}
