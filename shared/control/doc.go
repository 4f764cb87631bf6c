// Package control holds the use cases every entry point calls: the ECS API
// actions, the agent protocol, reconciling services, reacting to alarms and
// the periodic tick. Its request and response types are the ECS wire
// shapes; it validates input with ECS's rules and errors, and reads and
// writes state only through store.DB. HTTP lives in shared/api; Lambda
// wiring in functions/; the in-process control plane in shared/local.
package control
