package scaling

import (
	"time"
)

func f64(v float64) *float64 { return &v }
func i32(v int32) *int32     { return &v }
func boolp(v bool) *bool     { return &v }

var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

const testResource = "service/default/web-app"

// step builds a step adjustment; nil bounds are infinite.
func step(lo, hi *float64, adj int32) StepAdjustment {
	return StepAdjustment{MetricIntervalLowerBound: lo, MetricIntervalUpperBound: hi, ScalingAdjustment: i32(adj)}
}

func stepPolicy(name, adjustmentType string, steps ...StepAdjustment) ScalingPolicy {
	return ScalingPolicy{
		PolicyName: name, ServiceNamespace: NamespaceECS, ResourceID: testResource, ScalableDimension: DimensionDesired,
		PolicyType: PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &StepScalingPolicyConfiguration{
			AdjustmentType: adjustmentType, StepAdjustments: steps,
		},
	}
}

func ttPolicy(name string, target float64, disableScaleIn bool) ScalingPolicy {
	return ScalingPolicy{
		PolicyName: name, ServiceNamespace: NamespaceECS, ResourceID: testResource, ScalableDimension: DimensionDesired,
		PolicyType: PolicyTypeTargetTracking,
		TargetTrackingScalingPolicyConfiguration: &TargetTrackingScalingPolicyConfiguration{
			TargetValue:                   f64(target),
			PredefinedMetricSpecification: &PredefinedMetricSpecification{PredefinedMetricType: MetricECSServiceCPU},
			DisableScaleIn:                boolp(disableScaleIn),
		},
	}
}

func target(minCap, maxCap int32) ScalableTarget {
	return ScalableTarget{
		ServiceNamespace: NamespaceECS, ResourceID: testResource, ScalableDimension: DimensionDesired,
		MinCapacity: minCap, MaxCapacity: maxCap,
	}
}

func alarmIn(name string, threshold float64, points ...float64) AlarmReading {
	return AlarmReading{AlarmName: name, State: StateAlarm, Threshold: f64(threshold), Datapoints: points}
}

func ttHigh(policy string, points ...float64) AlarmReading {
	return AlarmReading{AlarmName: TargetTrackingAlarmName(testResource, true, policy+"-h"), State: StateAlarm, Datapoints: points}
}

func ttLow(policy string, points ...float64) AlarmReading {
	return AlarmReading{AlarmName: TargetTrackingAlarmName(testResource, false, policy+"-l"), State: StateAlarm, Datapoints: points}
}

// scaleOut is a step policy adding +2 from threshold to threshold+10 and
// +3 beyond.
func scaleOut() ScalingPolicy {
	return stepPolicy("scale-out", ChangeInCapacity, step(f64(0), f64(10), 2), step(f64(10), nil, 3))
}

// scaleIn is a step policy removing 1 task below the threshold.
func scaleIn() ScalingPolicy {
	return stepPolicy("scale-in", ChangeInCapacity, step(nil, f64(0), -1))
}
