package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

// committingStore counts committed transactions, to prove a refused
// request writes nothing.
type committingStore struct {
	store.Store
	commits atomic.Int64
}

func (s *committingStore) Transact(ctx context.Context, writes []store.Write) error {
	err := s.Store.Transact(ctx, writes)
	if err == nil {
		s.commits.Add(1)
	}
	return err
}

// functionServer is the api function's server as functions/api wires it,
// over a bolt store in a temporary directory instead of DynamoDB.
func functionServer(t *testing.T) (*Server, *committingStore) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	counted := &committingStore{Store: st}
	now := func() time.Time { return time.Date(2025, 6, 2, 14, 3, 19, 0, time.UTC) }
	var ids atomic.Int64
	newID := func() string { return fmt.Sprintf("%032x", ids.Add(1)) }
	db := store.NewDB(counted, ecs.Account{Region: "us-east-1", ID: "123456789012"}, now, newID)
	c := control.New(db, control.Options{Now: now, Seed: func() int64 { return 1 }})
	srv := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.RegisterECS(c)
	srv.RegisterAgent(c)
	return srv, counted
}

func loadFunctionURLEvent(t *testing.T, name string) events.LambdaFunctionURLRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var req events.LambdaFunctionURLRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func invoke(t *testing.T, srv *Server, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, map[string]any) {
	t.Helper()
	resp, err := srv.HandleFunctionURL(context.Background(), req)
	if err != nil {
		t.Fatalf("HandleFunctionURL returned an error, which Lambda would turn into a bare 502: %v", err)
	}
	if resp.IsBase64Encoded {
		t.Fatalf("a JSON response was base64-encoded: %+v", resp)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("response body is not JSON: %v: %q", err, resp.Body)
	}
	return resp, body
}

// TestFunctionURLSamples plays every events/functionurl-*.json sample, in
// the order a user would send them, through the handler the api function
// starts.
func TestFunctionURLSamples(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join("..", "..", "events", "functionurl-*.json"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("no events/functionurl-*.json samples (err %v)", err)
	}
	checked := map[string]bool{}
	srv, st := functionServer(t)

	resp, body := invoke(t, srv, loadFunctionURLEvent(t, "functionurl-create-cluster.json"))
	checked["functionurl-create-cluster.json"] = true
	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "application/x-amz-json-1.1" || resp.Headers["X-Amzn-Requestid"] == "" {
		t.Fatalf("CreateCluster: status %d headers %v", resp.StatusCode, resp.Headers)
	}
	cluster := body["cluster"].(map[string]any)
	if cluster["clusterArn"] != "arn:aws:ecs:us-east-1:123456789012:cluster/web" || cluster["status"] != "ACTIVE" {
		t.Errorf("CreateCluster cluster = %v", cluster)
	}

	resp, body = invoke(t, srv, loadFunctionURLEvent(t, "functionurl-register-task-definition.json"))
	checked["functionurl-register-task-definition.json"] = true
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("RegisterTaskDefinition: %d %s", resp.StatusCode, resp.Body)
	}
	td := body["taskDefinition"].(map[string]any)
	if td["taskDefinitionArn"] != "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1" || td["status"] != "ACTIVE" {
		t.Errorf("RegisterTaskDefinition = %v", td)
	}

	resp, body = invoke(t, srv, loadFunctionURLEvent(t, "functionurl-describe-clusters.json"))
	checked["functionurl-describe-clusters.json"] = true
	clusters, failures := body["clusters"].([]any), body["failures"].([]any)
	if resp.StatusCode != http.StatusOK || len(clusters) != 1 || len(failures) != 1 {
		t.Fatalf("DescribeClusters: %d %s", resp.StatusCode, resp.Body)
	}
	if tags := clusters[0].(map[string]any)["tags"].([]any); len(tags) != 1 {
		t.Errorf("DescribeClusters include TAGS: tags = %v", tags)
	}
	if f := failures[0].(map[string]any); f["reason"] != "MISSING" || f["arn"] != "arn:aws:ecs:us-east-1:123456789012:cluster/missing" {
		t.Errorf("DescribeClusters failure = %v", f)
	}

	before := st.commits.Load()
	resp, body = invoke(t, srv, loadFunctionURLEvent(t, "functionurl-malformed-body.json"))
	checked["functionurl-malformed-body.json"] = true
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != ecs.SerializationException || resp.Headers["X-Amzn-Errortype"] != ecs.SerializationException {
		t.Errorf("malformed body: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if msg, _ := body["message"].(string); !strings.Contains(msg, "CreateCluster") || !strings.Contains(msg, "truncated") {
		t.Errorf("malformed body message does not say what is wrong: %q", msg)
	}
	if st.commits.Load() != before {
		t.Error("a malformed request committed a write")
	}

	for _, path := range samples {
		if !checked[filepath.Base(path)] {
			t.Errorf("sample %s is not checked by this test", filepath.Base(path))
		}
	}
}

