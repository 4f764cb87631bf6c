package scaling

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// evalNow is an evaluation time 40.985 s into a minute.
var evalNow = time.Date(2019, 10, 2, 17, 4, 40, 985_000_000, time.UTC)

func cpuAlarm(evaluationPeriods, datapointsToAlarm int32, treatMissing string) AlarmDefinition {
	return AlarmDefinition{
		AlarmName: "ServerCpuTooHigh", Namespace: "AWS/ECS", MetricName: "CPUUtilization", Statistic: StatAverage,
		Period: 300, EvaluationPeriods: evaluationPeriods, DatapointsToAlarm: datapointsToAlarm,
		Threshold: 50, ComparisonOperator: GreaterThanThreshold, TreatMissingData: treatMissing,
	}
}

// samplesFor lays a CloudWatch documentation pattern ("0 - X - X", oldest
// first, 0 = not breaching, X = breaching, - = missing) over the periods
// that end at evalNow's minute.
func samplesFor(pattern string, period time.Duration) []Sample {
	cells := strings.Fields(pattern)
	end := evalNow.Truncate(time.Minute)
	var out []Sample
	for i, c := range cells {
		start := end.Add(-time.Duration(len(cells)-i) * period)
		switch c {
		case "0":
			out = append(out, Sample{Timestamp: start.Add(time.Minute), Value: 10})
		case "X":
			out = append(out, Sample{Timestamp: start.Add(time.Minute), Value: 90})
		}
	}
	return out
}

// TestEvaluateAlarmMissingData replays the tables of CloudWatch's "How alarm
// state is evaluated when data is missing" (3 of 3, then 2 of 3; five
// periods retrieved). "retain" means the current state is kept.
func TestEvaluateAlarmMissingData(t *testing.T) {
	cases := []struct {
		m, n    int32
		pattern string
		want    map[string]string // by TreatMissingData
	}{
		{3, 3, "0 - X - X", map[string]string{MissingDataMissing: StateOK, MissingDataIgnore: StateOK, MissingDataBreaching: StateOK, MissingDataNotBreaching: StateOK}},
		{3, 3, "0 - - - -", map[string]string{MissingDataMissing: StateOK, MissingDataIgnore: StateOK, MissingDataBreaching: StateOK, MissingDataNotBreaching: StateOK}},
		{3, 3, "- - - - -", map[string]string{MissingDataMissing: StateInsufficientData, MissingDataIgnore: "retain", MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateOK}},
		{3, 3, "0 X X - X", map[string]string{MissingDataMissing: StateAlarm, MissingDataIgnore: StateAlarm, MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateAlarm}},
		{3, 3, "- - - - X", map[string]string{MissingDataMissing: StateInsufficientData, MissingDataIgnore: "retain", MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateOK}},
		// CloudWatch answers ALARM for missing here; Berth does not model that
		// case (see doc.go) and answers INSUFFICIENT_DATA.
		{3, 3, "X - - - -", map[string]string{MissingDataMissing: StateInsufficientData, MissingDataIgnore: "retain", MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateOK}},
		{2, 3, "0 - X - X", map[string]string{MissingDataMissing: StateAlarm, MissingDataIgnore: StateAlarm, MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateAlarm}},
		{2, 3, "0 0 X 0 X", map[string]string{MissingDataMissing: StateAlarm, MissingDataIgnore: StateAlarm, MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateAlarm}},
		{2, 3, "0 - X - -", map[string]string{MissingDataMissing: StateOK, MissingDataIgnore: StateOK, MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateOK}},
		{2, 3, "- - - - 0", map[string]string{MissingDataMissing: StateOK, MissingDataIgnore: StateOK, MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateOK}},
		{2, 3, "- - - - X", map[string]string{MissingDataMissing: StateInsufficientData, MissingDataIgnore: "retain", MissingDataBreaching: StateAlarm, MissingDataNotBreaching: StateOK}},
	}
	for _, c := range cases {
		for treat, want := range c.want {
			def := cpuAlarm(c.n, c.m, treat)
			ev := EvaluateAlarm(def, samplesFor(c.pattern, 5*time.Minute), StateOK, evalNow)
			if want == "retain" {
				if !ev.Retained || ev.State != StateOK {
					t.Errorf("%d of %d, %q, %s: state %s retained %v; want the current state kept", c.m, c.n, c.pattern, treat, ev.State, ev.Retained)
				}
				if ev := EvaluateAlarm(def, samplesFor(c.pattern, 5*time.Minute), "", evalNow); ev.State != StateInsufficientData {
					t.Errorf("%d of %d, %q, %s, new alarm: state %s, want INSUFFICIENT_DATA", c.m, c.n, c.pattern, treat, ev.State)
				}
				continue
			}
			if ev.State != want || ev.Retained {
				t.Errorf("%d of %d, %q, %s: state %s (%s), want %s", c.m, c.n, c.pattern, treat, ev.State, ev.Reason, want)
			}
		}
	}
}

