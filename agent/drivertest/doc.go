// Package drivertest holds what the tests of every agent.Driver need: a
// deadline-bound context, create-and-start, polling Inspect and HTTP until
// a condition holds, removal of a test's containers, and the
// create/start/inspect benchmark, so the docker and process drivers are
// exercised and measured the same way.
package drivertest
