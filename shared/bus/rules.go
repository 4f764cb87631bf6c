package bus

import (
	"encoding/json"
	"slices"
)

// The logical consumers rules deliver to. Infra maps each to a Lambda
// function; `berth up` to a handler in the same process.
const (
	TargetReconciler = "reconciler"
	TargetScaler     = "scaler"
	TargetMonitor    = "monitor"
)

// Rule routes the events its pattern matches to a target.
type Rule struct {
	// Name is the rule's name on the bus (EventBridge: 1-64 of
	// letters, digits, '.', '-', '_').
	Name        string
	Description string
	// Pattern is the EventBridge event pattern; it is valid for EventBridge
	// and for the in-process bus alike.
	Pattern json.RawMessage
	// Target is the logical consumer, e.g. TargetReconciler.
	Target string
}

// Schedule delivers a "Scheduled Event" to a target at a fixed rate.
type Schedule struct {
	Name        string
	Description string
	// Expression is an EventBridge schedule expression such as
	// "rate(1 minute)".
	Expression string
	Target     string
}

// The names of Berth's rules.
const (
	RuleTaskStateChange     = "berth-reconciler-task-state-change"
	RuleInstanceStateChange = "berth-reconciler-instance-state-change"
	RuleServiceChange       = "berth-reconciler-service-change"
	RuleAlarmStateChange    = "berth-scaler-alarm-state-change"
	ScheduleMonitor         = "berth-monitor-tick"
)

// rules is THE definition of how Berth's events reach its functions. Each
// pattern names its source so events from elsewhere on the bus never match.
var rules = []Rule{
	{
		Name:        RuleTaskStateChange,
		Description: "Task state changes of service tasks (group service:<name>) wake the reconciler to replace, place or finish deploying.",
		Pattern:     json.RawMessage(`{"source":["berth"],"detail-type":["ECS Task State Change"],"detail":{"group":[{"prefix":"service:"}]}}`),
		Target:      TargetReconciler,
	},
	{
		Name:        RuleInstanceStateChange,
		Description: "Container instance state changes (resources freed, agent connected or lost, draining) wake the reconciler.",
		Pattern:     json.RawMessage(`{"source":["berth"],"detail-type":["ECS Container Instance State Change"]}`),
		Target:      TargetReconciler,
	},
	{
		Name:        RuleServiceChange,
		Description: "Created, updated or deleted services wake the reconciler for that service (Berth-internal event).",
		Pattern:     json.RawMessage(`{"source":["berth"],"detail-type":["Berth Service Change"]}`),
		Target:      TargetReconciler,
	},
	{
		Name:        RuleAlarmStateChange,
		Description: "CloudWatch alarms entering ALARM run the scaling policies that name them.",
		Pattern:     json.RawMessage(`{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],"detail":{"state":{"value":["ALARM"]}}}`),
		Target:      TargetScaler,
	},
}

var schedules = []Schedule{
	{
		Name:        ScheduleMonitor,
		Description: "Every minute the monitor checks agent heartbeats, declares lost hosts, re-drives anything an event missed and re-runs scaling for alarms still in ALARM.",
		Expression:  "rate(1 minute)",
		Target:      TargetMonitor,
	},
}

// Rules returns Berth's event rules. The result is a copy: callers may keep
// or change it.
func Rules() []Rule {
	out := slices.Clone(rules)
	for i := range out {
		out[i].Pattern = slices.Clone(out[i].Pattern)
	}
	return out
}

// Schedules returns Berth's schedule rules (a copy).
func Schedules() []Schedule { return slices.Clone(schedules) }
