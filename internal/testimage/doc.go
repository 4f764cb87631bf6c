// Package testimage builds internal/testapp for tests: as a static binary
// (Binary, BinaryPath) for the process driver, and as a FROM scratch image
// tagged berth-testapp:<hash> (Build, Image) for the docker driver, built
// through the Docker API from an in-memory context, so that no registry is
// needed. Both are cached per content hash. Docker and Unavailable implement
// the house rule for tests that need an external part: skip loudly on a
// laptop, fail under CI=true.
package testimage
