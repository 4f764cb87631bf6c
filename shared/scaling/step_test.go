package scaling

import "testing"

func TestRoundPercentChange(t *testing.T) {
	cases := []struct {
		raw  float64
		want int64
	}{
		{1, 1},          // 25 % of 4
		{1.9, 1},        // above 1 rounds down
		{3.3, 3},        // above 1 rounds down
		{0.5, 1},        // between 0 and 1 becomes 1
		{0.01, 1},       // however small
		{-0.5, -1},      // between −1 and 0 becomes −1
		{-0.01, -1},     // however small
		{-6.67, -6},     // below −1 rounds toward zero
		{-1, -1},        // exactly −1
		{-1.5, -1},      // toward zero
		{0, 0},          // nothing to change
		{200 * 0.1, 20}, // exact results stay exact
	}
	for _, c := range cases {
		if got := RoundPercentChange(c.raw); got != c.want {
			t.Errorf("RoundPercentChange(%v) = %d, want %d", c.raw, got, c.want)
		}
	}
}

func TestAdjust(t *testing.T) {
	cases := []struct {
		name                    string
		typ                     string
		adj, minMagnitude, base int32
		want                    int32
	}{
		{"change in capacity adds", ChangeInCapacity, 2, 0, 10, 12},
		{"change in capacity removes", ChangeInCapacity, -3, 0, 10, 7},
		{"change in capacity never below zero", ChangeInCapacity, -5, 0, 2, 0},
		{"25% of 4 is 1", PercentChangeInCapacity, 25, 0, 4, 5},
		{"25% of 4 raised to MinAdjustmentMagnitude 2", PercentChangeInCapacity, 25, 2, 4, 6},
		{"200% of 10", PercentChangeInCapacity, 200, 0, 10, 30},
		{"-29% of 23 is -6.67, rounds to -6", PercentChangeInCapacity, -29, 0, 23, 17},
		{"5% of 10 is 0.5, becomes 1", PercentChangeInCapacity, 5, 0, 10, 11},
		{"-5% of 10 is -0.5, becomes -1", PercentChangeInCapacity, -5, 0, 10, 9},
		{"33% of 10 is 3.3, rounds down", PercentChangeInCapacity, 33, 0, 10, 13},
		{"-10% of 10 raised to magnitude 3", PercentChangeInCapacity, -10, 3, 10, 7},
		{"magnitude does not lower a larger change", PercentChangeInCapacity, 50, 2, 10, 15},
		{"percent of zero with magnitude scales from zero", PercentChangeInCapacity, 50, 2, 0, 2},
		{"percent of zero without magnitude stays", PercentChangeInCapacity, 50, 0, 0, 0},
		{"exact capacity sets", ExactCapacity, 7, 0, 10, 7},
		{"exact capacity zero", ExactCapacity, 0, 0, 10, 0},
	}
	for _, c := range cases {
		if got := Adjust(c.typ, c.adj, c.minMagnitude, c.base); got != c.want {
			t.Errorf("%s: Adjust(%s, %d, %d, %d) = %d, want %d", c.name, c.typ, c.adj, c.minMagnitude, c.base, got, c.want)
		}
	}
}

func TestAggregate(t *testing.T) {
	points := []float64{60, 90, 75}
	for agg, want := range map[string]float64{"": 75, AggregationAverage: 75, AggregationMinimum: 60, AggregationMaximum: 90} {
		if got, ok := Aggregate(agg, points); !ok || got != want {
			t.Errorf("Aggregate(%q) = %v, %v; want %v", agg, got, ok, want)
		}
	}
	if _, ok := Aggregate(AggregationAverage, nil); ok {
		t.Error("Aggregate of no datapoints reported a value")
	}
}

func TestSelectStep(t *testing.T) {
	// A policy covering both sides of a threshold of 50:
	// (−∞, −10] → −2, (−10, 0] → −1, [0, 10) → +1, [10, +∞) → +3.
	steps := []StepAdjustment{
		step(nil, f64(-10), -2),
		step(f64(-10), f64(0), -1),
		step(f64(0), f64(10), 1),
		step(f64(10), nil, 3),
	}
	cases := []struct {
		name       string
		breach     float64
		comparison string
		want       int32
		found      bool
	}{
		{"above: lower bound inclusive at +10", 60, "", 3, true},
		{"above: upper bound exclusive just under +10", 59.999, "", 1, true},
		{"above: far above", 500, "", 3, true},
		{"above: just over the threshold", 50.001, "", 1, true},
		{"below: upper bound inclusive at −10", 40, "", -2, true},
		{"below: lower bound exclusive just over −10", 40.001, "", -1, true},
		{"below: far below", -100, "", -2, true},
		{"below: just under the threshold", 49.999, "", -1, true},
		{"at threshold, operator unknown: above side wins", 50, "", 1, true},
		{"at threshold, GreaterThanOrEqualToThreshold", 50, GreaterThanOrEqualToThreshold, 1, true},
		{"at threshold, LessThanOrEqualToThreshold", 50, LessThanOrEqualToThreshold, -1, true},
	}
	for _, c := range cases {
		got, ok := SelectStep(steps, 50, c.breach, c.comparison)
		if ok != c.found || (ok && *got.ScalingAdjustment != c.want) {
			t.Errorf("%s: SelectStep(breach %v) = %v, %v; want %d", c.name, c.breach, adjOf(got), ok, c.want)
		}
	}
}

func TestSelectStepOneSided(t *testing.T) {
	// The AAS documentation's examples with a threshold of 50: [0, 10)
	// triggers for 50 ≤ metric < 60; (−10, 0] for 40 < metric ≤ 50.
	out := []StepAdjustment{step(f64(0), f64(10), 1), step(f64(10), nil, 2)}
	in := []StepAdjustment{step(f64(-10), f64(0), -1), step(nil, f64(-10), -2)}
	cases := []struct {
		name   string
		steps  []StepAdjustment
		breach float64
		want   int32
		found  bool
	}{
		{"scale-out policy at the threshold", out, 50, 1, true},
		{"scale-out policy below the threshold matches nothing", out, 45, 0, false},
		{"scale-in policy at the threshold falls back to the below side", in, 50, -1, true},
		{"scale-in policy at 40 is in the lower step", in, 40, -2, true},
		{"scale-in policy above the threshold matches nothing", in, 55, 0, false},
	}
	for _, c := range cases {
		got, ok := SelectStep(c.steps, 50, c.breach, "")
		if ok != c.found || (ok && *got.ScalingAdjustment != c.want) {
			t.Errorf("%s: got %v, %v; want %d, %v", c.name, adjOf(got), ok, c.want, c.found)
		}
	}
}

func adjOf(s StepAdjustment) any {
	if s.ScalingAdjustment == nil {
		return nil
	}
	return *s.ScalingAdjustment
}
