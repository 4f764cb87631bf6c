package docker

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/berth-run/berth/agent/drivertest"
	"github.com/berth-run/berth/internal/testimage"
	"github.com/docker/docker/api/types/image"
)

func imageRemoveOptions() image.RemoveOptions { return image.RemoveOptions{} }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startMoto runs moto_server (found on PATH) on a free loopback port for
// the test and returns its URL; it skips the test loudly (fails under
// CI=true) when moto_server is not installed.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		testimage.Unavailable(t, "moto_server is not on PATH (pip install \"moto[server]\"): %v", err)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(drivertest.WaitLimit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("moto_server on %s never answered", url)
	return ""
}

func TestECRImagesGetATokenFromECR(t *testing.T) {
	moto := startMoto(t)
	t.Setenv("AWS_ENDPOINT_URL_ECR", moto)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	auth := NewRegistryAuth(RegistryAuthOptions{DockerConfig: filepath.Join(t.TempDir(), "none.json")})
	ctx := drivertest.Context(t)
	got, err := auth.For(ctx, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.2")
	if err != nil {
		t.Fatalf("ECR auth: %v", err)
	}
	if got.Username != "AWS" || got.Password == "" || got.ServerAddress != "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com" {
		t.Fatalf("ECR auth %+v, want user AWS, a password and the registry's address", got)
	}
	again, err := auth.For(ctx, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/other:2")
	if err != nil || again != got {
		t.Fatalf("second ECR auth %+v (%v), want the cached %+v", again, err, got)
	}

	// Not ECR: no token is asked for, and without a login the pull is anonymous.
	for _, ref := range []string{"busybox", "ghcr.io/acme/app:1", "123456789012.dkr.ecr.eu-west-1.example.com/app"} {
		a, err := auth.For(ctx, ref)
		if err != nil || a.Username != "" || a.Password != "" {
			t.Errorf("auth for %s = %+v (%v), want anonymous", ref, a, err)
		}
	}
}

func TestECRHostPattern(t *testing.T) {
	cases := map[string]bool{
		"123456789012.dkr.ecr.us-east-1.amazonaws.com":          true,
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com": true,
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":      true,
		"12345.dkr.ecr.us-east-1.amazonaws.com":                 false,
		"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil":     false,
		"public.ecr.aws": false,
		"docker.io":      false,
	}
	for host, want := range cases {
		if got := ecrHost.MatchString(host); got != want {
			t.Errorf("ECR host %s: %v, want %v", host, got, want)
		}
	}
}

func TestDockerConfigLoginsAreUsed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	content := fmt.Sprintf(`{"auths": {
		"https://index.docker.io/v1/": {"auth": %q},
		"registry.example.com:5000": {"auth": %q}
	}}`, enc("hubuser:hubpass"), enc("me:secret:with:colons"))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	auth := NewRegistryAuth(RegistryAuthOptions{DockerConfig: path})
	ctx := drivertest.Context(t)
	cases := []struct{ ref, user, pass string }{
		{"busybox:1", "hubuser", "hubpass"},
		{"docker.io/library/alpine", "hubuser", "hubpass"},
		{"registry.example.com:5000/team/app:3", "me", "secret:with:colons"},
		{"quay.io/app", "", ""},
	}
	for _, c := range cases {
		got, err := auth.For(ctx, c.ref)
		if err != nil {
			t.Fatalf("auth for %s: %v", c.ref, err)
		}
		if got.Username != c.user || got.Password != c.pass {
			t.Errorf("auth for %s = %s/%s, want %s/%s", c.ref, got.Username, got.Password, c.user, c.pass)
		}
	}
	if _, err := auth.For(ctx, "Not A Reference"); err == nil {
		t.Error("a malformed image reference gave no error")
	}
}

func TestECRFailureIsReported(t *testing.T) {
	auth := NewRegistryAuth(RegistryAuthOptions{
		LoadAWSConfig: func(context.Context, string) (aws.Config, error) {
			return aws.Config{}, fmt.Errorf("no credentials anywhere")
		},
	})
	_, err := auth.For(drivertest.Context(t), "123456789012.dkr.ecr.us-east-1.amazonaws.com/app")
	if err == nil || !strings.Contains(err.Error(), "no credentials anywhere") {
		t.Fatalf("ECR auth without AWS config: %v, want the cause", err)
	}
}
