// Package eventbridge is the Amazon EventBridge adapter of the bus port: Put
// sends Berth's events to one event bus with PutEvents, in requests within
// EventBridge's limits (10 entries, 256 KiB), resending only the entries
// EventBridge refused for a transient reason. Routing is EventBridge's: the
// CDK stack installs bus.Rules() there, which the cross-check test runs
// against moto_server's EventBridge to compare with the in-process bus.
package eventbridge