func TestEvaluateAlarmMOfN(t *testing.T) {
	cases := []struct {
		name    string
		m, n    int32
		pattern string
		want    string
	}{
		{"3 of 3 all breaching", 3, 3, "X X X", StateAlarm},
		{"3 of 3 with one dip", 3, 3, "X 0 X", StateOK},
		{"2 of 3 not consecutive", 2, 3, "X 0 X", StateAlarm},
		{"2 of 3 only one", 2, 3, "0 0 X", StateOK},
		{"1 of 1", 1, 1, "X", StateAlarm},
		{"older breaches outside the window do not count", 3, 3, "X X 0 0 0", StateOK},
		{"4 of 5", 4, 5, "X X 0 X X", StateAlarm},
	}
	for _, c := range cases {
		ev := EvaluateAlarm(cpuAlarm(c.n, c.m, ""), samplesFor(c.pattern, 5*time.Minute), StateOK, evalNow)
		if ev.State != c.want {
			t.Errorf("%s: state %s (%s), want %s", c.name, ev.State, ev.Reason, c.want)
		}
	}
}

// TestEvaluateAlarmMatchesCloudWatchExample reproduces the single-metric
// event of CloudWatch's documentation.
func TestEvaluateAlarmMatchesCloudWatchExample(t *testing.T) {
	def := cpuAlarm(1, 1, "")
	samples := []Sample{{Timestamp: time.Date(2019, 10, 2, 17, 1, 0, 0, time.UTC), Value: 99.50160229693434}}
	ev := EvaluateAlarm(def, samples, StateOK, evalNow)
	if ev.State != StateAlarm {
		t.Fatalf("state %s", ev.State)
	}
	wantReason := "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)."
	if ev.Reason != wantReason {
		t.Errorf("reason\n got %s\nwant %s", ev.Reason, wantReason)
	}
	wantData := `{"version":"1.0","queryDate":"2019-10-02T17:04:40.985+0000","startDate":"2019-10-02T16:59:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[99.50160229693434],"threshold":50.0,"evaluatedDatapoints":[{"timestamp":"2019-10-02T16:59:00.000+0000","sampleCount":1.0,"value":99.50160229693434}]}`
	if ev.ReasonData != wantData {
		t.Errorf("reasonData\n got %s\nwant %s", ev.ReasonData, wantData)
	}
	ok := EvaluateAlarm(def, []Sample{{Timestamp: samples[0].Timestamp, Value: 0.0666851903306472}}, StateAlarm, evalNow)
	wantOK := "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (02/10/19 16:59:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)."
	if ok.State != StateOK || ok.Reason != wantOK {
		t.Errorf("OK evaluation %s: %s", ok.State, ok.Reason)
	}
}

func TestEvaluateAlarmReasons(t *testing.T) {
	period := 5 * time.Minute
	cases := []struct {
		name    string
		def     AlarmDefinition
		pattern string
		reason  string
	}{
		{"several breaching, newest first", cpuAlarm(3, 2, ""), "0 X X", "Threshold Crossed: 2 out of the last 3 datapoints [90.0 (02/10/19 16:59:00), 90.0 (02/10/19 16:54:00)] were greater than the threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition)."},
		{"OK lists the non-breaching", cpuAlarm(3, 3, ""), "X 0 X", "Threshold Crossed: 1 out of the last 3 datapoints [10.0 (02/10/19 16:54:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)."},
		{"all missing, insufficient", cpuAlarm(3, 3, ""), "- - -", "Insufficient Data: 3 datapoints were unknown."},
		{"all missing treated as breaching", cpuAlarm(3, 3, MissingDataBreaching), "- - -", "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."},
		{"one missing treated as not breaching", cpuAlarm(1, 1, MissingDataNotBreaching), "-", "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."},
		{"partly filled", cpuAlarm(3, 3, MissingDataBreaching), "- - - - X", "Threshold Crossed: 3 out of the last 3 datapoints [90.0 (02/10/19 16:59:00)] were greater than the threshold (50.0), counting 2 missing datapoints treated as [Breaching] (minimum 3 datapoints for OK -> ALARM transition)."},
		{"missing data: decided on real datapoints", cpuAlarm(3, 2, ""), "- - - X 0", "Threshold Crossed: 1 out of the last 2 datapoints [10.0 (02/10/19 16:59:00)] was not greater than the threshold (50.0) (minimum 2 datapoints for ALARM -> OK transition)."},
	}
	for _, c := range cases {
		ev := EvaluateAlarm(c.def, samplesFor(c.pattern, period), StateOK, evalNow)
		if ev.Reason != c.reason {
			t.Errorf("%s:\n got %s\nwant %s", c.name, ev.Reason, c.reason)
		}
		var data ReasonData
		if err := json.Unmarshal([]byte(ev.ReasonData), &data); err != nil || data.Version != "1.0" || data.Threshold == nil || *data.Threshold != 50 {
			t.Errorf("%s: reasonData %s (%v)", c.name, ev.ReasonData, err)
		}
	}
}

