// Package e2e holds Berth's end-to-end tests: a real local control plane
// driven the way users drive it, through the official aws CLI and the
// aws-sdk-go-v2 clients, with real agents where tasks run.
package e2e
