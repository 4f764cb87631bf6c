// Command infra is Berth's CDK app: one stack holding the control plane
// (the DynamoDB table, the event bus and its archive, the Lambda functions
// and their triggers). cdk.json runs it (`go run ./infra`); `make synth`
// runs it without the CDK CLI. The functions are declared once, in
// DefaultFunctions, and every event rule comes from shared/bus, the same
// definitions the in-process bus of `berth up` matches with.
package main
