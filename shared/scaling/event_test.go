package scaling

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadEvent(t *testing.T, name string) AlarmEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseAlarmEvent(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

func TestParseAlarmEventBreachAbove(t *testing.T) {
	e := loadEvent(t, "alarm-scale-out-breach.json")
	d := e.Detail
	if d.AlarmName != "web-app-cpu-gt-75" || d.State.Value != StateAlarm || d.PreviousState.Value != StateOK || d.IsComposite() {
		t.Fatalf("detail %+v", d)
	}
	if m := d.Configuration.Metrics[0].MetricStat; m == nil || m.Metric.Namespace != "AWS/ECS" || m.Metric.Dimensions["ServiceName"] != "web-app" || m.Period != 60 || m.Stat != "Average" {
		t.Errorf("metric %+v", d.Configuration.Metrics[0])
	}
	if ts, err := ParseCWTime(d.State.Timestamp); err != nil || !ts.Equal(time.Date(2025, 3, 14, 12, 3, 41, 121_000_000, time.UTC)) {
		t.Errorf("timestamp %v, %v", ts, err)
	}
	r, err := d.Reading()
	if err != nil {
		t.Fatal(err)
	}
	if r.AlarmName != d.AlarmName || r.State != StateAlarm || r.Threshold == nil || *r.Threshold != 75 || !reflect.DeepEqual(r.Datapoints, []float64{80.4, 86.1, 91.7}) {
		t.Fatalf("reading %+v", r)
	}
	data, err := d.State.Data()
	if err != nil || len(data.EvaluatedDatapoints) != 3 || *data.EvaluatedDatapoints[0].Value != 91.7 || data.Period != 60 {
		t.Errorf("reasonData %+v, %v", data, err)
	}
	// Breach value (average) 86.07 lies 11.07 above the threshold: the +3 step.
	dec := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: fire(scaleOut(), r)})
	if dec.Desired != 13 || dec.Cause != "monitor alarm web-app-cpu-gt-75 in state ALARM triggered policy scale-out" {
		t.Errorf("decision %d %q", dec.Desired, dec.Cause)
	}
}

func TestParseAlarmEventBelowThreshold(t *testing.T) {
	r, err := loadEvent(t, "alarm-scale-in-below.json").Detail.Reading()
	if err != nil {
		t.Fatal(err)
	}
	if *r.Threshold != 25 || !reflect.DeepEqual(r.Datapoints, []float64{12.5, 9.8}) {
		t.Fatalf("reading %+v", r)
	}
	// Breach value 11.15 lies 13.85 below: the (−∞, −10] step removes 2.
	p := stepPolicy("web-app-cpu-lt-25", ChangeInCapacity, step(nil, f64(-10), -2), step(f64(-10), f64(0), -1))
	dec := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: fire(p, r)})
	if dec.Desired != 8 || dec.Direction != ScaleIn {
		t.Errorf("decision %d %s (%q)", dec.Desired, dec.Direction, dec.Notes)
	}
}

func TestParseAlarmEventInsufficientData(t *testing.T) {
	r, err := loadEvent(t, "alarm-insufficient-data.json").Detail.Reading()
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateInsufficientData || len(r.Datapoints) != 0 || *r.Threshold != 75 {
		t.Fatalf("reading %+v", r)
	}
	dec := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: fire(scaleOut(), r)})
	if dec.Changed() || dec.Description != "" {
		t.Errorf("INSUFFICIENT_DATA scaled: %+v", dec)
	}
}

func TestParseAlarmEventInitialCreation(t *testing.T) {
	d := loadEvent(t, "alarm-initial-creation.json").Detail
	if _, err := d.PreviousState.Data(); !errors.Is(err, ErrNoReasonData) {
		t.Fatalf("previous state data error %v, want ErrNoReasonData", err)
	}
	prev := AlarmStateChange{AlarmName: d.AlarmName, State: d.PreviousState}
	r, err := prev.Reading()
	if err != nil || r.Threshold != nil || r.Datapoints != nil || r.State != StateInsufficientData {
		t.Fatalf("reading without reasonData %+v, %v", r, err)
	}
	// The new state is a target tracking AlarmHigh: 96.4 over a target of 75.
	cur, err := d.Reading()
	if err != nil {
		t.Fatal(err)
	}
	dec := Decide(Input{Target: target(1, 20), Current: 4, Now: t0, Policies: fire(ttPolicy("cpu75-target-tracking-scaling-policy", 75, false), cur)})
	if dec.Desired != 6 { // ceil(4 × 96.4 / 75)
		t.Errorf("desired %d (%q)", dec.Desired, dec.Notes)
	}
}

