package api_test

import (
	"sort"
	"testing"

	"github.com/berth-run/berth/shared/api"
)

// FuzzRequest sends arbitrary bodies to every action of a server over a
// real store: whatever arrives, the answer is JSON, a client error is a 4xx
// with __type and message, and nothing panics or fails with a 500.
func FuzzRequest(f *testing.F) {
	names := make([]string, 0, len(validBodies))
	for n := range validBodies {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		f.Add(uint8(i), []byte(validBodies[n].body))
	}
	f.Add(uint8(0), []byte(`{"clusterName":"\u0000"}`))
	f.Add(uint8(3), []byte(`{"containerDefinitions":[{"portMappings":[{"containerPort":-1}]}]}`))
	f.Add(uint8(7), []byte(`{"filter":"((((attribute:x == 1"}`))
	f.Add(uint8(9), []byte(`{"maxResults":1e400}`))
	srv, _ := newServer(f)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		target := api.ECSPrefix + "." + names[int(which)%len(names)]
		r := call(t, srv, target, body)
		switch {
		case r.status == 200:
		case r.status >= 400 && r.status < 500:
			if r.Type == "" || r.Msg == "" {
				t.Fatalf("%s: 4xx without __type/message: %s", target, r.raw)
			}
		default:
			t.Fatalf("%s %q: status %d: %s", target, body, r.status, r.raw)
		}
	})
}
