// Package local is the in-process bus of `berth up`: it routes events to
// handlers in the same process with the rules EventBridge would use,
// matching patterns with quamina. Each target has a bounded queue and a
// worker that hands its handler batches, retries failed batches and logs
// what it gives up on; schedules tick on an injectable ticker. Close drains
// what was accepted before returning.
package local