func TestParseAlarmEventComposite(t *testing.T) {
	d := loadEvent(t, "alarm-composite.json").Detail
	if !d.IsComposite() || d.Configuration.ActionsSuppressorWaitPeriod != 120 || d.State.ActionsSuppressedBy != "WaitPeriod" {
		t.Fatalf("detail %+v", d)
	}
	data, err := d.State.Data()
	if err != nil || len(data.TriggeringAlarms) != 1 || data.TriggeringAlarms[0].State.Value != StateAlarm ||
		data.TriggeringAlarms[0].Arn != "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-app-cpu-gt-75" {
		t.Fatalf("composite reasonData %+v, %v", data, err)
	}
	r, err := d.Reading()
	if err != nil || r.Threshold != nil || len(r.Datapoints) != 0 || r.State != StateAlarm {
		t.Fatalf("reading %+v, %v", r, err)
	}
	if dec := Decide(Input{Target: target(1, 20), Current: 10, Now: t0, Policies: fire(scaleOut(), r)}); dec.Changed() {
		t.Errorf("a composite alarm picked a step: %+v", dec)
	}
	b, err := json.Marshal(data)
	if err != nil || string(b) != `{"triggeringAlarms":[{"arn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-app-cpu-gt-75","state":{"value":"ALARM","timestamp":"2025-03-14T15:57:45.394+0000"}}]}` {
		t.Errorf("composite reasonData re-encoded as %s (%v)", b, err)
	}
}

func TestParseAlarmEventMalformedReasonData(t *testing.T) {
	d := loadEvent(t, "alarm-malformed-reasondata.json").Detail
	_, err := d.Reading()
	if err == nil || !strings.Contains(err.Error(), "alarm web-app-cpu-gt-75: reasonData of ALARM state is malformed") {
		t.Fatalf("error %v", err)
	}
	if _, err := d.PreviousState.Data(); err != nil {
		t.Errorf("the well-formed previous state failed: %v", err)
	}
}

func TestParseAlarmEventRejects(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "alarm-scale-out-breach.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from, to, substr string
	}{
		{"other source", `"source": "aws.cloudwatch"`, `"source": "berth"`, `source "berth"`},
		{"other detail type", `"detail-type": "CloudWatch Alarm State Change"`, `"detail-type": "ECS Task State Change"`, "ECS Task State Change"},
		{"no alarm name", `"alarmName": "web-app-cpu-gt-75"`, `"alarmName": ""`, "alarmName is missing"},
		{"unknown state", `"value": "ALARM"`, `"value": "PENDING"`, `"PENDING" is not OK, ALARM or INSUFFICIENT_DATA`},
		{"not JSON", `{`, `[`, "decode alarm event"},
	}
	for _, c := range cases {
		_, err := ParseAlarmEvent([]byte(strings.Replace(string(b), c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.substr) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.substr)
		}
	}
	detail, err := json.Marshal(loadEvent(t, "alarm-scale-out-breach.json").Detail)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := ParseAlarmStateChange(detail); err != nil || d.AlarmName != "web-app-cpu-gt-75" {
		t.Errorf("ParseAlarmStateChange: %+v, %v", d, err)
	}
	if _, err := ParseAlarmStateChange([]byte(`{"state":{"value":"OK"}}`)); err == nil {
		t.Error("a detail without alarmName parsed")
	}
}

func TestReasonDataRoundTrip(t *testing.T) {
	ev := EvaluateAlarm(cpuAlarm(3, 2, ""), samplesFor("0 X X", 5*time.Minute), StateOK, evalNow)
	change := AlarmStateChange{AlarmName: "ServerCpuTooHigh", State: AlarmState{Value: ev.State, Reason: ev.Reason, ReasonData: ev.ReasonData}}
	r, err := change.Reading()
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateAlarm || *r.Threshold != 50 || !reflect.DeepEqual(r.Datapoints, []float64{10, 90, 90}) {
		t.Fatalf("reading %+v", r)
	}
	var back ReasonData
	if err := json.Unmarshal([]byte(ev.ReasonData), &back); err != nil || !reflect.DeepEqual(back, ev.Data) {
		t.Errorf("round trip %+v vs %+v (%v)", back, ev.Data, err)
	}
}

// FuzzParseAlarmEvent feeds arbitrary bytes through parsing and, when they
// parse, through Reading and Decide: nothing may panic, and a reading
// names the alarm it came from.
func FuzzParseAlarmEvent(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":{"alarmName":"a","state":{"value":"ALARM","reasonData":"{\"threshold\":1e308,\"recentDatapoints\":[-1e308,1e308]}"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseAlarmEvent(b)
		if err != nil {
			return
		}
		r, err := e.Detail.Reading()
		if err != nil {
			return
		}
		if r.AlarmName != e.Detail.AlarmName {
			t.Fatalf("reading names %q, event %q", r.AlarmName, e.Detail.AlarmName)
		}
		tt := ttPolicy("tt", 50, false)
		d := Decide(Input{Target: target(0, 100), Current: 10, Now: t0, Policies: []PolicyInput{
			{Policy: scaleOut(), Alarms: []AlarmReading{r}},
			{Policy: scaleIn(), Alarms: []AlarmReading{r}},
			{Policy: tt, Alarms: []AlarmReading{r}},
		}})
		if d.Desired < 0 || d.Desired > 100 {
			t.Fatalf("desired %d outside [0, 100]", d.Desired)
		}
	})
}