func TestEvaluateAlarmStatistics(t *testing.T) {
	// Three samples in the newest one-minute period: 10, 20, 60.
	end := evalNow.Truncate(time.Minute)
	samples := []Sample{
		{Timestamp: end.Add(-50 * time.Second), Value: 10},
		{Timestamp: end.Add(-30 * time.Second), Value: 20},
		{Timestamp: end.Add(-time.Minute), Value: 60}, // the period's first instant
		{Timestamp: end, Value: 1000},                 // the period in progress: not evaluated
		{Timestamp: end.Add(-61 * time.Second), Value: 5000},
	}
	for stat, want := range map[string]float64{StatAverage: 30, StatSum: 90, StatMinimum: 10, StatMaximum: 60, StatSampleCount: 3} {
		def := AlarmDefinition{AlarmName: "a", Namespace: "n", MetricName: "m", Statistic: stat, Period: 60, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: GreaterThanThreshold}
		ev := EvaluateAlarm(def, samples, "", evalNow)
		if len(ev.Data.RecentDatapoints) != 1 || ev.Data.RecentDatapoints[0] != want {
			t.Errorf("%s: datapoints %v, want [%v]", stat, ev.Data.RecentDatapoints, want)
		}
	}
}

func TestEvaluateLessThanAlarm(t *testing.T) {
	def := AlarmDefinition{AlarmName: "low", Namespace: "AWS/ECS", MetricName: "CPUUtilization", Statistic: StatAverage,
		Period: 60, EvaluationPeriods: 15, DatapointsToAlarm: 15, Threshold: 45, ComparisonOperator: LessThanThreshold}
	end := evalNow.Truncate(time.Minute)
	var samples []Sample
	for i := 1; i <= 15; i++ {
		samples = append(samples, Sample{Timestamp: end.Add(-time.Duration(i) * time.Minute), Value: 20})
	}
	if ev := EvaluateAlarm(def, samples, StateOK, evalNow); ev.State != StateAlarm || len(ev.Data.RecentDatapoints) != 15 {
		t.Fatalf("15 of 15 below: %s %v", ev.State, ev.Data.RecentDatapoints)
	}
	samples[7].Value = 45 // not less than the threshold
	if ev := EvaluateAlarm(def, samples, StateAlarm, evalNow); ev.State != StateOK || !strings.Contains(ev.Reason, "was not less than the threshold (45.0)") {
		t.Fatalf("one at the threshold: %s %s", ev.State, ev.Reason)
	}
}

func TestAlarmDefinitionValidate(t *testing.T) {
	good := cpuAlarm(3, 3, "")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mut    func(*AlarmDefinition)
		substr string
	}{
		{"period", func(a *AlarmDefinition) { a.Period = 45 }, "Period must be 10, 30 or a multiple of 60"},
		{"statistic", func(a *AlarmDefinition) { a.Statistic = "p99" }, "Statistic"},
		{"evaluation periods", func(a *AlarmDefinition) { a.EvaluationPeriods = 0 }, "EvaluationPeriods"},
		{"datapoints to alarm", func(a *AlarmDefinition) { a.DatapointsToAlarm = 4 }, "DatapointsToAlarm"},
		{"a day at most", func(a *AlarmDefinition) { a.Period, a.EvaluationPeriods, a.DatapointsToAlarm = 3600, 25, 1 }, "one day"},
		{"comparison", func(a *AlarmDefinition) { a.ComparisonOperator = "LessThanLowerOrGreaterThanUpperThreshold" }, "ComparisonOperator"},
		{"missing data", func(a *AlarmDefinition) { a.TreatMissingData = "zero" }, "TreatMissingData"},
		{"name", func(a *AlarmDefinition) { a.AlarmName = "" }, "AlarmName"},
	}
	for _, c := range cases {
		a := good
		c.mut(&a)
		wantError(t, a.Validate(), ValidationError, c.substr)
	}
}

func TestJavaNumber(t *testing.T) {
	cases := map[float64]string{
		50: "50.0", 0: "0.0", 99.50160229693434: "99.50160229693434", 0.0666851903306472: "0.0666851903306472",
		-3.5: "-3.5", 1e7: "1.0E7", 12345678: "1.2345678E7", 0.00015: "1.5E-4", 0.001: "0.001", 45628: "45628.0",
	}
	for f, want := range cases {
		if got := javaNumber(f); got != want {
			t.Errorf("javaNumber(%v) = %s, want %s", f, got, want)
		}
	}
}
