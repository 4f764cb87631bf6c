package scaling

import (
	"math"
	"strings"
)

// Aggregate combines an alarm's recent datapoints into the breach value a
// step policy compares against its steps, by MetricAggregationType (empty
// means Average). ok is false when there are no datapoints.
func Aggregate(aggregation string, points []float64) (value float64, ok bool) {
	if len(points) == 0 {
		return 0, false
	}
	switch aggregation {
	case AggregationMinimum:
		value = points[0]
		for _, p := range points[1:] {
			value = math.Min(value, p)
		}
	case AggregationMaximum:
		value = points[0]
		for _, p := range points[1:] {
			value = math.Max(value, p)
		}
	default:
		for _, p := range points {
			value += p
		}
		value /= float64(len(points))
	}
	return value, true
}

// SelectStep returns the step whose interval holds breach − threshold.
// Above the threshold an interval is [lower, upper); below it (lower,
// upper]; a nil bound is infinite. Exactly at the threshold the alarm's
// comparison operator decides the side (GreaterThan… above, LessThan…
// below); when it is unknown (state-change events do not carry it), the
// above-side step is preferred and the below-side one is the fallback.
func SelectStep(steps []StepAdjustment, threshold, breach float64, comparison string) (StepAdjustment, bool) {
	diff := breach - threshold
	var sides []bool // true = above
	switch {
	case diff > 0:
		sides = []bool{true}
	case diff < 0:
		sides = []bool{false}
	case strings.HasPrefix(comparison, "GreaterThan"):
		sides = []bool{true}
	case strings.HasPrefix(comparison, "LessThan") && !strings.Contains(comparison, "Upper"):
		sides = []bool{false}
	default:
		sides = []bool{true, false}
	}
	for _, above := range sides {
		for _, s := range steps {
			if inInterval(s, diff, above) {
				return s, true
			}
		}
	}
	return StepAdjustment{}, false
}

func inInterval(s StepAdjustment, diff float64, above bool) bool {
	lo, hi := s.MetricIntervalLowerBound, s.MetricIntervalUpperBound
	if above {
		return (lo == nil || diff >= *lo) && (hi == nil || diff < *hi)
	}
	return (lo == nil || diff > *lo) && (hi == nil || diff <= *hi)
}

// RoundPercentChange rounds a raw PercentChangeInCapacity result (capacity ×
// adjustment / 100) to whole tasks as AAS does: above 1 it rounds down,
// between 0 and 1 it becomes 1, between −1 and 0 it becomes −1, and below
// −1 it rounds toward zero (−6.67 → −6).
func RoundPercentChange(raw float64) int64 {
	switch {
	case raw > 0:
		return max(1, int64(math.Floor(raw)))
	case raw < 0:
		return min(-1, int64(math.Ceil(raw)))
	}
	return 0
}

// Adjust returns the capacity a step's ScalingAdjustment yields from base:
// base + adjustment (ChangeInCapacity), base + the rounded percentage of
// base, raised to minMagnitude when smaller (PercentChangeInCapacity), or
// the adjustment itself (ExactCapacity). The result is never negative.
func Adjust(adjustmentType string, adjustment, minMagnitude, base int32) int32 {
	var next int64
	switch adjustmentType {
	case ExactCapacity:
		next = int64(adjustment)
	case PercentChangeInCapacity:
		next = int64(base) + percentChange(adjustment, minMagnitude, base)
	default:
		next = int64(base) + int64(adjustment)
	}
	return int32(min(max(next, 0), math.MaxInt32))
}

func percentChange(adjustment, minMagnitude, base int32) int64 {
	change := RoundPercentChange(float64(int64(base)*int64(adjustment)) / 100)
	if minMagnitude > 0 && abs64(change) < int64(minMagnitude) {
		switch {
		case adjustment > 0:
			change = int64(minMagnitude)
		case adjustment < 0:
			change = -int64(minMagnitude)
		}
	}
	return change
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
