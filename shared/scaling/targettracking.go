package scaling

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/berth-run/berth/shared/ecs"
)

// Target-tracking alarm settings. AAS does not document the exact settings
// of the alarms it manages (the reference marks them UNVERIFIED); these are
// Berth's choice, modelled on what AAS is observed to create.
const (
	TTAlarmPeriodSeconds = 60
	TTHighDatapoints     = 3  // AlarmHigh: 3 of 3 one-minute datapoints above the target
	TTLowDatapoints      = 15 // AlarmLow: 15 of 15 one-minute datapoints below LowFactor × target
	TTLowFactor          = 0.9
	// TTMaxScaleInFraction bounds one target-tracking scale-in to a tenth of
	// the capacity (at least one task), so scale-in is gradual.
	TTMaxScaleInFraction = 0.1
)

// targetTrackingProposals evaluates a target tracking policy: its high
// alarm asks to scale out, its low alarm (when scale-in is enabled) to scale
// in. enabled reports whether the policy takes part in the all-must-agree
// scale-in vote.
func targetTrackingProposals(in Input, pi PolicyInput, notes *[]string) (out, inward []proposal, enabled bool) {
	name, cfg := pi.Policy.PolicyName, pi.Policy.TargetTrackingScalingPolicyConfiguration
	if cfg == nil || cfg.Target() <= 0 {
		*notes = append(*notes, fmt.Sprintf("policy %s: no usable TargetTrackingScalingPolicyConfiguration", name))
		return nil, nil, false
	}
	enabled = !cfg.ScaleInDisabled()
	for _, r := range pi.Alarms {
		high, low := ttAlarmRole(r.AlarmName)
		switch {
		case !high && !low:
			*notes = append(*notes, fmt.Sprintf("policy %s: alarm %s is not a target tracking AlarmHigh or AlarmLow", name, r.AlarmName))
		case !triggered(name, r, notes):
		case len(r.Datapoints) == 0:
			*notes = append(*notes, fmt.Sprintf("policy %s: alarm %s carries no datapoints", name, r.AlarmName))
		case high:
			if p, ok := ttScaleOut(in, name, r, cfg, notes); ok {
				out = append(out, p)
			}
		case !enabled:
			*notes = append(*notes, fmt.Sprintf("policy %s: scale-in is disabled", name))
		default:
			if p, ok := ttScaleIn(in, name, r, cfg, notes); ok {
				inward = append(inward, p)
			}
		}
	}
	return out, inward, enabled
}

// ttScaleOut sizes a scale-out proportionally to the newest datapoint:
// ceil(base × metric / target), at least one task when starting from zero.
func ttScaleOut(in Input, name string, r AlarmReading, cfg *TargetTrackingScalingPolicyConfiguration, notes *[]string) (proposal, bool) {
	metric, target := r.Datapoints[len(r.Datapoints)-1], cfg.Target()
	if metric <= target {
		*notes = append(*notes, fmt.Sprintf("policy %s: newest datapoint %s is not above the target %s", name, fmtFloat(metric), fmtFloat(target)))
		return proposal{}, false
	}
	compute := func(base int32) int32 {
		return max(1, proportional(base, metric, target))
	}
	return limit(in, name, r.AlarmName, true, cfg.ScaleOutCooldownSeconds(), cfg.ScaleInCooldownSeconds(), compute, notes)
}

// ttScaleIn sizes a scale-in gradually: toward ceil(base × metric / target)
// using the busiest recent datapoint, removing at most a tenth of the
// capacity (at least one task) per activity. When even one task fewer would
// push the metric over the target, it reports anticipated flapping.
func ttScaleIn(in Input, name string, r AlarmReading, cfg *TargetTrackingScalingPolicyConfiguration, notes *[]string) (proposal, bool) {
	metric, target := slices.Max(r.Datapoints), cfg.Target()
	if metric >= target {
		*notes = append(*notes, fmt.Sprintf("policy %s: busiest datapoint %s is not below the target %s", name, fmtFloat(metric), fmtFloat(target)))
		return proposal{}, false
	}
	compute := func(base int32) int32 {
		step := max(1, int32(float64(base)*TTMaxScaleInFraction))
		return max(proportional(base, metric, target), base-step)
	}
	p, ok := limit(in, name, r.AlarmName, false, cfg.ScaleOutCooldownSeconds(), cfg.ScaleInCooldownSeconds(), compute, notes)
	if ok && p.reason == NotScaledAtDesiredCapacity {
		p.reason = NotScaledFlapping
	}
	return p, ok
}

// proportional is ceil(capacity × metric / target): the capacity that
// brings the metric to or below the target, assuming load spreads evenly.
func proportional(capacity int32, metric, target float64) int32 {
	v := math.Ceil(float64(capacity) * metric / target)
	return int32(min(max(v, 0), math.MaxInt32))
}

// ttAlarmRole classifies a target tracking alarm by AAS's naming.
func ttAlarmRole(name string) (high, low bool) {
	return strings.Contains(name, "-AlarmHigh-"), strings.Contains(name, "-AlarmLow-")
}

