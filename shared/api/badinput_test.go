package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/api"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

// countingStore counts committed transactions, to prove bad requests write nothing.
type countingStore struct {
	store.Store
	commits atomic.Int64
}

func (s *countingStore) Transact(ctx context.Context, w []store.Write) error {
	err := s.Store.Transact(ctx, w)
	if err == nil {
		s.commits.Add(1)
	}
	return err
}

var acct = ecs.Account{Region: "us-east-1", ID: "000000000000"}

// newServer serves the ECS API and agent protocol over a real bolt store.
func newServer(t testing.TB) (*api.Server, *countingStore) {
	t.Helper()
	b, err := bolt.Open(t.TempDir() + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	cs := &countingStore{Store: b}
	ids := 0
	db := store.NewDB(cs, acct, time.Now, func() string { ids++; return fmt.Sprintf("%032x", ids) })
	c := control.New(db, control.Options{Now: time.Now, Seed: func() int64 { return 1 }})
	srv := api.NewServer(testenv.Logger(t))
	srv.RegisterECS(c)
	srv.RegisterAgent(c)
	return srv, cs
}

type reply struct {
	status int
	Type   string `json:"__type"`
	Msg    string `json:"message"`
	raw    string
}

func call(t testing.TB, h http.Handler, target string, body []byte) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	r := reply{status: rec.Code, raw: string(raw)}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: response is not JSON: %q", target, raw)
	}
	return r
}

// validBodies are well-formed requests for every ECS action; each bad-input
// case breaks one of them. required lists the fields a request cannot omit.
var validBodies = map[string]struct {
	body     string
	required []string
}{
	"CreateCluster":                 {`{"clusterName":"web","tags":[{"key":"a","value":"b"}],"settings":[{"name":"containerInsights","value":"enabled"}]}`, nil},
	"DescribeClusters":              {`{"clusters":["web"],"include":["TAGS"]}`, nil},
	"ListClusters":                  {`{"maxResults":10}`, nil},
	"DeleteCluster":                 {`{"cluster":"web"}`, []string{"cluster"}},
	"UpdateCluster":                 {`{"cluster":"web","settings":[{"name":"containerInsights","value":"enabled"}]}`, []string{"cluster"}},
	"UpdateClusterSettings":         {`{"cluster":"web","settings":[{"name":"containerInsights","value":"enabled"}]}`, []string{"cluster", "settings"}},
	"RegisterTaskDefinition":        {`{"family":"web","containerDefinitions":[{"name":"app","image":"x","memory":64}]}`, []string{"family", "containerDefinitions"}},
	"DescribeTaskDefinition":        {`{"taskDefinition":"web:1"}`, []string{"taskDefinition"}},
	"ListTaskDefinitions":           {`{"familyPrefix":"web","status":"ACTIVE","sort":"ASC","maxResults":10}`, nil},
	"ListTaskDefinitionFamilies":    {`{"familyPrefix":"w","status":"ALL","maxResults":10}`, nil},
	"DeregisterTaskDefinition":      {`{"taskDefinition":"web:1"}`, []string{"taskDefinition"}},
	"DeleteTaskDefinitions":         {`{"taskDefinitions":["web:1"]}`, []string{"taskDefinitions"}},
	"RegisterContainerInstance":     {`{"cluster":"web","totalResources":[{"name":"CPU","type":"INTEGER","integerValue":1024}],"attributes":[{"name":"ecs.os-type","value":"linux"}]}`, nil},
	"DescribeContainerInstances":    {`{"cluster":"web","containerInstances":["00000000000000000000000000000001"]}`, []string{"containerInstances"}},
	"ListContainerInstances":        {`{"cluster":"web","status":"ACTIVE","filter":"agentConnected == true","maxResults":10}`, nil},
	"DeregisterContainerInstance":   {`{"cluster":"web","containerInstance":"00000000000000000000000000000001","force":true}`, []string{"containerInstance"}},
	"UpdateContainerInstancesState": {`{"cluster":"web","containerInstances":["00000000000000000000000000000001"],"status":"DRAINING"}`, []string{"containerInstances", "status"}},
	"PutAttributes":                 {`{"cluster":"web","attributes":[{"name":"stack","value":"prod","targetId":"00000000000000000000000000000001"}]}`, []string{"attributes"}},
	"DeleteAttributes":              {`{"cluster":"web","attributes":[{"name":"stack","targetId":"00000000000000000000000000000001"}]}`, []string{"attributes"}},
	"ListAttributes":                {`{"cluster":"web","targetType":"container-instance","attributeName":"stack"}`, []string{"targetType"}},
	"TagResource":                   {`{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/web","tags":[{"key":"a","value":"b"}]}`, []string{"resourceArn", "tags"}},
	"UntagResource":                 {`{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/web","tagKeys":["a"]}`, []string{"resourceArn", "tagKeys"}},
	"ListTagsForResource":           {`{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/web"}`, []string{"resourceArn"}},
	"RunTask":                       {`{"cluster":"web","taskDefinition":"web:1","count":1,"group":"g","startedBy":"me","placementStrategy":[{"type":"random"}]}`, []string{"taskDefinition"}},
	"StartTask":                     {`{"cluster":"web","taskDefinition":"web:1","containerInstances":["00000000000000000000000000000001"]}`, []string{"taskDefinition", "containerInstances"}},
	"StopTask":                      {`{"cluster":"web","task":"00000000000000000000000000000009","reason":"r"}`, []string{"task"}},
	"DescribeTasks":                 {`{"cluster":"web","tasks":["00000000000000000000000000000009"]}`, []string{"tasks"}},
	"ListTasks":                     {`{"cluster":"web","family":"web","desiredStatus":"RUNNING","maxResults":10}`, nil},
	"CreateService":                 {`{"cluster":"web","serviceName":"api","taskDefinition":"web:1","desiredCount":2,"deploymentConfiguration":{"maximumPercent":200,"minimumHealthyPercent":50}}`, []string{"serviceName", "taskDefinition", "desiredCount"}},
	"UpdateService":                 {`{"cluster":"web","service":"api","desiredCount":3,"forceNewDeployment":true}`, []string{"service"}},
	"DeleteService":                 {`{"cluster":"web","service":"api","force":true}`, []string{"service"}},
	"DescribeServices":              {`{"cluster":"web","services":["api"],"include":["TAGS"]}`, []string{"services"}},
	"ListServices":                  {`{"cluster":"web","schedulingStrategy":"REPLICA","maxResults":10}`, nil},
}

