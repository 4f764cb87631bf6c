package testimage

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestBinaryIsCachedAndRuns(t *testing.T) {
	first := BinaryPath(t)
	second := BinaryPath(t)
	if first != second {
		t.Fatalf("second build went elsewhere: %s vs %s", first, second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// "check" against a closed port must fail with exit code 1.
	err := exec.CommandContext(ctx, first, "check", "http://127.0.0.1:1/health").Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("testapp check on a closed port: %v, want exit code 1", err)
	}
}

func TestImageIsBuiltOnceFromScratch(t *testing.T) {
	cli, tag := Image(t)
	if !strings.HasPrefix(tag, Repository+":") {
		t.Fatalf("tag %q not in repository %s", tag, Repository)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inspect, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatalf("inspect %s: %v", tag, err)
	}
	if got := inspect.Config.Entrypoint; len(got) != 1 || got[0] != AppPath {
		t.Fatalf("entrypoint %v, want [%s]", got, AppPath)
	}
	if n := len(inspect.RootFS.Layers); n != 1 {
		t.Fatalf("image has %d layers, want 1 (FROM scratch + the binary)", n)
	}
	again, err := Build(ctx, cli)
	if err != nil {
		t.Fatalf("second build: %v", err)
	}
	reinspect, err := cli.ImageInspect(ctx, again)
	if err != nil {
		t.Fatalf("inspect %s: %v", again, err)
	}
	if again != tag || reinspect.ID != inspect.ID {
		t.Fatalf("second build made %s (%s), want the cached %s (%s)", again, reinspect.ID, tag, inspect.ID)
	}
}
