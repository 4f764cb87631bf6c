package main

import (
	"fmt"
	"regexp"
	"time"
)

// Trigger is how a function is invoked.
type Trigger int

const (
	// TriggerURL serves the function at a Lambda Function URL with AWS_IAM
	// auth: every caller signs with SigV4 for the service "lambda".
	TriggerURL Trigger = iota + 1
	// TriggerStream feeds the function the table's DynamoDB stream.
	TriggerStream
	// TriggerEvents delivers the events of every rule and schedule in
	// shared/bus whose Target is the function's Name.
	TriggerEvents
)

// Access is what a function may do besides writing its own logs; the
// stack grants exactly this (and what its trigger needs).
type Access uint

const (
	// TableReadWrite reads and writes the table's items and indexes.
	TableReadWrite Access = 1 << iota
	// PutEvents publishes to Berth's event bus.
	PutEvents
	// AlarmsRead reads the account's CloudWatch alarms (DescribeAlarms).
	AlarmsRead
	// AlarmsManage creates and deletes the target-tracking alarms Berth
	// owns (named TargetTracking-*), as Application Auto Scaling does.
	AlarmsManage
	// MetricsPublish publishes agents' utilization to CloudWatch, in
	// Berth's namespace only.
	MetricsPublish
)

// Function declares one Lambda function. Adding a function to the control
// plane is one entry in DefaultFunctions: its bootstrap binary is built
// from functions/<Name>, its rules are the ones in shared/bus naming
// <Name> as their target, and the stack derives its permissions, log
// group, triggers and queues from the entry.
type Function struct {
	// Name is the function's directory under functions/ and under the
	// asset directory, and the bus target its rules name.
	Name        string
	Description string
	MemoryMB    int
	Timeout     time.Duration
	Trigger     Trigger
	Access      Access
	// Queued, for TriggerEvents, routes the rules' events through an SQS
	// queue (with a dead-letter queue) that the function drains in
	// batches, so bursts are buffered and coalesced; otherwise each rule
	// invokes the function directly.
	Queued bool
	// RetryAttempts bounds EventBridge's retries of a direct delivery.
	RetryAttempts int
}

// DefaultFunctions is Berth's control plane.
func DefaultFunctions() []Function {
	return []Function{
		{
			Name:        "api",
			Description: "Berth API: ECS, Application Auto Scaling and the agent protocol (awsJson1_1) behind a Function URL with AWS_IAM auth.",
			MemoryMB:    512,
			Timeout:     30 * time.Second,
			Trigger:     TriggerURL,
			Access:      TableReadWrite | AlarmsManage | MetricsPublish,
		},
		{
			Name:        "publisher",
			Description: "Berth publisher: turns the table's stream of committed changes into ECS state-change events on the bus.",
			MemoryMB:    256,
			Timeout:     time.Minute,
			Trigger:     TriggerStream,
			Access:      PutEvents,
		},
		{
			Name:        "reconciler",
			Description: "Berth reconciler: task, instance and service changes, buffered in a queue, coalesced into one reconcile per service.",
			MemoryMB:    512,
			Timeout:     time.Minute,
			Trigger:     TriggerEvents,
			Queued:      true,
			Access:      TableReadWrite,
		},
		{
			Name:          "scaler",
			Description:   "Berth scaler: CloudWatch alarms entering ALARM run the scaling policies they name, changing services' desired counts.",
			MemoryMB:      256,
			Timeout:       time.Minute,
			Trigger:       TriggerEvents,
			Access:        TableReadWrite | AlarmsRead,
			RetryAttempts: 2,
		},
		{
			Name:          "monitor",
			Description:   "Berth monitor: every minute, marks silent agents disconnected, stops the tasks of lost hosts, reconciles every service and re-runs the scaling policies of alarms still in ALARM.",
			MemoryMB:      256,
			Timeout:       50 * time.Second,
			Trigger:       TriggerEvents,
			Access:        TableReadWrite | AlarmsRead,
			RetryAttempts: 1,
		},
	}
}

var functionNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

// validate checks an entry before any resource is made from it.
func (f Function) validate() error {
	switch {
	case !functionNameRE.MatchString(f.Name):
		return fmt.Errorf("function %q: name must be 1-31 lower-case letters, digits or '-', starting with a letter", f.Name)
	case f.MemoryMB < 128 || f.MemoryMB > 10240:
		return fmt.Errorf("function %s: memory %d MB is outside Lambda's 128-10240", f.Name, f.MemoryMB)
	case f.Timeout < time.Second || f.Timeout > 15*time.Minute:
		return fmt.Errorf("function %s: timeout %s is outside Lambda's 1s-15m", f.Name, f.Timeout)
	case f.Trigger < TriggerURL || f.Trigger > TriggerEvents:
		return fmt.Errorf("function %s: no trigger", f.Name)
	case f.Queued && f.Trigger != TriggerEvents:
		return fmt.Errorf("function %s: only TriggerEvents functions can be queued", f.Name)
	case f.RetryAttempts < 0 || f.RetryAttempts > 185:
		return fmt.Errorf("function %s: EventBridge retries 0-185 times, not %d", f.Name, f.RetryAttempts)
	}
	return nil
}
