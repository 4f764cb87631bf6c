// Package fn adapts the Lambda event payloads that are not HTTP to Berth's
// shared handlers, so each functions/<name>/main.go only wires: a DynamoDB
// stream batch to the publisher (with partial-batch failure reporting), an
// EventBridge event delivered directly or through an SQS queue to a
// bus.Handler, and the monitor's schedule to the tick. It also reads a
// function's configuration from its environment. The api function's
// Function URL adapter lives with the protocol, in shared/api.
package fn
