// Package local is `berth up`: the whole control plane in one process. It
// wires the same use cases the Lambda functions run to the embedded store
// (bbolt, one file in the data directory, so state survives a restart), the
// in-process event bus with Berth's rules, the store's change feed to the
// publisher, and a ticker for the monitor, and serves the API on a loopback
// address.
package local
