package scaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Event identity of CloudWatch alarm state changes on EventBridge.
const (
	AlarmEventSource     = "aws.cloudwatch"
	AlarmEventDetailType = "CloudWatch Alarm State Change"
)

// ReasonData is the decoded reasonData of an alarm state: a metric alarm's
// evaluation (recentDatapoints, threshold, ...), an anomaly alarm's bands,
// or a composite alarm's triggeringAlarms.
type ReasonData struct {
	Version               string               `json:"version,omitempty"`
	QueryDate             string               `json:"queryDate,omitempty"`
	StartDate             string               `json:"startDate,omitempty"`
	Statistic             string               `json:"statistic,omitempty"`
	Unit                  string               `json:"unit,omitempty"`
	Period                int32                `json:"period,omitempty"`
	RecentDatapoints      []float64            `json:"recentDatapoints,omitempty"`
	RecentLowerThresholds []float64            `json:"recentLowerThresholds,omitempty"`
	RecentUpperThresholds []float64            `json:"recentUpperThresholds,omitempty"`
	Threshold             *float64             `json:"threshold,omitempty"`
	EvaluatedDatapoints   []EvaluatedDatapoint `json:"evaluatedDatapoints,omitempty"`
	TriggeringAlarms      []TriggeringAlarm    `json:"triggeringAlarms,omitempty"`
}

// EvaluatedDatapoint is one datapoint an evaluation looked at.
type EvaluatedDatapoint struct {
	Timestamp   string   `json:"timestamp"`
	SampleCount *float64 `json:"sampleCount,omitempty"`
	Value       *float64 `json:"value,omitempty"`
}

// TriggeringAlarm is a child alarm that moved a composite alarm.
type TriggeringAlarm struct {
	Arn   string `json:"arn"`
	State struct {
		Value     string `json:"value"`
		Timestamp string `json:"timestamp"`
	} `json:"state"`
}

