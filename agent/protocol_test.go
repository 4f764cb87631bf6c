package agent

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
)

// jsonFields maps a struct's JSON member names to their Go types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// sameShape checks that the agent's message has the members of the
// control plane's, with the same types; the agent's own nested messages
// are compared member by member too. subset allows the agent to send fewer.
func sameShape(t *testing.T, path string, mine, theirs reflect.Type, subset bool) {
	t.Helper()
	a, b := jsonFields(mine), jsonFields(theirs)
	for name, ta := range a {
		tb, ok := b[name]
		if !ok {
			t.Errorf("%s.%s: the control plane has no such member", path, name)
			continue
		}
		compareTypes(t, path+"."+name, ta, tb)
	}
	if subset {
		return
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s.%s: the agent lacks this member", path, name)
		}
	}
}

func compareTypes(t *testing.T, path string, a, b reflect.Type) {
	t.Helper()
	if a == b {
		return
	}
	if a.Kind() != b.Kind() {
		t.Errorf("%s: agent type %v, control plane type %v", path, a, b)
		return
	}
	switch a.Kind() {
	case reflect.Slice, reflect.Pointer:
		compareTypes(t, path, a.Elem(), b.Elem())
	case reflect.Map:
		compareTypes(t, path+"[key]", a.Key(), b.Key())
		compareTypes(t, path+"[]", a.Elem(), b.Elem())
	case reflect.Struct:
		sameShape(t, path, a, b, false)
	default:
		t.Errorf("%s: agent type %v, control plane type %v", path, a, b)
	}
}

// TestRegisterInputIsECSsRequest: what the agent sends to
// RegisterContainerInstance is a subset of the request the control plane
// decodes strictly (an unknown member would be refused).
func TestRegisterInputIsECSsRequest(t *testing.T) {
	mine, theirs := reflect.TypeOf(RegisterInput{}), reflect.TypeOf(control.RegisterContainerInstanceInput{})
	sameShape(t, mine.Name(), mine, theirs, true)
}

func TestClientTurnsErrorBodiesIntoECSErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "BerthAgent.Poll":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.ecs#InvalidParameterException:http://x","message":"no such instance"}`)
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
		}
	}))
	defer srv.Close()
	c := NewClient(srv.URL, ClientOptions{})
	_, err := c.Poll(context.Background(), &PollInput{})
	if e, ok := ecs.AsError(err); !ok || e.Code != ecs.InvalidParameterException || e.Message != "no such instance" {
		t.Fatalf("Poll error %v; want InvalidParameterException 'no such instance'", err)
	}
	_, err = c.SubmitTaskStateChange(context.Background(), &TaskStateInput{})
	if e, ok := ecs.AsError(err); !ok || e.Code != ecs.ServerException || !e.Fault || !strings.Contains(e.Message, "502") {
		t.Fatalf("error from a non-JSON 502: %v; want a ServerException fault naming the status", err)
	}
}

func TestClientSignsWhenGivenCredentials(t *testing.T) {
	var auth, target, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, target = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Target")
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		_, _ = io.WriteString(w, `{"applied":true,"version":4}`)
	}))
	defer srv.Close()
	c := NewClient(srv.URL, ClientOptions{Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), Region: "eu-west-1"})
	out, err := c.SubmitTaskStateChange(context.Background(), &TaskStateInput{TaskArn: "arn:t", Seq: 3, Status: "RUNNING"})
	if err != nil || !out.Applied || out.Version != 4 {
		t.Fatalf("SubmitTaskStateChange = %+v, %v", out, err)
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(auth, "/eu-west-1/ecs/aws4_request") {
		t.Errorf("Authorization %q; want a SigV4 signature for ecs in eu-west-1", auth)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(body), &sent); err != nil || target != "BerthAgent.SubmitTaskStateChange" || sent["protocolVersion"] != float64(ProtocolVersion) || sent["seq"] != float64(3) {
		t.Errorf("target %q body %s; want the action with the protocol version and seq", target, body)
	}
}

// toServer sends every request to srv, whatever its URL names, as a DNS
// entry pointing a Function URL's host at srv would.
type toServer struct{ srv *httptest.Server }

func (t toServer) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = "http", t.srv.Listener.Addr().String()
	return http.DefaultTransport.RoundTrip(out)
}

