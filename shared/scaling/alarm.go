package scaling

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// CloudWatch comparison operators Berth's alarm evaluator supports.
const (
	GreaterThanOrEqualToThreshold = "GreaterThanOrEqualToThreshold"
	GreaterThanThreshold          = "GreaterThanThreshold"
	LessThanThreshold             = "LessThanThreshold"
	LessThanOrEqualToThreshold    = "LessThanOrEqualToThreshold"
)

// TreatMissingData values; empty means missing.
const (
	MissingDataMissing      = "missing"
	MissingDataIgnore       = "ignore"
	MissingDataBreaching    = "breaching"
	MissingDataNotBreaching = "notBreaching"
)

// CloudWatch statistics.
const (
	StatAverage     = "Average"
	StatSum         = "Sum"
	StatMinimum     = "Minimum"
	StatMaximum     = "Maximum"
	StatSampleCount = "SampleCount"
)

// ValidationError is CloudWatch's exception name for a bad alarm definition.
const ValidationError = "ValidationError"

// MetricDimension is a CloudWatch metric dimension.
type MetricDimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// AlarmDefinition is a CloudWatch metric alarm, with PutMetricAlarm's
// member names, as Berth's local alarm store keeps it.
type AlarmDefinition struct {
	AlarmName          string            `json:"AlarmName"`
	AlarmArn           string            `json:"AlarmArn,omitempty"`
	AlarmDescription   string            `json:"AlarmDescription,omitempty"`
	AlarmActions       []string          `json:"AlarmActions,omitempty"`
	Namespace          string            `json:"Namespace"`
	MetricName         string            `json:"MetricName"`
	Dimensions         []MetricDimension `json:"Dimensions,omitempty"`
	Statistic          string            `json:"Statistic"`
	Unit               string            `json:"Unit,omitempty"`
	Period             int32             `json:"Period"`
	EvaluationPeriods  int32             `json:"EvaluationPeriods"`
	DatapointsToAlarm  int32             `json:"DatapointsToAlarm,omitempty"`
	Threshold          float64           `json:"Threshold"`
	ComparisonOperator string            `json:"ComparisonOperator"`
	TreatMissingData   string            `json:"TreatMissingData,omitempty"`
}

// Validate applies CloudWatch's rules for the fields the evaluator uses.
func (a AlarmDefinition) Validate() error {
	invalid := func(format string, args ...any) error {
		return ecs.Errorf(ValidationError, format, args...)
	}
	switch {
	case a.AlarmName == "" || len(a.AlarmName) > 255:
		return invalid("AlarmName must be 1-255 characters")
	case a.Namespace == "" || a.MetricName == "":
		return invalid("alarm %s: Namespace and MetricName are required", a.AlarmName)
	case !slices.Contains([]string{StatAverage, StatSum, StatMinimum, StatMaximum, StatSampleCount}, a.Statistic):
		return invalid("alarm %s: Statistic %q must be one of Average, Sum, Minimum, Maximum, SampleCount", a.AlarmName, a.Statistic)
	case a.Period != 10 && a.Period != 30 && (a.Period < 60 || a.Period%60 != 0):
		return invalid("alarm %s: Period must be 10, 30 or a multiple of 60 seconds, got %d", a.AlarmName, a.Period)
	case a.EvaluationPeriods < 1:
		return invalid("alarm %s: EvaluationPeriods must be at least 1", a.AlarmName)
	case int64(a.Period)*int64(a.EvaluationPeriods) > 86400:
		return invalid("alarm %s: Period × EvaluationPeriods must not exceed one day", a.AlarmName)
	case a.DatapointsToAlarm < 0 || a.DatapointsToAlarm > a.EvaluationPeriods:
		return invalid("alarm %s: DatapointsToAlarm must be between 1 and EvaluationPeriods (%d)", a.AlarmName, a.EvaluationPeriods)
	case comparisonText(a.ComparisonOperator) == "":
		return invalid("alarm %s: ComparisonOperator %q is not supported", a.AlarmName, a.ComparisonOperator)
	case math.IsNaN(a.Threshold) || math.IsInf(a.Threshold, 0):
		return invalid("alarm %s: Threshold must be a finite number", a.AlarmName)
	}
	switch a.TreatMissingData {
	case "", MissingDataMissing, MissingDataIgnore, MissingDataBreaching, MissingDataNotBreaching:
		return nil
	}
	return invalid("alarm %s: TreatMissingData %q must be missing, ignore, breaching or notBreaching", a.AlarmName, a.TreatMissingData)
}

func (a AlarmDefinition) datapointsToAlarm() int {
	if a.DatapointsToAlarm <= 0 {
		return int(a.EvaluationPeriods)
	}
	return int(a.DatapointsToAlarm)
}

func (a AlarmDefinition) breaches(v float64) bool {
	switch a.ComparisonOperator {
	case GreaterThanOrEqualToThreshold:
		return v >= a.Threshold
	case GreaterThanThreshold:
		return v > a.Threshold
	case LessThanThreshold:
		return v < a.Threshold
	case LessThanOrEqualToThreshold:
		return v <= a.Threshold
	}
	return false
}

