package drivertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/berth-run/berth/agent"
)

// WaitLimit bounds every wait: a container starting, stopping or answering.
const WaitLimit = 60 * time.Second

// pollEvery is how often a wait looks again.
const pollEvery = 20 * time.Millisecond

// RandomID is 16 hex digits, for task ARNs and scopes no other test uses.
func RandomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Context is cancelled after WaitLimit or when the test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), WaitLimit)
	t.Cleanup(cancel)
	return ctx
}

// RemoveAllAtCleanup removes every container d lists when the test ends.
func RemoveAllAtCleanup(t testing.TB, d agent.Driver) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), WaitLimit)
		defer cancel()
		all, err := d.List(ctx)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, c := range all {
			if err := d.Remove(ctx, c.ID); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
}

// Run creates and starts a container and returns its ID.
func Run(t testing.TB, d agent.Driver, spec agent.ContainerSpec) string {
	t.Helper()
	ctx := Context(t)
	id, err := d.Create(ctx, spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := d.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	return id
}

// WaitState polls Inspect until ok accepts the state or the deadline passes.
func WaitState(t testing.TB, d agent.Driver, id, what string, ok func(agent.ContainerState) bool) agent.ContainerState {
	t.Helper()
	deadline := time.Now().Add(WaitLimit)
	var last agent.ContainerState
	for time.Now().Before(deadline) {
		st, err := d.Inspect(context.Background(), id)
		if err != nil {
			t.Fatalf("inspect %s: %v", id, err)
		}
		if ok(st) {
			return st
		}
		last = st
		time.Sleep(pollEvery)
	}
	t.Fatalf("container %s never got %s; last state %+v", id, what, last)
	return last
}

// Exited and Running are conditions for WaitState.
func Exited(st agent.ContainerState) bool  { return st.Status == agent.StatusExited }
func Running(st agent.ContainerState) bool { return st.Status == agent.StatusRunning }

// ExitCode is an exited container's code; it fails the test if there is none.
func ExitCode(t testing.TB, st agent.ContainerState) int {
	t.Helper()
	if st.ExitCode == nil {
		t.Fatalf("exited container has no exit code: %+v", st)
	}
	return *st.ExitCode
}

// Get fetches url and returns the status and body.
func Get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// WaitHTTP polls url until it answers 200 and returns the body.
func WaitHTTP(t testing.TB, url string) string {
	t.Helper()
	deadline := time.Now().Add(WaitLimit)
	var lastErr error
	for time.Now().Before(deadline) {
		code, body, err := Get(url)
		if err == nil && code == http.StatusOK {
			return body
		}
		lastErr = fmt.Errorf("status %d, %v", code, err)
		time.Sleep(pollEvery)
	}
	t.Fatalf("%s never answered 200: %v", url, lastErr)
	return ""
}

// BenchmarkCreateStartInspect measures a driver's share of RunTask →
// RUNNING: create, start, inspect; removal is not timed. spec gives the
// container to run, with a fresh task ARN each time.
func BenchmarkCreateStartInspect(b *testing.B, d agent.Driver, spec func() agent.ContainerSpec) {
	ctx := context.Background()
	for b.Loop() {
		id, err := d.Create(ctx, spec())
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if st, err := d.Inspect(ctx, id); err != nil || st.Status != agent.StatusRunning {
			b.Fatalf("inspect: %+v %v", st, err)
		}
		b.StopTimer()
		if err := d.Remove(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
