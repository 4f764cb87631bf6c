package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/local"
)

// The credentials the proxy finds in its environment: never real ones.
const (
	proxyKeyID   = "AKIDPROXYTEST"
	proxySecret  = "proxy-test-secret"
	proxyToken   = "proxy-test-session-token"
	proxyRegion  = "eu-west-1"
	authHeaderRE = `^AWS4-HMAC-SHA256 Credential=(\w+)/(\d{8})/([a-z0-9-]+)/([a-z]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`
)

// sigV4Verifier stands in for the Function URL's AWS_IAM check: it
// recomputes the SigV4 signature of every request for the service
// "lambda" and refuses those that do not match, then passes the rest on.
type sigV4Verifier struct {
	next   http.Handler
	mu     sync.Mutex
	seen   []string // X-Amz-Target of every request that verified
	failed []string // why requests were refused
}

func (v *sigV4Verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := verifySigV4(r, body); err != nil {
		v.mu.Lock()
		v.failed = append(v.failed, err.Error())
		v.mu.Unlock()
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"Message":"Forbidden"}`)
		return
	}
	v.mu.Lock()
	v.seen = append(v.seen, r.Header.Get("X-Amz-Target"))
	v.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	v.next.ServeHTTP(w, r)
}

// verifySigV4 checks the Authorization header's shape and signature.
func verifySigV4(r *http.Request, body []byte) error {
	m := regexp.MustCompile(authHeaderRE).FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return errors.New("authorization header is not SigV4: " + r.Header.Get("Authorization"))
	}
	keyID, day, region, service, signed := m[1], m[2], m[3], m[4], strings.Split(m[5], ";")
	switch {
	case keyID != proxyKeyID:
		return errors.New("signed with the wrong key " + keyID)
	case service != "lambda" || region != proxyRegion:
		return errors.New("signed for " + service + " in " + region + ", want lambda in " + proxyRegion)
	case r.Header.Get("X-Amz-Security-Token") != proxyToken:
		return errors.New("session token missing")
	}
	for _, h := range []string{"host", "x-amz-date", "x-amz-target", "x-amz-security-token", "content-type"} {
		if !contains(signed, h) {
			return errors.New("header " + h + " is not signed: " + m[5])
		}
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != day {
		return errors.New("bad X-Amz-Date " + r.Header.Get("X-Amz-Date"))
	}
	// Sign the same request (only the signed headers) again and compare.
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range signed {
		if h != "host" && h != "x-amz-security-token" && h != "x-amz-date" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: proxyKeyID, SecretAccessKey: proxySecret, SessionToken: proxyToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "lambda", proxyRegion, at); err != nil {
		return err
	}
	if again.Header.Get("Authorization") != r.Header.Get("Authorization") {
		return errors.New("signature does not match the request")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// proxyEnv gives the proxy credentials through the default chain's
// environment variables and hides any real configuration.
func proxyEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", proxyKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", proxySecret)
	t.Setenv("AWS_SESSION_TOKEN", proxyToken)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// startProxy runs `berth proxy` on a free port until the test ends and
// returns its endpoint.
func startProxy(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &testenv.SyncBuffer{}
	cmd := proxyCommand()
	cmd.SetArgs(append([]string{"--listen", "127.0.0.1:0"}, args...))
	cmd.SetOut(out)
	cmd.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("berth proxy: %v", err)
		}
	})
	var endpoint string
	testenv.Eventually(t, 10*time.Second, "berth proxy to print its endpoint", func() bool {
		select {
		case err := <-done:
			t.Fatalf("berth proxy exited: %v\n%s", err, out.String())
		default:
		}
		m := regexp.MustCompile(`endpoint: (http://\S+)`).FindStringSubmatch(out.String())
		if m != nil {
			endpoint = m[1]
		}
		return m != nil
	})
	return endpoint
}

