// Package ecs is Berth's vocabulary: the Amazon ECS resources (clusters,
// container instances, task definitions, tasks, services, deployments) in
// ECS's exact JSON wire shape, their status enums in lifecycle order, ARNs,
// the validation rules ECS applies to what users register, and ECS's error
// taxonomy. It does no I/O and reads no clock.
package ecs