func TestClientSignsForLambdaAtAFunctionURL(t *testing.T) {
	var auth, host string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, host = r.Header.Get("Authorization"), r.Host
		_, _ = io.WriteString(w, `{"applied":true,"version":1}`)
	}))
	defer srv.Close()
	const endpoint = "https://q7xk3mz2hv5rjw4ty6bnd8pfac0egl1s.lambda-url.eu-central-1.on.aws/"
	c := NewClient(endpoint, ClientOptions{
		HTTP:        &http.Client{Transport: toServer{srv}},
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		Region:      "us-west-2",
	})
	if _, err := c.SubmitTaskStateChange(context.Background(), &TaskStateInput{TaskArn: "arn:t", Seq: 1, Status: "RUNNING"}); err != nil {
		t.Fatalf("SubmitTaskStateChange: %v", err)
	}
	if !strings.Contains(auth, "/eu-central-1/lambda/aws4_request") {
		t.Errorf("Authorization %q; want a SigV4 signature for lambda in the URL's region, eu-central-1", auth)
	}
	if !strings.HasPrefix(host, "q7xk3mz2hv5rjw4ty6bnd8pfac0egl1s.lambda-url.") {
		t.Errorf("Host %q; want the Function URL's host, which the signature covers", host)
	}
}

func TestFunctionURLRegion(t *testing.T) {
	tests := map[string]string{
		"q7xk3mz2hv5rjw4ty6bnd8pfac0egl1s.lambda-url.eu-central-1.on.aws": "eu-central-1",
		"ABC.LAMBDA-URL.US-EAST-1.ON.AWS":                                 "us-east-1",
		"example.com":                                                     "",
		"127.0.0.1":                                                       "",
		"abc.lambda-url.us-east-1.on.aws.evil.example":                    "",
	}
	for host, want := range tests {
		if got := FunctionURLRegion(host); got != want {
			t.Errorf("FunctionURLRegion(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestDiff(t *testing.T) {
	desired := &PollOutput{Tasks: []AgentTask{{TaskArn: "a"}, {TaskArn: "b"}}}
	running := map[string]bool{"a": true, "c": true}
	found := map[string][]ContainerState{"a": {{ID: "1"}}, "d": {{ID: "2"}}, "c": {{ID: "3"}}}
	d := Diff(desired, running, found)
	if len(d.Update) != 1 || d.Update[0].TaskArn != "a" || len(d.Start) != 1 || d.Start[0].TaskArn != "b" ||
		!reflect.DeepEqual(d.Orphans, []string{"d"}) || !reflect.DeepEqual(d.Absent, []string{"c"}) {
		t.Fatalf("Diff = %+v; want update a, start b, orphan d, absent c", d)
	}
}

func TestGroupByTask(t *testing.T) {
	got := GroupByTask([]ContainerState{{ID: "1", TaskARN: "t1"}, {ID: "2"}, {ID: "3", TaskARN: "t1"}, {ID: "4", TaskARN: "t2"}})
	if len(got) != 2 || len(got["t1"]) != 2 || len(got["t2"]) != 1 {
		t.Fatalf("GroupByTask = %v; want t1 with two, t2 with one, the unlabelled one left out", got)
	}
}

func TestSeqCounterNumbersAboveEverySeenNumber(t *testing.T) {
	var s seqCounter
	if n := s.next(); n != 1 {
		t.Fatalf("first seq %d; want 1", n)
	}
	s.observe(10) // a restarted agent learns the server applied 10
	if n := s.next(); n != 11 {
		t.Fatalf("after the server's 10: %d; want 11", n)
	}
	s.observe(5) // an older poll answer changes nothing
	if n := s.next(); n != 12 {
		t.Fatalf("after a stale 5: %d; want 12", n)
	}
}

// TestServerEssenceMatchesAnUnchangedReport: an agent taking up a running
// task it already reported reports nothing new.
func TestServerEssenceMatchesAnUnchangedReport(t *testing.T) {
	bindings := []ecs.NetworkBinding{{BindIP: "0.0.0.0", ContainerPort: 80, HostPort: 49153, Protocol: "tcp"}}
	task := &AgentTask{LastStatus: ecs.TaskRunning, Containers: []ecs.Container{
		{Name: "app", RuntimeID: "c1", LastStatus: ecs.ContainerRunning, NetworkBindings: bindings},
		{Name: "init", RuntimeID: "c2", LastStatus: ecs.ContainerStopped, ExitCode: intp(0), NetworkBindings: []ecs.NetworkBinding{}},
	}}
	report := &TaskStateInput{Status: ecs.TaskRunning, HealthStatus: ecs.HealthUnknown, Seq: 9, StartedAt: ecs.At(t0), Containers: []ContainerStateWire{
		{ContainerName: "app", RuntimeID: "c1", Status: ecs.ContainerRunning, HealthStatus: ecs.HealthUnknown, NetworkBindings: bindings},
		{ContainerName: "init", RuntimeID: "c2", Status: ecs.ContainerStopped, ExitCode: intp(0), HealthStatus: ecs.HealthUnknown},
	}}
	if serverEssence(task) != essence(report) {
		t.Fatalf("essences differ:\n%s\n%s", serverEssence(task), essence(report))
	}
	report.Containers[1].ExitCode = intp(1)
	if serverEssence(task) == essence(report) {
		t.Fatal("a changed exit code left the essence the same")
	}
}
