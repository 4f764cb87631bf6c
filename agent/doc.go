// Package agent is Berth's data plane: the process on each host that
// registers it as a container instance, polls the control plane for the
// tasks it should run (the poll is its heartbeat), converges what runs to
// that, and reports every change. Containers run through a Driver: docker
// (the Docker Engine API) or process (host processes, for hosts without
// Docker).
//
// Config reads the ECS agent's variables (ECS_CLUSTER, ECS_RESERVED_PORTS,
// ...) and Berth's own (BERTH_ENDPOINT, BERTH_DRIVER, ...) from the
// environment and /etc/ecs/ecs.config. Agent.Run registers the host (again
// as the same instance after a restart), adopts the containers it finds,
// then loops, level-triggered: long polls, driver events and a periodic
// resync only wake one runner per task. A runner observes its containers,
// asks Decide (a pure function of what it observed) what to start, stop and
// report, acts, and reports each change with a sequence number above every
// earlier one. Stopping the agent leaves the tasks running.
package agent
