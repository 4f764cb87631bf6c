// Package placement is Berth's task placement engine with Amazon ECS's
// semantics (reference §4): which container instance takes each new task,
// why an instance was refused, and which tasks a scale-in stops. It does no
// I/O and reads no clock; randomness comes from the request's seed.
//
// API:
//   - Place(instances, Request) places Count copies of a task one after
//     another and returns the chosen instances, or for the tasks that fit
//     nowhere each instance's Rejection and the Closest match;
//     Result.Failures gives RunTask's failures[], UnableToPlaceMessage the
//     service event, NoInstancesError RunTask's error for an empty cluster.
//   - Validate(Request) checks constraints and strategies as ECS does.
//   - SelectVictims(instances, tasks, strategies, k, seed) picks tasks to
//     stop on scale-in.
//   - ServiceDefaultStrategies, RunTaskDefaultStrategies: ECS's defaults.
//   - InstanceFrom converts a stored ecs.ContainerInstance; Instance.Subject
//     evaluates cluster query expressions (package cql) against one, for
//     ListContainerInstances' filter.
//
// Filters apply in this order, and a refused instance reports the first it
// fails: status ACTIVE (anything else, DRAINING included, is INACTIVE, the
// reason StartTask gives), agent connected (AGENT), CPU, memory, GPUs,
// static TCP then UDP host ports against the reserved set (RESOURCE:...;
// dynamic ports never conflict), the task definition's requiresAttributes
// (ATTRIBUTE), distinctInstance, then every memberOf expression. The two
// constraint reasons are the text ECS reports: "DistinctInstance placement
// constraint unsatisfied." and "MemberOf placement constraint unsatisfied.".
// The closest match is the instance refused at the latest filter.
//
// Decisions where ECS documents none:
//   - distinctInstance refuses an instance hosting any task of the
//     request's group, whether it was there before or placed earlier in
//     the same call (ECS's "each task in the group on a different
//     instance"; RunTask reports it for a lone instance already running the
//     family).
//   - task:group sees tasks placed earlier in the same call;
//     runningTasksCount does not (they are not running yet).
//   - spread counts the group's tasks on every instance passed in,
//     including ones that cannot take the task, and counts values whose
//     instances have none. An instance lacking the spread attribute counts
//     as one more value ("no value"), so strategies, which are best-effort,
//     never exclude an instance.
//   - Rules apply lexicographically: each breaks the ties of those before.
//     Ties left at the end go to the earliest instance in input order.
//     random draws uniformly among the instances still tied, listed by the
//     first-seen rank of their values for the earlier spread-on-attribute
//     rules, then input order; rules after random cannot matter.
//   - Failures gives, for each unplaced task, the closest match's ARN and
//     reason (ECS returns one failure per task that could not be placed).
//
// Speed: see engine.go. Placing a task costs O(log n) plus the attribute
// values examined, after an O(n log n) index build per call; results equal
// the brute-force oracle of the tests.
package placement
