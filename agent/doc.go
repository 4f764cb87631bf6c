// Package agent is Berth's data plane: the process on each host that
// registers it as a container instance, polls the control plane for the
// tasks it should run (the poll is its heartbeat), converges what runs to
// that, and reports every change. Containers run through a Driver: docker
// (the Docker Engine API) or process (host processes, for hosts without
// Docker).
package agent