func comparisonText(op string) string {
	switch op {
	case GreaterThanOrEqualToThreshold:
		return "greater than or equal to"
	case GreaterThanThreshold:
		return "greater than"
	case LessThanThreshold:
		return "less than"
	case LessThanOrEqualToThreshold:
		return "less than or equal to"
	}
	return ""
}

// Sample is one raw metric observation.
type Sample struct {
	Timestamp time.Time
	Value     float64
}

// Datapoint is a metric's statistic over one period; Timestamp is the
// period's start.
type Datapoint struct {
	Timestamp   time.Time
	Value       float64
	SampleCount float64
}

// evaluationEnd is where the newest period an evaluation looks at ends:
// now truncated to the minute (CloudWatch lines periods up with the minute
// of evaluation, not with multiples of the period), or to the period for
// high-resolution periods under a minute.
func evaluationEnd(now time.Time, period int32) time.Time {
	unit := int64(60)
	if period > 0 && period < 60 {
		unit = int64(period)
	}
	u := now.Unix()
	u -= ((u % unit) + unit) % unit
	return time.Unix(u, 0).UTC()
}

// datapoints computes the statistic over samples in each period of
// [end − periods × period, end), newest period first; periods without
// samples are absent.
func datapoints(samples []Sample, statistic string, period time.Duration, periods int, end time.Time) []Datapoint {
	type acc struct{ sum, lo, hi, n float64 }
	buckets := make([]*acc, periods)
	from := end.Add(-time.Duration(periods) * period)
	for _, s := range samples {
		if s.Timestamp.Before(from) || !s.Timestamp.Before(end) || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		k := int(end.Sub(s.Timestamp) / period)
		if end.Sub(s.Timestamp)%period == 0 {
			k-- // a sample exactly at a boundary opens the later period
		}
		if k < 0 || k >= periods {
			continue
		}
		b := buckets[k]
		if b == nil {
			b = &acc{lo: s.Value, hi: s.Value}
			buckets[k] = b
		}
		b.sum += s.Value
		b.lo, b.hi = math.Min(b.lo, s.Value), math.Max(b.hi, s.Value)
		b.n++
	}
	var out []Datapoint
	for k, b := range buckets {
		if b == nil {
			continue
		}
		dp := Datapoint{Timestamp: end.Add(-time.Duration(k+1) * period), SampleCount: b.n}
		switch statistic {
		case StatSum:
			dp.Value = b.sum
		case StatMinimum:
			dp.Value = b.lo
		case StatMaximum:
			dp.Value = b.hi
		case StatSampleCount:
			dp.Value = b.n
		default:
			dp.Value = b.sum / b.n
		}
		out = append(out, dp)
	}
	return out
}

// AlarmEvaluation is the outcome of evaluating an alarm once.
type AlarmEvaluation struct {
	State  string
	Reason string
	// ReasonData is Data JSON-encoded, as CloudWatch puts it in events.
	ReasonData string
	Data       ReasonData
	// Retained is true when missing data was ignored and the state kept.
	Retained bool
}

// evaluationRangeExtra is how many periods beyond EvaluationPeriods the
// evaluator looks back for datapoints (CloudWatch's "evaluation range";
// its exact size is not documented, its examples use two more).
const evaluationRangeExtra = 2

// EvaluateAlarm evaluates def against raw samples at now, as CloudWatch
// does: each period's datapoint is the Statistic of its samples; over the
// last EvaluationPeriods complete periods (ending at now's minute), ALARM
// when at least DatapointsToAlarm breach, else OK. When datapoints are
// missing it looks back over a slightly longer range and then applies
// TreatMissingData (see doc.go). current is the alarm's state before this
// evaluation ("" for a new alarm); ignore keeps it.
func EvaluateAlarm(def AlarmDefinition, samples []Sample, current string, now time.Time) AlarmEvaluation {
	n, m := int(max(def.EvaluationPeriods, 1)), def.datapointsToAlarm()
	period := time.Duration(max(def.Period, 1)) * time.Second
	end := evaluationEnd(now, def.Period)
	existing := datapoints(samples, def.Statistic, period, n+evaluationRangeExtra, end) // newest first
	if len(existing) > n {
		existing = existing[:n]
	}
	e := evaluation{def: def, n: n, total: n, m: m, now: now, windowStart: end.Add(-time.Duration(n) * period), real: existing}
	for _, dp := range existing {
		if def.breaches(dp.Value) {
			e.breaching++
		}
	}
	fills := n - len(existing)
	switch {
	case fills == 0:
		return e.thresholdCrossed(0)
	case treatment(def) == MissingDataBreaching:
		e.breaching += fills
		return e.thresholdCrossed(fills)
	case treatment(def) == MissingDataNotBreaching:
		return e.thresholdCrossed(fills)
	case e.breaching >= m || e.breaching < len(existing):
		// Enough real breaches for ALARM, or a real non-breaching datapoint
		// for OK: CloudWatch decides on the datapoints it has.
		e.n = len(existing)
		return e.thresholdCrossed(0)
	case treatment(def) == MissingDataIgnore && current != "":
		ev := e.result(current, "")
		ev.Retained = true
		return ev
	}
	return e.result(StateInsufficientData, fmt.Sprintf("Insufficient Data: %s.", countPhrase(fills, "datapoint was unknown", "datapoints were unknown")))
}

