package runtimetest

import (
	"net/http"
	"strings"
	"sync"
)

// EmptyCloudWatch stands in for CloudWatch, which moto cannot serve in the
// protocol the SDK now speaks (Smithy RPC v2 CBOR): it answers every call
// with an empty output, so DescribeAlarms knows no alarm, and records the
// operations called.
type EmptyCloudWatch struct {
	mu    sync.Mutex
	calls []string
}

// ServeHTTP answers one CloudWatch call.
func (c *EmptyCloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.calls = append(c.calls, r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
	c.mu.Unlock()
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write([]byte{0xa0}) // an empty CBOR map
}

// Called lists the operations called so far.
func (c *EmptyCloudWatch) Called() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}
