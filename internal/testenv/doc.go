// Package testenv gives tests the real parts they run against: a local
// control plane on a temporary data directory, AWS SDK clients pointed at
// it with static credentials, and checks for external tools (the aws CLI,
// moto_server, a Docker engine) that skip loudly on a laptop but fail under
// CI=true.
package testenv
