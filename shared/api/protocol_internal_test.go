package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/ecs"
)

// TestServerFaultsAreServerException: a handler that panics or fails with
// an internal error answers 500 ServerException with a request ID to look
// up, never a crash and never the internal detail.
func TestServerFaultsAreServerException(t *testing.T) {
	s := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.register("Test.Panic", func(context.Context, []byte) (any, error) { panic("boom") })
	s.register("Test.Fault", func(context.Context, []byte) (any, error) { return nil, errors.New("disk on fire") })
	for _, target := range []string{"Test.Panic", "Test.Fault"} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", target)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		var body struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		id := rec.Header().Get("x-amzn-RequestId")
		if rec.Code != 500 || body.Type != ecs.ServerException || id == "" || !strings.Contains(body.Message, id) {
			t.Errorf("%s: %d %+v (request ID %q)", target, rec.Code, body, id)
		}
		if strings.Contains(body.Message, "boom") || strings.Contains(body.Message, "disk on fire") {
			t.Errorf("%s: internal detail leaked: %q", target, body.Message)
		}
	}
}
