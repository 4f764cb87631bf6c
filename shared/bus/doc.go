// Package bus owns Berth's events and their routing: the EventBridge
// envelope (Event), the ECS-shaped event details and the Factory that builds
// them from shared/ecs types, the Bus port adapters implement with the
// Handler consumers provide, THE rule definitions (Rules, Schedules) that
// both the CDK infrastructure and the in-process bus install, validation of
// event patterns with EventBridge's grammar, and ScopesOf, which turns a
// batch of events into the services to reconcile. It does no I/O and reads
// no clock.
package bus