// nameFields take a name limited to 255 characters.
var nameFields = []string{"clusterName", "cluster", "family", "taskDefinition", "familyPrefix"}

func TestEveryActionHasABadInputTable(t *testing.T) {
	srv, _ := newServer(t)
	served := map[string]bool{}
	for _, target := range srv.Actions() {
		name, ok := strings.CutPrefix(target, api.ECSPrefix+".")
		if !ok {
			continue
		}
		served[name] = true
		if _, ok := validBodies[name]; !ok {
			t.Errorf("%s is served but has no bad-input cases", name)
		}
	}
	for name := range validBodies {
		if !served[name] {
			t.Errorf("%s is in the table but not served", name)
		}
	}
}

func TestBadInputOnEveryAction(t *testing.T) {
	srv, cs := newServer(t)
	setup := []struct{ action, body string }{
		{"CreateCluster", `{"clusterName":"web"}`},
		{"RegisterTaskDefinition", validBodies["RegisterTaskDefinition"].body},
		{"RegisterContainerInstance", validBodies["RegisterContainerInstance"].body},
	}
	for _, s := range setup {
		if r := call(t, srv, api.ECSPrefix+"."+s.action, []byte(s.body)); r.status != 200 {
			t.Fatalf("setup %s: %d %s", s.action, r.status, r.raw)
		}
	}
	before := cs.commits.Load()
	names := make([]string, 0, len(validBodies))
	for n := range validBodies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		spec := validBodies[name]
		for _, c := range badCases(t, spec.body, spec.required) {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				r := call(t, srv, api.ECSPrefix+"."+name, c.body)
				if r.status < 400 || r.status >= 500 {
					t.Fatalf("status %d, want 4xx: %s", r.status, r.raw)
				}
				if r.Type == "" || r.Msg == "" {
					t.Fatalf("error without __type or message: %s", r.raw)
				}
				if c.mention != "" && !strings.Contains(r.Msg, c.mention) {
					t.Errorf("message %q should mention %q", r.Msg, c.mention)
				}
			})
		}
	}
	if n := cs.commits.Load() - before; n != 0 {
		t.Errorf("bad requests committed %d writes", n)
	}
}

