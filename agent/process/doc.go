// Package process is the agent's process driver, for hosts without Docker
// (like Nomad's raw_exec): each container's entryPoint+command runs as a
// host process under a small supervisor, the shim, which is this same
// binary re-executed in shim mode (see RunShimIfRequested) in its own
// session. The shim starts the process in its own process group with the
// definition's environment plus PORT/PORT_<containerPort>, sends its output
// to stdout.log/stderr.log, forwards stop requests (SIGTERM, SIGKILL after
// the timeout), runs health checks, and records status, exit code and times
// in the container's directory under the state root. Because the shim, not
// the agent, is the process's parent, the agent may restart at any time:
// a new driver lists the directories, adopts the running containers, and
// learns their exit codes later.
package process
