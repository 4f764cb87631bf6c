package bus

import "time"

// Alarm state values.
const (
	AlarmOK               = "OK"
	AlarmAlarm            = "ALARM"
	AlarmInsufficientData = "INSUFFICIENT_DATA"
)

// AlarmStateChange is the detail of a "CloudWatch Alarm State Change" event
// (source aws.cloudwatch); the event's resources hold the alarm's ARN.
// Threshold and comparison operator are not in it: CloudWatch only sends
// them in configuration-change events.
type AlarmStateChange struct {
	AlarmName     string             `json:"alarmName"`
	State         AlarmState         `json:"state"`
	PreviousState AlarmState         `json:"previousState"`
	Configuration AlarmConfiguration `json:"configuration"`
	// AlarmTags and AlarmTagsStatus are present when tag propagation is on.
	AlarmTags       map[string]string `json:"alarmTags,omitempty"`
	AlarmTagsStatus string            `json:"alarmTagsStatus,omitempty"`
}

// DetailType names the event this detail belongs to.
func (AlarmStateChange) DetailType() string { return DetailTypeAlarmStateChange }

// AlarmState is an alarm's state at one side of the change.
type AlarmState struct {
	Value  string `json:"value"`
	Reason string `json:"reason"`
	// ReasonData is a JSON document encoded as a string (statistic, period,
	// recentDatapoints, threshold, ...); absent e.g. on alarm creation.
	ReasonData              string `json:"reasonData,omitempty"`
	Timestamp               string `json:"timestamp"`
	ActionsSuppressedBy     string `json:"actionsSuppressedBy,omitempty"`
	ActionsSuppressedReason string `json:"actionsSuppressedReason,omitempty"`
}

// AlarmConfiguration describes a metric alarm (Metrics) or a composite one
// (AlarmRule and the actions suppressor).
type AlarmConfiguration struct {
	Description                      string        `json:"description,omitempty"`
	Metrics                          []AlarmMetric `json:"metrics,omitempty"`
	AlarmRule                        string        `json:"alarmRule,omitempty"`
	ActionsSuppressor                string        `json:"actionsSuppressor,omitempty"`
	ActionsSuppressorWaitPeriod      int           `json:"actionsSuppressorWaitPeriod,omitempty"`
	ActionsSuppressorExtensionPeriod int           `json:"actionsSuppressorExtensionPeriod,omitempty"`
}

// AlarmMetric is one metric or expression an alarm evaluates.
type AlarmMetric struct {
	ID         string      `json:"id"`
	MetricStat *MetricStat `json:"metricStat,omitempty"`
	Expression string      `json:"expression,omitempty"`
	Label      string      `json:"label,omitempty"`
	ReturnData bool        `json:"returnData"`
}

// MetricStat is a metric with the statistic and period evaluated.
type MetricStat struct {
	Metric Metric `json:"metric"`
	Period int    `json:"period"`
	Stat   string `json:"stat"`
}

// Metric names a CloudWatch metric.
type Metric struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions"`
}

// AlarmTimestamp formats t as CloudWatch does in alarm events
// (2019-10-02T17:04:40.989+0000).
func AlarmTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000-0700")
}

// AlarmARN is arn:aws:cloudwatch:<region>:<account>:alarm:<name>.
func AlarmARN(region, account, name string) string {
	return "arn:aws:cloudwatch:" + region + ":" + account + ":alarm:" + name
}

func (d AlarmStateChange) validate() error {
	if d.AlarmName == "" {
		return invalidEvent("detail.alarmName", "must not be empty")
	}
	for _, s := range []struct {
		field string
		state AlarmState
	}{{"detail.state", d.State}, {"detail.previousState", d.PreviousState}} {
		switch s.state.Value {
		case AlarmOK, AlarmAlarm, AlarmInsufficientData:
		default:
			return invalidEvent(s.field+".value", "must be OK, ALARM or INSUFFICIENT_DATA, got %q", s.state.Value)
		}
	}
	return nil
}