func TestFunctionURLAdapterErrors(t *testing.T) {
	srv, st := functionServer(t)
	good := loadFunctionURLEvent(t, "functionurl-create-cluster.json")

	badBase64 := good
	badBase64.Body = "{not base64!"
	resp, body := invoke(t, srv, badBase64)
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != ecs.SerializationException ||
		!strings.Contains(body["message"].(string), "base64") || resp.Headers["X-Amzn-Requestid"] == "" {
		t.Errorf("invalid base64: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}

	noMethod := good
	noMethod.RequestContext.HTTP.Method = ""
	resp, body = invoke(t, srv, noMethod)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body["message"].(string), "requestContext.http.method") {
		t.Errorf("missing method: %d %s", resp.StatusCode, resp.Body)
	}

	get := good
	get.RequestContext.HTTP.Method = http.MethodGet
	resp, body = invoke(t, srv, get)
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != ecs.UnknownOperationException {
		t.Errorf("GET: %d %s", resp.StatusCode, resp.Body)
	}

	unknown := good
	unknown.Headers = map[string]string{"x-amz-target": ECSPrefix + "LaunchRockets", "content-type": "application/x-amz-json-1.1"}
	resp, body = invoke(t, srv, unknown)
	if resp.StatusCode != http.StatusBadRequest || body["__type"] != ecs.UnknownOperationException ||
		!strings.Contains(body["message"].(string), "LaunchRockets") {
		t.Errorf("unknown target: %d %s", resp.StatusCode, resp.Body)
	}
	if n := st.commits.Load(); n != 0 {
		t.Errorf("refused requests committed %d writes", n)
	}
}

func TestFunctionURLHealth(t *testing.T) {
	srv, _ := functionServer(t)
	resp, err := srv.HandleFunctionURL(context.Background(), events.LambdaFunctionURLRequest{
		RawPath:        "/health",
		RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: http.MethodGet}},
	})
	if err != nil || resp.StatusCode != http.StatusOK || resp.Body != "ok\n" || resp.Headers["Content-Type"] != "text/plain" {
		t.Errorf("health: %+v %v", resp, err)
	}
}

// TestFunctionURLTranslation checks the mapping in both directions with a
// handler that echoes what it received.
func TestFunctionURLTranslation(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "t", Value: "2"})
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte{0xff, 0x00, 0xfe})
	})
	fail := func(http.ResponseWriter, string, error) { t.Fatal("the request should decode") }
	resp := serveFunctionURL(context.Background(), echo, fail, events.LambdaFunctionURLRequest{
		RawPath:         "/a/b",
		RawQueryString:  "x=1&y=2",
		Headers:         map[string]string{"x-amz-target": "T.A", "accept": "a, b"},
		Cookies:         []string{"c=1", "d=2"},
		Body:            base64.StdEncoding.EncodeToString([]byte("binary\x00body")),
		IsBase64Encoded: true,
		RequestContext: events.LambdaFunctionURLRequestContext{
			DomainName: "abc.lambda-url.eu-west-1.on.aws",
			HTTP:       events.LambdaFunctionURLRequestContextHTTPDescription{Method: http.MethodPut, SourceIP: "198.51.100.7"},
		},
	})
	if got.Method != http.MethodPut || got.URL.Path != "/a/b" || got.URL.Query().Get("y") != "2" || got.Host != "abc.lambda-url.eu-west-1.on.aws" {
		t.Errorf("request line: %s %s host %s", got.Method, got.URL, got.Host)
	}
	if got.Header.Get("X-Amz-Target") != "T.A" || got.Header.Get("Accept") != "a, b" || got.Header.Get("Cookie") != "c=1; d=2" || got.RemoteAddr != "198.51.100.7" {
		t.Errorf("request headers: %v remote %s", got.Header, got.RemoteAddr)
	}
	if string(gotBody) != "binary\x00body" || got.ContentLength != int64(len(gotBody)) {
		t.Errorf("request body %q (length %d)", gotBody, got.ContentLength)
	}
	if resp.StatusCode != http.StatusAccepted || resp.Headers["X-Multi"] != "a, b" || len(resp.Cookies) != 2 || resp.Cookies[0] != "s=1" {
		t.Errorf("response head: %+v", resp)
	}
	if _, ok := resp.Headers["Set-Cookie"]; ok {
		t.Error("Set-Cookie must travel as cookies, not as a header")
	}
	if !resp.IsBase64Encoded || resp.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe}) {
		t.Errorf("binary response body: %+v", resp)
	}

	silent := serveFunctionURL(context.Background(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), fail,
		events.LambdaFunctionURLRequest{RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: http.MethodPost}}})
	if silent.StatusCode != http.StatusOK || silent.Body != "" || silent.IsBase64Encoded {
		t.Errorf("a handler that writes nothing: %+v", silent)
	}
}
