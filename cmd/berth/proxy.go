package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/berth-run/berth/agent"
	"github.com/spf13/cobra"
)

// maxProxyBody is the largest request a Function URL accepts (6 MB).
const maxProxyBody = 6 << 20

// proxyOptions configure `berth proxy`.
type proxyOptions struct {
	Endpoint string
	Listen   string
	Region   string
	Verbose  bool
}

func proxyCommand() *cobra.Command {
	var opts proxyOptions
	cmd := &cobra.Command{
		Use:   "proxy --endpoint URL",
		Short: "Sign requests for a deployed Berth API so the aws CLI can reach it",
		Long: "Serve a local endpoint that re-signs every request with SigV4 for the service \"lambda\",\n" +
			"using your default AWS credentials, and forwards it to the deployed api function's URL\n" +
			"(AWS_IAM auth). Then: aws ecs --endpoint-url http://127.0.0.1:4566 list-clusters",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runProxy(ctx, cmd.OutOrStdout(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Endpoint, "endpoint", "", "the api function's URL (the stack's ApiEndpoint output)")
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:4566", "local address to serve on")
	cmd.Flags().StringVar(&opts.Region, "region", "", "region to sign for (default: read from the endpoint's host, else your AWS configuration)")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "log every request")
	_ = cmd.MarkFlagRequired("endpoint")
	return cmd
}

// runProxy serves until ctx ends.
func runProxy(ctx context.Context, out io.Writer, opts proxyOptions) error {
	target, err := proxyTarget(opts.Endpoint)
	if err != nil {
		return err
	}
	region := opts.Region
	if region == "" {
		region = agent.FunctionURLRegion(target.Hostname())
	}
	var loadOpts []func(*config.LoadOptions) error
	if region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return fmt.Errorf("cannot tell which region %s is in: pass --region", target.Host)
	}
	level := slog.LevelInfo
	if opts.Verbose {
		level = slog.LevelDebug
	}
	p := &signingProxy{
		target: target,
		region: cfg.Region,
		creds:  cfg.Credentials,
		signer: v4.NewSigner(),
		client: &http.Client{Timeout: 2 * time.Minute},
		now:    time.Now,
		log:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "endpoint: http://%s → %s (SigV4 lambda, %s)\n", ln.Addr(), target, cfg.Region)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// proxyTarget checks the endpoint is an absolute http(s) URL.
func proxyTarget(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("--endpoint %q must be a URL such as https://<id>.lambda-url.<region>.on.aws/", endpoint)
	}
	return u, nil
}

// signingProxy forwards each request to target, signed anew.
type signingProxy struct {
	target *url.URL
	region string
	creds  aws.CredentialsProvider
	signer *v4.Signer
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
}

// Headers the caller's own signature or connection put on a request; the
// forwarded request gets its own.
var unforwarded = map[string]bool{
	"Authorization": true, "X-Amz-Date": true, "X-Amz-Security-Token": true, "X-Amz-Content-Sha256": true,
	"Host": true, "Content-Length": true, "Accept-Encoding": true, "Expect": true,
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Proxy-Authorization": true,
}

func (p *signingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	target := r.Header.Get("X-Amz-Target")
	resp, err := p.forward(r)
	if err != nil {
		p.log.Error("proxy request failed", "target", target, "err", err)
		proxyError(w, err)
		return
	}
	defer resp.Body.Close()
	for name, values := range resp.Header {
		if !unforwarded[name] {
			w.Header()[name] = values
		}
	}
	w.WriteHeader(resp.StatusCode)
	n, err := io.Copy(w, resp.Body)
	p.log.Debug("proxied", "target", target, "status", resp.StatusCode, "bytes", n, "took", time.Since(start), "err", err)
}

// forward signs a copy of r for the service "lambda" and sends it.
func (p *signingProxy) forward(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxProxyBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	if len(body) > maxProxyBody {
		return nil, &tooLargeError{size: maxProxyBody}
	}
	u := *p.target
	u.Path = strings.TrimSuffix(p.target.Path, "/") + r.URL.Path
	u.RawPath = ""
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request to %s: %w", u.Host, err)
	}
	for name, values := range r.Header {
		if !unforwarded[name] {
			out.Header[name] = values
		}
	}
	creds, err := p.creds.Retrieve(r.Context())
	if err != nil {
		return nil, fmt.Errorf("no AWS credentials to sign with (the default chain: environment, shared files, SSO, instance role): %w", err)
	}
	sum := sha256.Sum256(body)
	if err := p.signer.SignHTTP(r.Context(), creds, out, hex.EncodeToString(sum[:]), "lambda", p.region, p.now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, fmt.Errorf("reach %s: %w", u.Host, err)
	}
	return resp, nil
}

// proxyError answers in the awsJson1_1 error shape, so the aws CLI shows
// the reason.
func proxyError(w http.ResponseWriter, err error) {
	body, _ := json.Marshal(map[string]string{"__type": "ServerException", "message": "berth proxy: " + err.Error()})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", "ServerException")
	status := http.StatusBadGateway
	var tooLarge *tooLargeError
	if errors.As(err, &tooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// tooLargeError is a request the Function URL would refuse for its size.
type tooLargeError struct{ size int }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("request body exceeds the Function URL limit of %d bytes", e.size)
}