// TestProxyEndToEnd drives a real local API through `berth proxy` and a
// SigV4-verifying front with the official ECS client, which signs for
// "ecs" with other credentials: the proxy must re-sign every request.
func TestProxyEndToEnd(t *testing.T) {
	proxyEnv(t)
	plane := testenv.Plane(t, local.Config{})
	upstream, _ := url.Parse(plane.Endpoint())
	verifier := &sigV4Verifier{next: httputil.NewSingleHostReverseProxy(upstream)}
	front := httptest.NewServer(verifier)
	defer front.Close()

	endpoint := startProxy(t, "--endpoint", front.URL, "--region", proxyRegion)
	client := testenv.ECS(endpoint)
	ctx := context.Background()
	created, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("through-proxy")})
	if err != nil {
		t.Fatalf("CreateCluster through the proxy: %v (refused: %v)", err, verifier.failed)
	}
	if got := aws.ToString(created.Cluster.ClusterName); got != "through-proxy" {
		t.Errorf("cluster %q", got)
	}
	listed, err := client.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(listed.ClusterArns) != 1 {
		t.Fatalf("ListClusters: %v %v", listed, err)
	}
	_, err = client.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"through-proxy"}})
	if err != nil {
		t.Fatal(err)
	}
	// An ECS error crosses the proxy unchanged.
	_, err = client.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("nope")})
	if err == nil || !strings.Contains(err.Error(), "ClusterNotFoundException") {
		t.Errorf("DeleteCluster of a missing cluster: %v", err)
	}

	verifier.mu.Lock()
	defer verifier.mu.Unlock()
	if len(verifier.failed) != 0 {
		t.Errorf("requests refused by the SigV4 check: %v", verifier.failed)
	}
	want := []string{"CreateCluster", "ListClusters", "DescribeClusters", "DeleteCluster"}
	if len(verifier.seen) != len(want) {
		t.Fatalf("verified %v", verifier.seen)
	}
	for i, action := range want {
		if verifier.seen[i] != "AmazonEC2ContainerServiceV20141113."+action {
			t.Errorf("request %d: %s", i, verifier.seen[i])
		}
	}
}

// TestSigV4VerifierRejects shows the verifier the end-to-end test relies
// on really checks signatures.
func TestSigV4VerifierRejects(t *testing.T) {
	body := []byte(`{"clusterName":"a"}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateCluster")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: proxyKeyID, SecretAccessKey: proxySecret, SessionToken: proxyToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "lambda", proxyRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	req.Host = req.URL.Host
	if err := verifySigV4(req, body); err != nil {
		t.Fatalf("a correctly signed request: %v", err)
	}
	if err := verifySigV4(req, []byte(`{"clusterName":"b"}`)); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("tampered body: %v", err)
	}
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
	if err := verifySigV4(req, body); err == nil {
		t.Error("tampered header accepted")
	}
	ecsSigned, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/", bytes.NewReader(body))
	_ = v4.NewSigner().SignHTTP(context.Background(), creds, ecsSigned, hex.EncodeToString(sum[:]), "ecs", proxyRegion, time.Now())
	if err := verifySigV4(ecsSigned, body); err == nil || !strings.Contains(err.Error(), "signed for ecs") {
		t.Errorf("signed for ecs: %v", err)
	}
}

func TestProxyFailures(t *testing.T) {
	proxyEnv(t)
	t.Run("upstream unreachable", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		deadURL := dead.URL
		dead.Close()
		endpoint := startProxy(t, "--endpoint", deadURL, "--region", proxyRegion)
		_, err := testenv.ECS(endpoint).ListClusters(context.Background(), &ecs.ListClustersInput{}, func(o *ecs.Options) { o.RetryMaxAttempts = 1 })
		if err == nil || !strings.Contains(err.Error(), "ServerException") || !strings.Contains(err.Error(), "berth proxy: reach") {
			t.Errorf("unreachable upstream: %v", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		t.Setenv("AWS_SESSION_TOKEN", "")
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Error("a request reached the endpoint unsigned")
		}))
		defer front.Close()
		endpoint := startProxy(t, "--endpoint", front.URL, "--region", proxyRegion)
		_, err := testenv.ECS(endpoint).ListClusters(context.Background(), &ecs.ListClustersInput{}, func(o *ecs.Options) { o.RetryMaxAttempts = 1 })
		if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
			t.Errorf("without credentials: %v", err)
		}
	})
}

func TestProxyRefusesBadFlags(t *testing.T) {
	proxyEnv(t)
	tests := map[string]struct {
		args []string
		want string
	}{
		"no endpoint": {nil, `required flag(s) "endpoint" not set`},
		"not a URL":   {[]string{"--endpoint", "lambda-url"}, "must be a URL"},
		"no region":   {[]string{"--endpoint", "https://example.com/"}, "pass --region"},
		"bad listen":  {[]string{"--endpoint", "https://abc.lambda-url.us-east-1.on.aws/", "--listen", "256.0.0.1:1"}, "listen on 256.0.0.1:1"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cmd := proxyCommand()
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
