package dynamotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region and fake credentials every client of the server uses.
const (
	Region    = "us-east-1"
	AccessKey = "AKIDBERTHMOTO"
	SecretKey = "berth-moto-secret"
)

// Server is a moto_server process listening on a loopback port.
type Server struct {
	// Endpoint is the server's URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	cmd      *exec.Cmd
	output   *lockedBuffer
	exited   chan struct{}
	http     *http.Client
}

// lockedBuffer collects the server's output for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; keep memory bounded
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ErrNoMoto means moto_server is not on PATH.
var ErrNoMoto = errors.New(`moto_server not found on PATH (pip install "moto[server]")`)

// Start runs moto_server on a free loopback port and waits until it answers.
func Start(ctx context.Context) (*Server, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNoMoto
	}
	var last error
	for range 3 { // another process may take the port between probe and bind
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		srv, err := start(ctx, path, port)
		if err == nil {
			return srv, nil
		}
		last = err
	}
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(ctx context.Context, path string, port int) (*Server, error) {
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+AccessKey, "AWS_SECRET_ACCESS_KEY="+SecretKey, "AWS_DEFAULT_REGION="+Region)
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	srv := &Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:      cmd,
		output:   out,
		exited:   make(chan struct{}),
		http:     &http.Client{Transport: newFidelity()},
	}
	go func() {
		_ = cmd.Wait()
		close(srv.exited)
	}()
	if err := srv.awaitReady(ctx, 60*time.Second); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return srv, nil
}

// awaitReady polls moto's own API until it answers.
func (s *Server) awaitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/moto-api/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("moto_server exited while starting; its output:\n%s", s.output.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("moto_server did not answer at %s within %v; its output:\n%s", s.Endpoint, within, s.output.String())
		}
	}
}

// Close stops the server.
func (s *Server) Close() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := kill(s.cmd); err != nil {
		return fmt.Errorf("stop moto_server: %w", err)
	}
	<-s.exited
	return nil
}

// Output is what the server printed so far.
func (s *Server) Output() string { return s.output.String() }

// Config is an SDK configuration for the server: its endpoint, the test
// region, fake static credentials (so nothing can reach real AWS) and an
// HTTP client that makes moto behave as DynamoDB where the contract needs
// it (see fidelity).
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(s.Endpoint),
		HTTPClient:   s.http,
	}
}

// The server a test binary shares, started on first use.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the test binary's moto_server, starting it on first use.
// Without moto_server the test is skipped with a loud reason, or fails
// under CI=true. Call StopShared from TestMain once the tests have run.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.srv, shared.err = Start(ctx)
	})
	if shared.err != nil {
		if os.Getenv("CI") == "true" || !errors.Is(shared.err, ErrNoMoto) {
			t.Fatalf("moto_server: %v", shared.err)
		}
		t.Skipf("SKIPPED: %v; install it to run this test (it is required under CI=true)", shared.err)
	}
	return shared.srv
}

// StopShared stops the shared server, if one was started.
func StopShared() {
	if shared.srv != nil {
		_ = shared.srv.Close()
	}
}