// MarshalJSON writes reasonData as CloudWatch does: numbers in Java's
// notation (50.0, not 50) and, for metric alarms, recentDatapoints always
// present.
func (r ReasonData) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	field := func(name string, value []byte) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(strconv.Quote(name))
		b.WriteByte(':')
		b.Write(value)
	}
	str := func(name, v string) {
		if v != "" {
			field(name, quoteJSON(v))
		}
	}
	str("version", r.Version)
	str("queryDate", r.QueryDate)
	str("startDate", r.StartDate)
	str("statistic", r.Statistic)
	str("unit", r.Unit)
	if r.Period != 0 {
		field("period", strconv.AppendInt(nil, int64(r.Period), 10))
	}
	if r.RecentDatapoints != nil || (r.TriggeringAlarms == nil && r.Version != "") {
		field("recentDatapoints", javaArray(r.RecentDatapoints))
	}
	if r.RecentLowerThresholds != nil {
		field("recentLowerThresholds", javaArray(r.RecentLowerThresholds))
	}
	if r.RecentUpperThresholds != nil {
		field("recentUpperThresholds", javaArray(r.RecentUpperThresholds))
	}
	if r.Threshold != nil {
		if err := finite(*r.Threshold); err != nil {
			return nil, err
		}
		field("threshold", []byte(javaNumber(*r.Threshold)))
	}
	if r.EvaluatedDatapoints != nil {
		v, err := marshalEvaluated(r.EvaluatedDatapoints)
		if err != nil {
			return nil, err
		}
		field("evaluatedDatapoints", v)
	}
	if r.TriggeringAlarms != nil {
		v, err := json.Marshal(r.TriggeringAlarms)
		if err != nil {
			return nil, err
		}
		field("triggeringAlarms", v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalEvaluated(dps []EvaluatedDatapoint) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, dp := range dps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"timestamp":`)
		b.Write(quoteJSON(dp.Timestamp))
		for _, f := range []struct {
			name string
			v    *float64
		}{{"sampleCount", dp.SampleCount}, {"value", dp.Value}} {
			if f.v == nil {
				continue
			}
			if err := finite(*f.v); err != nil {
				return nil, err
			}
			b.WriteString(`,"` + f.name + `":` + javaNumber(*f.v))
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func javaArray(vs []float64) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		if finite(v) != nil {
			b.WriteString("null")
			continue
		}
		b.WriteString(javaNumber(v))
	}
	b.WriteByte(']')
	return b.Bytes()
}

func finite(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("reasonData: %v is not a finite number", v)
	}
	return nil
}

func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	return b
}

// AlarmEvent is a "CloudWatch Alarm State Change" event on EventBridge.
type AlarmEvent struct {
	Version    string           `json:"version"`
	ID         string           `json:"id"`
	DetailType string           `json:"detail-type"`
	Source     string           `json:"source"`
	Account    string           `json:"account"`
	Time       string           `json:"time"`
	Region     string           `json:"region"`
	Resources  []string         `json:"resources"`
	Detail     AlarmStateChange `json:"detail"`
}

// AlarmStateChange is the event's detail.
type AlarmStateChange struct {
	AlarmName     string             `json:"alarmName"`
	State         AlarmState         `json:"state"`
	PreviousState AlarmState         `json:"previousState"`
	Configuration AlarmConfiguration `json:"configuration"`
	// AlarmTags is present when tag propagation is on.
	AlarmTags       map[string]string `json:"alarmTags,omitempty"`
	AlarmTagsStatus string            `json:"alarmTagsStatus,omitempty"`
}

// AlarmState is one state of an alarm. ReasonData is a JSON-encoded string.
type AlarmState struct {
	Value                   string `json:"value"`
	Reason                  string `json:"reason,omitempty"`
	ReasonData              string `json:"reasonData,omitempty"`
	Timestamp               string `json:"timestamp,omitempty"`
	ActionsSuppressedBy     string `json:"actionsSuppressedBy,omitempty"`
	ActionsSuppressedReason string `json:"actionsSuppressedReason,omitempty"`
}

// AlarmConfiguration is a metric alarm's metrics, or a composite alarm's rule.
type AlarmConfiguration struct {
	Description                      string        `json:"description,omitempty"`
	Metrics                          []AlarmMetric `json:"metrics,omitempty"`
	AlarmRule                        string        `json:"alarmRule,omitempty"`
	ActionsSuppressor                string        `json:"actionsSuppressor,omitempty"`
	ActionsSuppressorWaitPeriod      int32         `json:"actionsSuppressorWaitPeriod,omitempty"`
	ActionsSuppressorExtensionPeriod int32         `json:"actionsSuppressorExtensionPeriod,omitempty"`
}

// AlarmMetric is one metric or expression of an alarm.
type AlarmMetric struct {
	ID         string      `json:"id"`
	ReturnData bool        `json:"returnData"`
	MetricStat *MetricStat `json:"metricStat,omitempty"`
	Expression string      `json:"expression,omitempty"`
	Label      string      `json:"label,omitempty"`
}

// MetricStat is a metric with its period and statistic.
type MetricStat struct {
	Metric struct {
		Namespace  string            `json:"namespace"`
		Name       string            `json:"name"`
		Dimensions map[string]string `json:"dimensions,omitempty"`
	} `json:"metric"`
	Period int32  `json:"period"`
	Stat   string `json:"stat"`
}

// ErrNoReasonData reports a state without reasonData (for instance the
// initial "Unchecked: Initial alarm creation" state).
var ErrNoReasonData = errors.New("alarm state has no reasonData")

// ParseAlarmEvent decodes a CloudWatch Alarm State Change event envelope.
func ParseAlarmEvent(b []byte) (AlarmEvent, error) {
	var e AlarmEvent
	if err := json.Unmarshal(b, &e); err != nil {
		return AlarmEvent{}, fmt.Errorf("decode alarm event: %w", err)
	}
	if e.Source != AlarmEventSource || e.DetailType != AlarmEventDetailType {
		return AlarmEvent{}, fmt.Errorf("decode alarm event: got source %q detail-type %q, want %q %q", e.Source, e.DetailType, AlarmEventSource, AlarmEventDetailType)
	}
	if err := e.Detail.validate(); err != nil {
		return AlarmEvent{}, fmt.Errorf("decode alarm event %s: %w", e.ID, err)
	}
	return e, nil
}

// ParseAlarmStateChange decodes an event's detail alone.
func ParseAlarmStateChange(detail []byte) (AlarmStateChange, error) {
	var d AlarmStateChange
	if err := json.Unmarshal(detail, &d); err != nil {
		return AlarmStateChange{}, fmt.Errorf("decode alarm state change: %w", err)
	}
	if err := d.validate(); err != nil {
		return AlarmStateChange{}, fmt.Errorf("decode alarm state change: %w", err)
	}
	return d, nil
}

func (d AlarmStateChange) validate() error {
	if d.AlarmName == "" {
		return errors.New("detail.alarmName is missing")
	}
	switch d.State.Value {
	case StateOK, StateAlarm, StateInsufficientData:
		return nil
	}
	return fmt.Errorf("alarm %s: detail.state.value %q is not OK, ALARM or INSUFFICIENT_DATA", d.AlarmName, d.State.Value)
}

// Data decodes the state's reasonData. It returns ErrNoReasonData when
// there is none and a descriptive error when it is not valid JSON.
func (s AlarmState) Data() (ReasonData, error) {
	if s.ReasonData == "" {
		return ReasonData{}, ErrNoReasonData
	}
	var r ReasonData
	if err := json.Unmarshal([]byte(s.ReasonData), &r); err != nil {
		return ReasonData{}, fmt.Errorf("reasonData of %s state is malformed: %w", s.Value, err)
	}
	return r, nil
}

// IsComposite reports whether the change is a composite alarm's.
func (d AlarmStateChange) IsComposite() bool { return d.Configuration.AlarmRule != "" }

// Reading turns the change into the AlarmReading Decide takes: the new
// state with its threshold and recent datapoints. A state without
// reasonData, or a composite alarm's, yields a reading without them (Decide
// then cannot pick a step); malformed reasonData is an error.
func (d AlarmStateChange) Reading() (AlarmReading, error) {
	r := AlarmReading{AlarmName: d.AlarmName, State: d.State.Value}
	data, err := d.State.Data()
	switch {
	case errors.Is(err, ErrNoReasonData):
		return r, nil
	case err != nil:
		return AlarmReading{}, fmt.Errorf("alarm %s: %w", d.AlarmName, err)
	}
	if data.Threshold != nil {
		r.Threshold = ptr(*data.Threshold)
	}
	r.Datapoints = data.RecentDatapoints
	return r, nil
}