type badCase struct {
	name    string
	body    []byte
	mention string
}

func badCases(t *testing.T, valid string, required []string) []badCase {
	var fields map[string]any
	if err := json.Unmarshal([]byte(valid), &fields); err != nil {
		t.Fatal(err)
	}
	mutate := func(change func(map[string]any)) []byte {
		m := map[string]any{}
		_ = json.Unmarshal([]byte(valid), &m)
		change(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []badCase{
		{"unknown field", mutate(func(m map[string]any) { m["bogusField"] = 1 }), "bogusField"},
		{"not JSON", []byte(`{"cluster":`), ""},
		{"array body", []byte(`[1,2]`), ""},
		{"string body", []byte(`"x"`), ""},
		{"trailing data", []byte(valid + `{}`), ""},
		{"invalid UTF-8", append([]byte(`{"cluster":"`), 0xff, 0xfe, '"', '}'), "UTF-8"},
		{"1 MB body", mutate(func(m map[string]any) { m["bogusField"] = strings.Repeat("a", 1<<20) }), ""},
	}
	for _, f := range required {
		cases = append(cases, badCase{"missing " + f, mutate(func(m map[string]any) { delete(m, f) }), f})
	}
	for f, v := range fields {
		cases = append(cases, badCase{"wrong type " + f, mutate(func(m map[string]any) { m[f] = wrongType(v) }), f})
	}
	for _, f := range nameFields {
		if _, ok := fields[f]; ok {
			cases = append(cases, badCase{"too long " + f, mutate(func(m map[string]any) { m[f] = strings.Repeat("n", 256) }), f})
		}
	}
	if _, ok := fields["containerDefinitions"]; ok {
		cases = append(cases, badCase{"nested wrong type", mutate(func(m map[string]any) {
			m["containerDefinitions"] = []any{map[string]any{"name": "app", "image": "x", "memory": "lots"}}
		}), "containerDefinitions.memory"})
	}
	return cases
}

func wrongType(v any) any {
	switch v.(type) {
	case string:
		return 12345
	case float64, bool:
		return "not-a-number"
	case []any:
		return map[string]any{"x": 1}
	}
	return "not-an-object"
}

func TestProtocolErrors(t *testing.T) {
	srv, _ := newServer(t)
	cases := []struct {
		target, body, want string
		status             int
	}{
		{"", `{}`, ecs.UnknownOperationException, 400},
		{api.ECSPrefix + ".LaunchRocket", `{}`, ecs.UnknownOperationException, 400},
		{"AmazonS3.ListBuckets", `{}`, ecs.UnknownOperationException, 400},
		{api.ECSPrefix + ".ListClusters", `{"maxResults":`, ecs.SerializationException, 400},
		{api.ECSPrefix + ".ListClusters", `{"maxResults":0}`, ecs.InvalidParameterException, 400},
		{api.ECSPrefix + ".DescribeClusters", `{"clusters":["nope"]}`, "", 200},
		{api.ECSPrefix + ".DeleteCluster", `{"cluster":"nope"}`, ecs.ClusterNotFoundException, 400},
		{api.ECSPrefix + ".ListClusters", ``, "", 200},
	}
	for _, c := range cases {
		r := call(t, srv, c.target, []byte(c.body))
		if r.status != c.status || r.Type != c.want {
			t.Errorf("%s %s: %d %q, want %d %q (%s)", c.target, c.body, r.status, r.Type, c.status, c.want, r.raw)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 400 || rec.Header().Get("X-Amzn-Errortype") != ecs.UnknownOperationException {
		t.Errorf("GET /: %d %s", rec.Code, rec.Header().Get("X-Amzn-Errortype"))
	}
}
