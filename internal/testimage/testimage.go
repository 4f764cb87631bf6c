package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// Repository is the local repository testapp images are tagged in.
const Repository = "berth-testapp"

// AppPath is where the image keeps the testapp binary; it is also the
// image's entrypoint.
const AppPath = "/testapp"

const testappPackage = "github.com/berth-run/berth/internal/testapp"

const dockerfile = `FROM scratch
COPY testapp ` + AppPath + `
EXPOSE 8080
ENTRYPOINT ["` + AppPath + `"]
`

// Binary builds testapp as a static binary (CGO_ENABLED=0) and returns its
// path. Builds are cached under the user cache directory per hash of the
// sources and toolchain, so calling it from many test packages is cheap.
func Binary(ctx context.Context) (string, error) {
	src, err := sourceDir(ctx)
	if err != nil {
		return "", err
	}
	hash, err := contentHash(src)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "berth", "testapp", hash)
	bin := filepath.Join(dir, "testapp")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build testapp: %w", err)
	}
	// Build beside the target and rename, so that concurrent test packages
	// never see a half-written binary.
	tmp, err := os.CreateTemp(dir, "testapp-*")
	if err != nil {
		return "", fmt.Errorf("build testapp: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp.Name(), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build testapp: go build: %w\n%s", err, out)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", fmt.Errorf("build testapp: %w", err)
	}
	return bin, nil
}

// Build makes sure the local engine has the testapp image, a FROM scratch
// image holding only the static binary, and returns its tag
// ("berth-testapp:<hash>"). It builds only when no image has that tag.
func Build(ctx context.Context, cli client.APIClient) (string, error) {
	bin, err := Binary(ctx)
	if err != nil {
		return "", err
	}
	hash := filepath.Base(filepath.Dir(bin))
	tag := Repository + ":" + hash
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("build test image: inspect %s: %w", tag, err)
	}
	buildContext, err := contextTar(bin)
	if err != nil {
		return "", fmt.Errorf("build test image: %w", err)
	}
	resp, err := cli.ImageBuild(ctx, buildContext, build.ImageBuildOptions{
		Tags:        []string{tag},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{"run.berth.testapp": hash},
		Version:     build.BuilderV1,
	})
	if err != nil {
		return "", fmt.Errorf("build test image %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil); err != nil {
		return "", fmt.Errorf("build test image %s: %w", tag, err)
	}
	return tag, nil
}

func contextTar(bin string) (io.Reader, error) {
	app, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		body []byte
	}{
		{"Dockerfile", 0o644, []byte(dockerfile)},
		{"testapp", 0o755, app},
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// sourceDir finds testapp's sources: beside this file when built from a
// checkout, else wherever the go command says the package is.
func sourceDir(ctx context.Context) (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Join(filepath.Dir(file), "..", "testapp")
		if _, err := os.Stat(filepath.Join(dir, "main.go")); err == nil {
			return dir, nil
		}
	}
	out, err := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", testappPackage).Output()
	if err != nil {
		return "", fmt.Errorf("find testapp sources: go list %s: %w", testappPackage, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// contentHash identifies a testapp build: its sources and the toolchain.
func contentHash(src string) (string, error) {
	names, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		return "", err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasSuffix(n, "_test.go") })
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("hash testapp sources: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(name), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Unavailable skips t with a loud reason, or fails it when CI=true: a test
// that needs an external part must not pass silently in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("REQUIRED IN CI: %s", msg)
	}
	t.Skipf("SKIPPED, needs an external part: %s", msg)
}

var (
	dockerOnce sync.Once
	dockerCli  *client.Client
	dockerErr  error
)

// Docker returns a client of the local Docker engine (DOCKER_HOST and the
// other standard variables are honoured; API version negotiated), or skips
// t (fails it under CI=true) when no engine answers.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	dockerOnce.Do(func() {
		dockerCli, dockerErr = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if dockerErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := dockerCli.Ping(ctx); err != nil {
			dockerErr = err
		}
	})
	if dockerErr != nil {
		Unavailable(t, "no Docker engine answers (start dockerd or set DOCKER_HOST): %v", dockerErr)
	}
	return dockerCli
}

// Image returns a Docker client and the tag of the testapp image, building
// it if needed; it skips t as Docker does when no engine answers.
func Image(t testing.TB) (*client.Client, string) {
	t.Helper()
	cli := Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tag, err := Build(ctx, cli)
	if err != nil {
		t.Fatalf("test image: %v", err)
	}
	return cli, tag
}

// BinaryPath returns the testapp binary's path, failing t if it cannot be
// built.
func BinaryPath(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := Binary(ctx)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			Unavailable(t, "the go command is not on PATH: %v", err)
		}
		t.Fatalf("testapp binary: %v", err)
	}
	return bin
}
