package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/local"
)

// TestAgentCommandJoinsAndLeavesOnSignal: `berth agent` configured from
// the environment registers the host, and returns cleanly when signalled.
func TestAgentCommandJoinsAndLeavesOnSignal(t *testing.T) {
	p := testenv.Plane(t, local.Config{})
	dir := t.TempDir()
	for k, v := range map[string]string{
		"BERTH_ECS_CONFIG_FILE":       filepath.Join(dir, "absent.config"),
		"BERTH_ENDPOINT":              p.Endpoint(),
		"BERTH_DRIVER":                "process",
		"ECS_DATADIR":                 dir,
		"BERTH_DISABLE_IMDS":          "true",
		"BERTH_MEMORY_MIB":            "1024",
		"ECS_INSTANCE_ATTRIBUTES":     `{"role":"cmd-test"}`,
		"AWS_ACCESS_KEY_ID":           testenv.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       testenv.SecretKey,
		"AWS_REGION":                  testenv.Region,
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runAgent(ctx, testenv.Logger(t)) }()

	c := testenv.ECS(p.Endpoint())
	var arns []string
	testenv.Eventually(t, 30*time.Second, "the agent's instance in the default cluster", func() bool {
		out, err := c.ListContainerInstances(context.Background(), &sdkecs.ListContainerInstancesInput{Filter: aws.String("attribute:role == cmd-test")})
		if err != nil {
			return false
		}
		arns = out.ContainerInstanceArns
		return len(arns) == 1
	})
	if !strings.Contains(arns[0], ":container-instance/default/") {
		t.Errorf("instance %s; want one in the default cluster", arns[0])
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("berth agent ended with %v; want a clean stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("berth agent did not stop")
	}
}

func TestAgentCommandNamesABadVariable(t *testing.T) {
	t.Setenv("BERTH_ECS_CONFIG_FILE", filepath.Join(t.TempDir(), "absent.config"))
	t.Setenv("BERTH_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("ECS_RESERVED_PORTS", "22")
	err := runAgent(context.Background(), testenv.Logger(t))
	if err == nil || !strings.Contains(err.Error(), "ECS_RESERVED_PORTS") {
		t.Fatalf("runAgent with a malformed ECS_RESERVED_PORTS: %v; want an error naming it", err)
	}
}
