package runtimetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-run/berth/internal/testenv"
)

const apiPrefix = "/2018-06-01/runtime/"

// The binaries built by this test process, by package directory.
var built struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// Build compiles the function in dir (a package directory) as Lambda runs
// it, with the lambda.norpc tag, for this host, once per test process, and
// returns the binary. Call Cleanup from TestMain to remove it.
func Build(t *testing.T, dir string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if bin, ok := built.bins[dir]; ok {
		return bin
	}
	goTool := testenv.NeedCommand(t, "go")
	if built.dir == "" {
		tmp, err := os.MkdirTemp("", "berth-function-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir, built.bins = tmp, map[string]string{}
	}
	bin := filepath.Join(built.dir, fmt.Sprintf("bootstrap-%d", len(built.bins)))
	cmd := exec.Command(goTool, "build", "-tags", "lambda.norpc", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", dir, err, out)
	}
	built.bins[dir] = bin
	return bin
}

// Cleanup removes the binaries Build made.
func Cleanup() {
	built.Lock()
	defer built.Unlock()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// Result is the outcome of one invocation: the function's response, or
// the error it reported.
type Result struct {
	Response json.RawMessage
	Error    *FunctionError
}

// FunctionError is the error document a runtime posts.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// Runtime is a running function process and the Runtime API it polls.
type Runtime struct {
	server  *httptest.Server
	cmd     *exec.Cmd
	output  *testenv.SyncBuffer
	pending chan invocation
	done    chan struct{}
	exited  chan struct{}

	mu      sync.Mutex
	waiting map[string]chan Result
	initErr *FunctionError
	seq     int
}

type invocation struct {
	id    string
	event []byte
}

// Start runs binary with env (and AWS_LAMBDA_RUNTIME_API pointing at the
// emulated API) until the test ends.
func Start(t *testing.T, binary string, env ...string) *Runtime {
	t.Helper()
	r := &Runtime{
		output:  &testenv.SyncBuffer{},
		pending: make(chan invocation),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
		waiting: map[string]chan Result{},
	}
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	r.cmd = exec.Command(binary)
	r.cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(r.server.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST")
	r.cmd.Stdout, r.cmd.Stderr = r.output, r.output
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	go func() { _ = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		close(r.done)
		_ = r.cmd.Process.Kill()
		<-r.exited
		r.server.Close()
	})
	return r
}

// Output is what the function printed (its logs).
func (r *Runtime) Output() string { return r.output.String() }

// Invoke delivers one event and waits for the function's answer.
func (r *Runtime) Invoke(t *testing.T, event []byte) Result {
	t.Helper()
	r.mu.Lock()
	r.seq++
	id := fmt.Sprintf("req-%04d", r.seq)
	answer := make(chan Result, 1)
	r.waiting[id] = answer
	r.mu.Unlock()
	deadline := time.After(time.Minute)
	select {
	case r.pending <- invocation{id: id, event: event}:
	case <-r.exited:
		t.Fatalf("the function exited before taking the event (init error %+v):\n%s", r.InitError(), r.Output())
	case <-deadline:
		t.Fatalf("the function did not ask for the event within a minute:\n%s", r.Output())
	}
	select {
	case res := <-answer:
		return res
	case <-r.exited:
		t.Fatalf("the function exited during the invocation:\n%s", r.Output())
	case <-deadline:
		t.Fatalf("no answer within a minute:\n%s", r.Output())
	}
	return Result{}
}

// Exited waits until the process ends, as a function whose init fails does.
func (r *Runtime) Exited(within time.Duration) bool {
	select {
	case <-r.exited:
		return true
	case <-time.After(within):
		return false
	}
}

// InitError is the error the function reported while starting, if any.
func (r *Runtime) InitError() *FunctionError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initErr
}

func (r *Runtime) serve(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimPrefix(req.URL.Path, apiPrefix)
	body, _ := io.ReadAll(req.Body)
	switch {
	case req.Method == http.MethodGet && path == "invocation/next":
		r.next(w)
	case req.Method == http.MethodPost && path == "init/error":
		r.mu.Lock()
		r.initErr = decodeError(body)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case req.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		r.mu.Lock()
		answer := r.waiting[id]
		delete(r.waiting, id)
		r.mu.Unlock()
		if answer == nil {
			http.Error(w, "unknown request id "+id, http.StatusBadRequest)
			return
		}
		switch kind {
		case "response":
			answer <- Result{Response: json.RawMessage(body)}
		case "error":
			answer <- Result{Error: decodeError(body)}
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "not a Runtime API call: "+req.Method+" "+req.URL.Path, http.StatusNotFound)
	}
}

// next hands the function its next event, holding the request until there
// is one, as Lambda does.
func (r *Runtime) next(w http.ResponseWriter) {
	select {
	case inv := <-r.pending:
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:test")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-683db0c8-5d2a1f0e7b9c4a3d2e1f0a9b;Sampled=0")
		_, _ = w.Write(inv.event)
	case <-r.done:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	}
}

func decodeError(body []byte) *FunctionError {
	var e FunctionError
	if err := json.Unmarshal(body, &e); err != nil {
		return &FunctionError{Message: string(body)}
	}
	return &e
}

// Context is a context for the test's own calls beside the function.
func Context(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
