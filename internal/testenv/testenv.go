package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-run/berth/shared/local"
)

// Region and credentials every test uses: never real AWS.
const (
	Region    = "us-east-1"
	AccessKey = "AKIDBERTHTEST"
	SecretKey = "berth-test-secret"
)

// InCI reports whether tests run under CI, where missing tools are failures.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need skips (or, under CI, fails) a test that needs something missing.
func Need(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("CI=true but %s is not available", what)
	}
	t.Skipf("SKIPPED: %s is not available; install it to run this test (it is required under CI=true)", what)
}

// NeedCommand requires an executable on PATH and returns its path.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	Need(t, err == nil, "the "+name+" command")
	return path
}

// Plane starts a local control plane on a fresh data directory (or dir, if
// given) and shuts it down when the test ends.
func Plane(t testing.TB, cfg local.Config) *local.Plane {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = Logger(t)
	}
	p, err := local.Start(cfg)
	if err != nil {
		t.Fatalf("start local control plane: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("shut down local control plane: %v", err)
		}
		if err := p.RemoveAgentContainers(ctx); err != nil {
			t.Errorf("remove the local agents' containers: %v", err)
		}
	})
	return p
}

// Logger discards logs unless BERTH_TEST_LOG is set.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("BERTH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// AWSConfig is an SDK configuration for endpoint with static credentials.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// ECS is the official ECS client pointed at endpoint.
func ECS(endpoint string) *ecs.Client {
	return ecs.NewFromConfig(AWSConfig(endpoint))
}

// CLIEnv is the environment for running the aws CLI against a test endpoint.
func CLIEnv() []string {
	return append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+AccessKey,
		"AWS_SECRET_ACCESS_KEY="+SecretKey,
		"AWS_DEFAULT_REGION="+Region,
		"AWS_PAGER=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
}

// Eventually polls cond until it holds or the deadline passes.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