// TargetTrackingAlarmName is AAS's name for a target tracking alarm:
// TargetTracking-<resource-id>-AlarmHigh-<uuid> (or AlarmLow).
func TargetTrackingAlarmName(resourceID string, high bool, uuid string) string {
	role := "AlarmLow"
	if high {
		role = "AlarmHigh"
	}
	return "TargetTracking-" + resourceID + "-" + role + "-" + uuid
}

// TargetTrackingAlarms returns the CloudWatch alarms Berth manages for a
// target tracking policy: AlarmHigh (scale out) and, unless scale-in is
// disabled, AlarmLow (scale in). Names already recorded in p.Alarms are
// kept, so an updated policy keeps its alarms; otherwise highID and lowID
// (UUIDs the caller generates) name new ones. For the predefined ECS
// metrics the alarm watches AWS/ECS CPUUtilization or MemoryUtilization
// with dimensions ClusterName and ServiceName, as AWS does.
func TargetTrackingAlarms(a ecs.Account, p ScalingPolicy, highID, lowID string) ([]AlarmDefinition, error) {
	cfg := p.TargetTrackingScalingPolicyConfiguration
	if p.PolicyType != PolicyTypeTargetTracking || cfg == nil {
		return nil, fmt.Errorf("policy %s is not a target tracking policy", p.PolicyName)
	}
	metric, err := trackedMetric(p.ResourceID, cfg)
	if err != nil {
		return nil, fmt.Errorf("alarms for policy %s: %w", p.PolicyName, err)
	}
	highName, lowName := TargetTrackingAlarmName(p.ResourceID, true, highID), TargetTrackingAlarmName(p.ResourceID, false, lowID)
	for _, al := range p.Alarms {
		switch high, low := ttAlarmRole(al.AlarmName); {
		case high:
			highName = al.AlarmName
		case low:
			lowName = al.AlarmName
		}
	}
	high := metric
	high.AlarmName, high.AlarmArn = highName, AlarmARN(a, highName)
	high.ComparisonOperator, high.Threshold = GreaterThanThreshold, cfg.Target()
	high.EvaluationPeriods, high.DatapointsToAlarm = TTHighDatapoints, TTHighDatapoints
	alarms := []AlarmDefinition{high}
	if !cfg.ScaleInDisabled() {
		low := metric
		low.AlarmName, low.AlarmArn = lowName, AlarmARN(a, lowName)
		low.ComparisonOperator, low.Threshold = LessThanThreshold, TTLowFactor*cfg.Target()
		low.EvaluationPeriods, low.DatapointsToAlarm = TTLowDatapoints, TTLowDatapoints
		alarms = append(alarms, low)
	}
	for i := range alarms {
		alarms[i].AlarmDescription = "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + p.PolicyARN + "."
		alarms[i].AlarmActions = []string{p.PolicyARN}
		alarms[i].Period = TTAlarmPeriodSeconds
		alarms[i].TreatMissingData = MissingDataMissing
	}
	return alarms, nil
}

// AlarmRefs lists alarms as a ScalingPolicy's Alarms member.
func AlarmRefs(defs []AlarmDefinition) []Alarm {
	out := make([]Alarm, len(defs))
	for i, d := range defs {
		out[i] = Alarm{AlarmName: d.AlarmName, AlarmARN: d.AlarmArn}
	}
	return out
}

// trackedMetric is the metric a target tracking policy follows, as a
// partial alarm definition.
func trackedMetric(resourceID string, cfg *TargetTrackingScalingPolicyConfiguration) (AlarmDefinition, error) {
	if !absent(cfg.CustomizedMetricSpecification) {
		m, err := parseCustomizedMetric(cfg.CustomizedMetricSpecification)
		if err != nil {
			return AlarmDefinition{}, err
		}
		return AlarmDefinition{Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions, Statistic: m.Statistic, Unit: m.Unit}, nil
	}
	if cfg.PredefinedMetricSpecification == nil {
		return AlarmDefinition{}, errors.New("no metric specification")
	}
	spec := cfg.PredefinedMetricSpecification
	switch spec.PredefinedMetricType {
	case MetricECSServiceCPU, MetricECSServiceMemory:
		svc, err := ParseResourceID("ResourceId", resourceID)
		if err != nil {
			return AlarmDefinition{}, err
		}
		name := "CPUUtilization"
		if spec.PredefinedMetricType == MetricECSServiceMemory {
			name = "MemoryUtilization"
		}
		return AlarmDefinition{
			Namespace: "AWS/ECS", MetricName: name, Statistic: StatAverage, Unit: "Percent",
			Dimensions: []MetricDimension{{Name: "ClusterName", Value: svc.Cluster}, {Name: "ServiceName", Value: svc.Name}},
		}, nil
	case MetricALBRequestsPerTask:
		_, tg, ok := strings.Cut(spec.ResourceLabel, "/targetgroup/")
		if !ok {
			return AlarmDefinition{}, fmt.Errorf("ResourceLabel %q names no target group", spec.ResourceLabel)
		}
		return AlarmDefinition{
			Namespace: "AWS/ApplicationELB", MetricName: "RequestCountPerTarget", Statistic: StatSum,
			Dimensions: []MetricDimension{{Name: "TargetGroup", Value: "targetgroup/" + tg}},
		}, nil
	}
	return AlarmDefinition{}, fmt.Errorf("predefined metric type %q is not supported", spec.PredefinedMetricType)
}
