// Package scheduler is Berth's service scheduler with Amazon ECS's
// semantics (reference §5): the service lifecycle the API calls (Create,
// Update, Delete) and Reconcile, one level-triggered pass that decides,
// from a service, its tasks, the cluster's instances and the time, which
// tasks to start and stop, how the deployments roll, and what the service
// reports (events[], Service Action and Deployment State Change events).
// It does no I/O and reads no clock: time and seeds are inputs, and every
// ID it creates is drawn from them.
//
// A pass recomputes everything from its input, so a duplicated, late, lost
// or reordered event changes nothing, and a pass over the committed result
// of the previous one returns Changed false. The little that cannot be
// recomputed lives in State (JSON the store keeps opaque): counted
// failures, the start throttle, alarm baselines, the last COMPLETED
// deployment, and which service-event conditions hold.
//
// Rolling (reference §5.2, §5.3). D is desiredCount (for a daemon, the
// eligible instances). A task is active while desiredStatus is RUNNING and
// lastStatus is not past RUNNING; tasks asked to stop no longer count.
// Active tasks are retained (the PRIMARY's, up to D) or outgoing (old
// revisions, unhealthy ones, ones on DRAINING or vanished instances, the
// surplus of a scale-in). Starts are min(D − retained, maxTotal − active),
// maxTotal = floor(D·max/100). A stop must leave minHealthy =
// ceil(D·min/100) healthy tasks and keep active − minHealthy − retained
// tasks still coming up ≥ 0, so unhealthy tasks are replaced start-first
// when maximumPercent allows and one by one when it does not. Outgoing
// tasks stop not-healthy first, then by placement.SelectVictims. PENDING
// tasks on DRAINING instances stop at once.
//
// Healthy: RUNNING and HEALTHY when an essential container has a health
// check, else RUNNING for 40 s. UNHEALTHY is ignored for
// healthCheckGracePeriodSeconds after the task started.
//
// Decisions where ECS documents none:
//   - Failures: a stopped task counts once (State.Counted) unless it was
//     stopped deliberately (stopCode UserInitiated, SpotInterruption,
//     TerminationNotice, InfrastructureHealth, or ServiceSchedulerInitiated
//     other than for failed health checks). Never RUNNING: a start failure
//     (throttle and circuit breaker). Stopped for health checks, or exited
//     before it was ever healthy: a circuit-breaker failure.
//   - The circuit breaker counts consecutive failures while the deployment
//     is IN_PROGRESS; a healthy task that started after the last failure
//     resets the count (unless resetOnHealthyTask is false).
//   - Start throttle: after n consecutive start failures, launches wait
//     min(10 s·2^(n−1), 15 min) after the latest; from 3 failures the
//     service reports "is unable to consistently start tasks successfully."
//   - Alarms in ALARM at the first pass of a deployment are its baseline.
//     With alarms, bakeTimeInMinutes (if set) must pass at the target
//     before COMPLETED.
//   - A FAILED deployment without rollback launches nothing and leaves the
//     old deployments their tasks. A rollback deployment is never rolled
//     back. Old deployments with no active task are dropped from the list.
//   - A condition's service event (steady state, placement failure,
//     deployment configuration, start impaired) repeats only after the
//     condition resolved or six hours passed; started and stopped tasks are
//     listed ten per event.
//   - Daemon: an instance is eligible when ACTIVE, meeting the memberOf
//     constraints and requiresAttributes; resources short is a placement
//     failure. On a DRAINING instance its task stops once no task of a
//     replica service remains there. A new task waits until the instance
//     has no unstopped task of the service.
//   - Tasks of the group whose startedBy is not a deployment ID are left alone.
package scheduler
