// Package docker is the agent's docker driver: it runs task containers with
// the Docker Engine API (client with API version negotiation), pulling images
// when absent (with ECR tokens or Docker CLI logins), mapping cpu units,
// memory, ports (hostPort 0: an ephemeral port Docker picks), environment,
// entryPoint/command, network mode, health check, log configuration and
// labels (the ECS agent's com.amazonaws.ecs.* names, used to re-adopt
// containers after an agent restart), and reporting exit codes, OOM kills
// and health.
package docker
