package dynamotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// fidelity is the HTTP transport of every client of a Server. It works
// around two ways moto 5.2 departs from DynamoDB, both of which the store
// contract would catch, without touching the adapter:
//
//   - moto handles requests on concurrent threads without isolating them:
//     a transaction that fails restores a copy of the whole table taken
//     when it began, undoing writes other requests committed meanwhile. The
//     transport sends one request at a time, which makes every request
//     atomic, as DynamoDB's are.
//
//   - that restored copy carries a new stream shard object, while shard
//     iterators handed out before keep reading the old one, which holds the
//     failed transaction's writes and never sees later ones. After a failed
//     TransactWriteItems the transport answers GetRecords on any iterator
//     issued before it with ExpiredIteratorException, as DynamoDB does for
//     an iterator it no longer honours; the reader then takes a new
//     iterator from its position, which moto serves from the restored
//     shard.
type fidelity struct {
	next http.RoundTripper

	mu sync.Mutex
	// live holds the iterators issued since the last failed transaction;
	// any other iterator is expired.
	live map[string]bool
}

func newFidelity() *fidelity {
	return &fidelity{next: http.DefaultTransport, live: map[string]bool{}}
}

func (f *fidelity) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	target := req.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	isStreams := strings.HasPrefix(target, "DynamoDBStreams_")
	if isStreams && op == "GetRecords" {
		body, err := readBody(req)
		if err != nil {
			return nil, err
		}
		var in struct{ ShardIterator string }
		if json.Unmarshal(body, &in) == nil && !f.live[in.ShardIterator] {
			return expiredIterator(req), nil
		}
		delete(f.live, in.ShardIterator)
	}
	resp, err := f.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case !isStreams && op == "TransactWriteItems" && resp.StatusCode != http.StatusOK:
		clear(f.live)
	case isStreams && (op == "GetRecords" || op == "GetShardIterator") && resp.StatusCode == http.StatusOK:
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s response: %w", op, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var out struct{ ShardIterator, NextShardIterator string }
		if json.Unmarshal(body, &out) == nil {
			for _, it := range []string{out.ShardIterator, out.NextShardIterator} {
				if it != "" {
					f.live[it] = true
				}
			}
		}
	}
	return resp, nil
}

// readBody reads a request's body and puts it back for sending.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return body, nil
}

func expiredIterator(req *http.Request) *http.Response {
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#ExpiredIteratorException",` +
		`"message":"Iterator expired: issued before a failed transaction replaced moto's stream shard"}`
	return &http.Response{
		Status:        "400 Bad Request",
		StatusCode:    http.StatusBadRequest,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