func treatment(def AlarmDefinition) string {
	if def.TreatMissingData == "" {
		return MissingDataMissing
	}
	return def.TreatMissingData
}

// evaluation carries one EvaluateAlarm run.
type evaluation struct {
	def         AlarmDefinition
	n           int // datapoints evaluated (real and filled)
	total       int // EvaluationPeriods
	m           int // DatapointsToAlarm
	breaching   int // breaching datapoints, real and filled
	now         time.Time
	windowStart time.Time
	real        []Datapoint // real datapoints evaluated, newest first
}

// thresholdCrossed settles ALARM or OK; fills is how many missing
// datapoints were filled per TreatMissingData.
func (e evaluation) thresholdCrossed(fills int) AlarmEvaluation {
	alarm := e.breaching >= e.m
	if len(e.real) == 0 {
		treated := "NonBreaching"
		if alarm {
			treated = "Breaching"
		}
		reason := fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s treated as [%s].",
			countPhrase(fills, "period", "periods"), countPhrase(fills, "missing datapoint was", "missing datapoints were"), treated)
		return e.result(stateFor(alarm), reason)
	}
	var listed []Datapoint
	for _, dp := range e.real {
		if e.def.breaches(dp.Value) == alarm {
			listed = append(listed, dp)
		}
	}
	count, cmp, need, transition := e.breaching, comparisonText(e.def.ComparisonOperator), e.m, "OK -> ALARM"
	if !alarm {
		count, cmp, need, transition = e.n-e.breaching, "not "+cmp, e.total-e.m+1, "ALARM -> OK"
	}
	verb := "were"
	if count == 1 {
		verb = "was"
	}
	var filled string
	if fills > 0 {
		filled = fmt.Sprintf(", counting %s treated as [%s]", countPhrase(fills, "missing datapoint", "missing datapoints"), fillName(e.def))
	}
	reason := fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s)%s (minimum %s for %s transition).",
		count, e.n, listDatapoints(listed), verb, cmp, javaNumber(e.def.Threshold), filled, countPhrase(need, "datapoint", "datapoints"), transition)
	return e.result(stateFor(alarm), reason)
}

func fillName(def AlarmDefinition) string {
	if treatment(def) == MissingDataBreaching {
		return "Breaching"
	}
	return "NonBreaching"
}

func stateFor(alarm bool) string {
	if alarm {
		return StateAlarm
	}
	return StateOK
}

func (e evaluation) result(state, reason string) AlarmEvaluation {
	data := e.reasonData()
	raw, err := json.Marshal(data)
	if err != nil {
		// ReasonData holds only finite numbers and strings; this cannot fail.
		raw = []byte("{}")
	}
	return AlarmEvaluation{State: state, Reason: reason, ReasonData: string(raw), Data: data}
}

func (e evaluation) reasonData() ReasonData {
	threshold := e.def.Threshold
	d := ReasonData{
		Version:          "1.0",
		QueryDate:        formatCWTime(e.now),
		StartDate:        formatCWTime(e.windowStart),
		Statistic:        e.def.Statistic,
		Unit:             e.def.Unit,
		Period:           e.def.Period,
		RecentDatapoints: make([]float64, 0, len(e.real)),
		Threshold:        &threshold,
	}
	if len(e.real) > 0 {
		d.StartDate = formatCWTime(e.real[len(e.real)-1].Timestamp)
	}
	for i := len(e.real) - 1; i >= 0; i-- {
		d.RecentDatapoints = append(d.RecentDatapoints, e.real[i].Value)
	}
	for _, dp := range e.real {
		v := dp.Value
		ed := EvaluatedDatapoint{Timestamp: formatCWTime(dp.Timestamp), Value: &v}
		if dp.SampleCount > 0 {
			ed.SampleCount = ptr(dp.SampleCount)
		}
		d.EvaluatedDatapoints = append(d.EvaluatedDatapoints, ed)
	}
	return d
}

func listDatapoints(dps []Datapoint) string {
	parts := make([]string, len(dps))
	for i, dp := range dps {
		parts[i] = javaNumber(dp.Value) + " (" + dp.Timestamp.UTC().Format("02/01/06 15:04:05") + ")"
	}
	return strings.Join(parts, ", ")
}

func countPhrase(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// cwTimeLayout is how CloudWatch writes times in alarm events and reasonData.
const cwTimeLayout = "2006-01-02T15:04:05.000-0700"

func formatCWTime(t time.Time) string { return t.UTC().Format(cwTimeLayout) }

// ParseCWTime parses a CloudWatch event time (2019-10-02T17:04:40.989+0000),
// also accepting RFC 3339.
func ParseCWTime(s string) (time.Time, error) {
	if t, err := time.Parse(cwTimeLayout, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is neither 2006-01-02T15:04:05.000+0000 nor RFC 3339", s)
	}
	return t.UTC(), nil
}
