// Package runtimetest runs a function's real bootstrap binary against an
// in-process Lambda Runtime API, as Lambda or `sam local invoke` would, so
// a test covers functions/<name>/main.go's wiring: its environment, its
// clients and endpoints, and its handler.
package runtimetest
