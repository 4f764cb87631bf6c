// Package bus owns Berth's events and the routing of them: the EventBridge
// envelope (Event), the ECS-shaped event details and the builders that make
// them from shared/ecs types, the Bus port adapters implement, and THE rule
// definitions (Rules, Schedules) that both the CDK infrastructure and the
// in-process bus install. It also validates event patterns with EventBridge's
// grammar. It does no I/O and reads no clock.
package bus
