package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-run/berth/shared/agentproto"
	"github.com/berth-run/berth/shared/ecs"
)

// MaxBodyBytes caps a request body; larger ones are refused before decoding.
const MaxBodyBytes = 1 << 20

// Target prefixes of the services served on the one endpoint.
const (
	ECSPrefix         = "AmazonEC2ContainerServiceV20141113"
	AutoScalingPrefix = "AnyScaleFrontendService"
	AgentPrefix       = agentproto.TargetPrefix
	EventsPrefix      = "AWSEvents"
)

// handler runs one action on a raw request body.
type handler func(ctx context.Context, body []byte) (any, error)

// action adapts a typed use case to a handler that decodes its input strictly.
func action[In, Out any](name string, fn func(context.Context, *In) (*Out, error)) handler {
	return func(ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if err := decodeStrict(name, body, in); err != nil {
			return nil, err
		}
		return fn(ctx, in)
	}
}

// Server serves every registered action.
type Server struct {
	actions map[string]handler
	log     *slog.Logger
}

// NewServer returns a server with no actions; Register adds them.
func NewServer(log *slog.Logger) *Server {
	return &Server{actions: map[string]handler{}, log: log}
}

// Actions lists the targets served, sorted.
func (s *Server) Actions() []string {
	out := make([]string, 0, len(s.actions))
	for t := range s.actions {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// register adds an action under its full target name (prefix.Action).
func (s *Server) register(target string, h handler) { s.actions[target] = h }

// ServeHTTP implements the awsJson1_1 protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	w.Header().Set("x-amzn-RequestId", requestID)
	if r.Method == http.MethodGet && (r.URL.Path == "/health" || r.URL.Path == "/ping") {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	target := r.Header.Get("X-Amz-Target")
	out, err := s.dispatch(r.Context(), r, target)
	if err != nil {
		s.writeError(w, target, requestID, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, target, requestID, ecs.Server(fmt.Errorf("encode %s response: %w", target, err)))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// writeJSON answers with a JSON body of known length, as AWS services do
// (no chunked encoding).
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// dispatch reads the body and runs the action, turning a panic into a
// ServerException so no client ever sees a crash.
func (s *Server) dispatch(ctx context.Context, r *http.Request, target string) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "target", target, "panic", p, "stack", string(debug.Stack()))
			out, err = nil, ecs.Server(fmt.Errorf("internal error"))
		}
	}()
	if r.Method != http.MethodPost {
		return nil, ecs.Errorf(ecs.UnknownOperationException, "method %s is not supported; use POST", r.Method)
	}
	h, ok := s.actions[target]
	if !ok {
		return nil, unknownOperation(target)
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return h(ctx, body)
}

func unknownOperation(target string) error {
	if target == "" {
		return ecs.Errorf(ecs.UnknownOperationException, "missing X-Amz-Target header")
	}
	return ecs.Errorf(ecs.UnknownOperationException, "unknown operation %q", target)
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, ecs.Errorf(ecs.SerializationException, "reading request body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, ecs.Errorf(ecs.SerializationException, "request body exceeds the %d-byte limit", MaxBodyBytes)
	}
	if !utf8.Valid(body) {
		return nil, ecs.Errorf(ecs.SerializationException, "request body is not valid UTF-8")
	}
	return body, nil
}

// decodeStrict decodes a request body into in, rejecting unknown fields,
// wrong types and trailing data with errors that name the field.
func decodeStrict(action string, body []byte, in any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' {
		return ecs.Errorf(ecs.SerializationException, "%s request must be a JSON object", action)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return decodeError(action, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return ecs.Errorf(ecs.SerializationException, "%s request has data after the JSON object", action)
	}
	return nil
}

func decodeError(action string, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return ecs.Errorf(ecs.SerializationException, "%s request is not valid JSON at offset %d: %v", action, syntax.Offset, syntax)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "request"
		}
		return ecs.InvalidParameter("%s: expected %s, got %s", field, describeType(typ.Type.String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ecs.Errorf(ecs.SerializationException, "%s request is truncated JSON", action)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return ecs.InvalidParameter("Unknown parameter %s in %s request", name, action)
	}
	if e, ok := ecs.AsError(err); ok {
		return e
	}
	return ecs.InvalidParameter("%s request: %s", action, strings.TrimPrefix(msg, "json: "))
}

// describeType names a Go type the way a JSON user thinks of it.
func describeType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "an object"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"), strings.HasSuffix(goType, "Timestamp"):
		return "a number"
	case goType == "string" || goType == "*string":
		return "a string"
	case goType == "bool" || goType == "*bool":
		return "a boolean"
	}
	return "an object"
}

// errorBody is the awsJson1_1 error shape.
type errorBody struct {
	Type        string   `json:"__type"`
	Message     string   `json:"message"`
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, target, requestID string, err error) {
	e, ok := ecs.AsError(err)
	if !ok {
		e = ecs.Server(err)
	}
	status := http.StatusBadRequest
	if e.Fault {
		status = http.StatusInternalServerError
		s.log.Error("request failed", "target", target, "requestId", requestID, "err", err)
		e = &ecs.Error{Code: e.Code, Message: "An internal error occurred; request " + requestID + " has the details in the server log.", Fault: true}
	}
	body, _ := json.Marshal(errorBody{Type: e.Code, Message: e.Message, ResourceIDs: e.ResourceIDs})
	w.Header().Set("X-Amzn-Errortype", e.Code)
	writeJSON(w, status, body)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
