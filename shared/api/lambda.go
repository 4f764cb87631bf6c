package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/shared/ecs"
)

// HandleFunctionURL serves one Lambda Function URL invocation (payload
// format 2.0) with the same protocol ServeHTTP speaks, so the deployed
// endpoint answers exactly as `berth up` does. It never returns an error:
// Lambda would turn one into a bare 502, so every problem, including a
// request the adapter cannot decode, becomes an awsJson1_1 error response.
func (s *Server) HandleFunctionURL(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	return serveFunctionURL(ctx, s, s.failRequest, req), nil
}

// failRequest answers a request the adapter could not turn into an HTTP
// request, in the protocol's error shape.
func (s *Server) failRequest(w http.ResponseWriter, target string, err error) {
	requestID := newRequestID()
	w.Header().Set("x-amzn-RequestId", requestID)
	s.writeError(w, target, requestID, err)
}

// serveFunctionURL runs h on the HTTP request req describes and returns
// what h wrote as a Function URL response; fail answers requests that
// cannot be decoded.
func serveFunctionURL(ctx context.Context, h http.Handler, fail func(w http.ResponseWriter, target string, err error), req events.LambdaFunctionURLRequest) events.LambdaFunctionURLResponse {
	w := newRecorder()
	r, err := httpRequest(ctx, req)
	if err != nil {
		fail(w, headerValue(req.Headers, "X-Amz-Target"), err)
	} else {
		h.ServeHTTP(w, r)
	}
	return w.response()
}

// httpRequest rebuilds the HTTP request a Function URL event describes.
func httpRequest(ctx context.Context, req events.LambdaFunctionURLRequest) (*http.Request, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, ecs.Errorf(ecs.SerializationException, "request body is marked base64-encoded but is not valid base64: %v", err)
		}
		body = decoded
	}
	method := req.RequestContext.HTTP.Method
	if method == "" {
		return nil, ecs.Errorf(ecs.SerializationException, "the Function URL event has no requestContext.http.method")
	}
	path := req.RawPath
	if path == "" {
		path = "/"
	}
	u := &url.URL{Scheme: "https", Host: req.RequestContext.DomainName, Path: path, RawQuery: req.RawQueryString}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, ecs.Errorf(ecs.SerializationException, "the Function URL event does not describe a valid HTTP request: %v", err)
	}
	for name, value := range req.Headers {
		r.Header.Set(name, value)
	}
	if len(req.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(req.Cookies, "; "))
	}
	r.Host = req.RequestContext.DomainName
	r.RemoteAddr = req.RequestContext.HTTP.SourceIP
	r.ContentLength = int64(len(body))
	return r, nil
}

// headerValue reads a header from a Function URL event, whose names arrive
// in lower case (matched here without regard to case all the same).
func headerValue(headers map[string]string, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// recorder is the http.ResponseWriter a Function URL response is collected in.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// response is what was written, in the Function URL response shape: one
// comma-joined value per header, Set-Cookie as cookies, and a body that is
// base64-encoded only when it is not text.
func (w *recorder) response() events.LambdaFunctionURLResponse {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	resp := events.LambdaFunctionURLResponse{StatusCode: status, Headers: map[string]string{}}
	for name, values := range w.header {
		if name == "Set-Cookie" {
			resp.Cookies = append(resp.Cookies, values...)
			continue
		}
		resp.Headers[name] = strings.Join(values, ", ")
	}
	if utf8.Valid(w.body.Bytes()) {
		resp.Body = w.body.String()
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(w.body.Bytes())
		resp.IsBase64Encoded = true
	}
	return resp
}
