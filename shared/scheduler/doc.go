// Package scheduler is Berth's service scheduler with Amazon ECS's semantics
// (reference §5): the service lifecycle (Create, Update, Delete) and
// Reconcile, one level-triggered pass that, from a service, its tasks, the
// cluster's instances and the time, decides which tasks to start and stop,
// how the deployments roll, and what the service says about it (events[],
// Service Action and Deployment State Change events). It does no I/O and
// reads no clock: time, IDs and seeds come in with the input.
//
// A pass recomputes everything from what it is given, so duplicated, late,
// lost or reordered events change nothing: calling Reconcile again on the
// committed result yields a plan with Changed false. The little that cannot
// be recomputed (counted failures, throttle back-off, alarm baselines, the
// last completed deployment, which service-event conditions hold) lives in
// State, which the store keeps opaque beside the service.
//
// Replica services keep desiredCount tasks; daemon services one task on
// every ACTIVE instance that meets their constraints. Both roll a new
// deployment within minimumHealthyPercent and maximumPercent (§5.3):
// maxTotal = floor(D·max/100) bounds RUNNING+PENDING tasks; stops of healthy
// tasks keep at least minHealthy = ceil(D·min/100) healthy ones. Old-revision,
// unhealthy and draining-instance tasks are all "outgoing" and leave within
// these bounds; PENDING tasks on DRAINING or vanished instances leave at once.
//
// Decisions where ECS documents none are noted where they are made; the main
// ones are in the README of the package's exported API (see Reconcile).
package scheduler
