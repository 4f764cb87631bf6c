package placement

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement/cql"
)

// host is a healthy instance with 2048 CPU, 4096 MiB, the agent's default
// reserved ports and the given attributes (name=value pairs).
func host(id string, attrs ...string) Instance {
	in := Instance{
		ARN:            "arn:aws:ecs:us-east-1:123456789012:container-instance/default/" + id,
		ID:             id,
		Status:         ecs.InstanceActive,
		AgentConnected: true,
		AgentVersion:   "1.70.0",
		Attributes:     map[string]string{},
		Groups:         map[string]int{},
		Remaining:      Resources{CPU: 2048, Memory: 4096, Ports: []int{22, 2375, 2376, 51678, 51679}},
	}
	for _, a := range attrs {
		name, value, _ := strings.Cut(a, "=")
		in.Attributes[name] = value
	}
	return in
}

func indices(r Result) []int {
	var out []int
	for _, p := range r.Placements {
		out = append(out, p.Index)
	}
	return out
}

func mustPlace(t *testing.T, in []Instance, req Request) Result {
	t.Helper()
	r, err := Place(in, req)
	if err != nil {
		t.Fatalf("Place: %v", err)
	}
	want, err := oraclePlace(in, req)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("engine %s, oracle %s", describe(r), describe(want))
	}
	return r
}

func TestEachRejectionReason(t *testing.T) {
	web := Request{Count: 1, Group: "service:web", Needs: ecs.Requirements{CPU: 512, Memory: 1024, GPUs: 1, Ports: []int{80}, PortsUDP: []int{53}}}
	cases := []struct {
		name   string
		change func(*Instance, *Request)
		reason string
	}{
		{"draining", func(in *Instance, _ *Request) { in.Status = ecs.InstanceDraining }, "INACTIVE"},
		{"inactive", func(in *Instance, _ *Request) { in.Status = ecs.InstanceInactive }, "INACTIVE"},
		{"registering", func(in *Instance, _ *Request) { in.Status = ecs.InstanceRegistering }, "INACTIVE"},
		{"agent disconnected", func(in *Instance, _ *Request) { in.AgentConnected = false }, "AGENT"},
		{"cpu", func(in *Instance, _ *Request) { in.Remaining.CPU = 511 }, "RESOURCE:CPU"},
		{"memory", func(in *Instance, _ *Request) { in.Remaining.Memory = 1023 }, "RESOURCE:MEMORY"},
		{"gpu", func(in *Instance, _ *Request) { in.Remaining.GPUs = 0 }, "RESOURCE:GPU"},
		{"tcp port", func(in *Instance, _ *Request) { in.Remaining.Ports = append(in.Remaining.Ports, 80) }, "RESOURCE:PORTS"},
		{"udp port", func(in *Instance, _ *Request) { in.Remaining.PortsUDP = []int{53} }, "RESOURCE:PORTS_UDP"},
		{"required attribute missing", func(_ *Instance, r *Request) {
			r.RequiresAttributes = []ecs.Attribute{{Name: "com.amazonaws.ecs.capability.docker-remote-api.1.19"}}
		}, "ATTRIBUTE"},
		{"required attribute value differs", func(_ *Instance, r *Request) {
			r.RequiresAttributes = []ecs.Attribute{{Name: "ecs.os-type", Value: "windows"}}
		}, "ATTRIBUTE"},
		{"distinct instance", func(in *Instance, r *Request) {
			in.Groups["service:web"] = 1
			r.Constraints = []ecs.PlacementConstraint{{Type: "distinctInstance"}}
		}, "DistinctInstance placement constraint unsatisfied."},
		{"member of", func(_ *Instance, r *Request) {
			r.Constraints = []ecs.PlacementConstraint{{Type: "memberOf", Expression: "attribute:ecs.instance-type =~ g2.*"}}
		}, "MemberOf placement constraint unsatisfied."},
		{"member of from the task definition", func(_ *Instance, r *Request) {
			r.TaskDefinitionConstraints = []ecs.TaskDefinitionPlacementConstraint{{Type: "memberOf", Expression: "not(attribute:ecs.os-type == linux)"}}
		}, "MemberOf placement constraint unsatisfied."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := host("a1", "ecs.os-type=linux", "ecs.instance-type=t2.small")
			in.Remaining.GPUs = 1
			req := web
			req.Needs.Ports = []int{80}
			c.change(&in, &req)
			r := mustPlace(t, []Instance{in}, req)
			if r.Unplaced != 1 || len(r.Placements) != 0 {
				t.Fatalf("placed %v, want the task refused", indices(r))
			}
			want := Rejection{Index: 0, ARN: in.ARN, ID: "a1", Reason: c.reason}
			if !reflect.DeepEqual(r.Rejections, []Rejection{want}) || *r.Closest != want {
				t.Fatalf("rejections %+v closest %+v, want %+v", r.Rejections, r.Closest, want)
			}
			f := r.Failures()
			if len(f) != 1 || f[0].Arn != in.ARN || f[0].Reason != c.reason {
				t.Fatalf("failures %+v", f)
			}
		})
	}
}

func TestClosestMatchIsTheInstanceThatGotFurthest(t *testing.T) {
	in := []Instance{host("a"), host("b"), host("c"), host("d")}
	in[0].AgentConnected = false           // AGENT
	in[1].Remaining.Memory = 100           // RESOURCE:MEMORY
	in[2].Remaining.CPU = 100              // RESOURCE:CPU
	in[3].Remaining.Ports = []int{22, 443} // RESOURCE:PORTS, the furthest
	r := mustPlace(t, in, Request{Count: 3, Needs: ecs.Requirements{CPU: 256, Memory: 256, Ports: []int{443}}})
	if r.Unplaced != 3 || r.Closest.ID != "d" || r.Closest.Reason != "RESOURCE:PORTS" {
		t.Fatalf("closest %+v, unplaced %d", r.Closest, r.Unplaced)
	}
	got := []string{}
	for _, rej := range r.Rejections {
		got = append(got, rej.Reason)
	}
	if want := []string{"AGENT", "RESOURCE:MEMORY", "RESOURCE:CPU", "RESOURCE:PORTS"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("reasons %v, want %v", got, want)
	}
	if f := r.Failures(); len(f) != 3 || f[2].Arn != in[3].ARN || f[2].Reason != "RESOURCE:PORTS" {
		t.Fatalf("failures %+v", f)
	}
}

func TestUnableToPlaceMessages(t *testing.T) {
	prefix := "service web was unable to place a task because no container instance met all of its requirements."
	suffix := " For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
	cases := map[string]string{
		"RESOURCE:CPU":         " The closest matching container-instance c0ffee has insufficient CPU units available.",
		"RESOURCE:MEMORY":      " The closest matching container-instance c0ffee has insufficient memory available.",
		"RESOURCE:PORTS":       " The closest matching container-instance c0ffee is already using a port required by your task.",
		"RESOURCE:PORTS_UDP":   " The closest matching container-instance c0ffee is already using a port required by your task.",
		"RESOURCE:GPU":         ` The closest matching container-instance c0ffee encountered error "RESOURCE:GPU".`,
		"AGENT":                ` The closest matching container-instance c0ffee encountered error "AGENT".`,
		"INACTIVE":             ` The closest matching container-instance c0ffee encountered error "INACTIVE".`,
		"ATTRIBUTE":            " The closest matching container-instance c0ffee is missing an attribute required by your task.",
		ReasonMemberOf:         ` The closest matching container-instance c0ffee encountered error "MemberOf placement constraint unsatisfied.".`,
		ReasonDistinctInstance: ` The closest matching container-instance c0ffee encountered error "DistinctInstance placement constraint unsatisfied.".`,
	}
	for reason, middle := range cases {
		r := Result{Unplaced: 1, Closest: &Rejection{ID: "c0ffee", Reason: reason}}
		if got, want := UnableToPlaceMessage("web", r), prefix+middle+suffix; got != want {
			t.Errorf("%s:\n got %q\nwant %q", reason, got, want)
		}
	}
	if got := UnableToPlaceMessage("web", Result{Unplaced: 1}); got != prefix {
		t.Errorf("no instances: %q", got)
	}
}

func TestEmptyCluster(t *testing.T) {
	r := mustPlace(t, nil, Request{Count: 2})
	if r.Unplaced != 2 || r.Closest != nil || len(r.Rejections) != 0 {
		t.Fatalf("%+v", r)
	}
	f := r.Failures()
	if len(f) != 2 || f[0].Reason != "MISSING" || f[0].Detail != "No Container Instances were found in your cluster." {
		t.Fatalf("failures %+v", f)
	}
	if err := NoInstancesError(); err.Code != ecs.InvalidParameterException || err.Message != "No Container Instances were found in your cluster." {
		t.Fatalf("%v", err)
	}
}

func TestBinpackFillsTheFullestInstanceFirst(t *testing.T) {
	in := []Instance{host("a"), host("b"), host("c")}
	in[0].Remaining.Memory = 4096
	in[1].Remaining.Memory = 1500
	in[2].Remaining.Memory = 2048
	r := mustPlace(t, in, Request{Count: 5, Needs: ecs.Requirements{Memory: 1000}, Strategies: []ecs.PlacementStrategy{{Type: "binpack", Field: "memory"}}})
	// b (1500) takes one, then c (2048) two, then a (4096) two.
	if got, want := indices(r), []int{1, 2, 2, 0, 0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("placed on %v, want %v", got, want)
	}
}

func TestServiceDefaultSpreadsZonesThenInstances(t *testing.T) {
	in := []Instance{
		host("a1", "ecs.availability-zone=us-east-1a"),
		host("a2", "ecs.availability-zone=us-east-1a"),
		host("b1", "ecs.availability-zone=us-east-1b"),
		host("c1", "ecs.availability-zone=us-east-1c"),
	}
	in[0].Groups["service:web"] = 1 // us-east-1a already has one
	r := mustPlace(t, in, Request{Count: 5, Group: "service:web", Needs: ecs.Requirements{CPU: 10}, Strategies: ServiceDefaultStrategies()})
	// b and c first (zones with none), then a's empty instance and b/c again.
	if got, want := indices(r), []int{2, 3, 1, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("placed on %v, want %v", got, want)
	}
}

func TestSpreadThenBinpackWithinTheZone(t *testing.T) {
	in := []Instance{
		host("a1", "ecs.availability-zone=a"), host("a2", "ecs.availability-zone=a"),
		host("b1", "ecs.availability-zone=b"), host("b2", "ecs.availability-zone=b"),
	}
	in[1].Remaining.Memory = 1024
	in[3].Remaining.Memory = 2048
	strategies := []ecs.PlacementStrategy{{Type: "spread", Field: "attribute:ecs.availability-zone"}, {Type: "binpack", Field: "memory"}}
	r := mustPlace(t, in, Request{Count: 4, Group: "service:api", Needs: ecs.Requirements{Memory: 512}, Strategies: strategies})
	// a2 has least memory of all; then zone b's fullest (b2); then a2, b2 again.
	if got, want := indices(r), []int{1, 3, 1, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("placed on %v, want %v", got, want)
	}
}

func TestInstancesWithoutTheSpreadAttributeFormOneValue(t *testing.T) {
	in := []Instance{host("a", "zone=a"), host("x"), host("y"), host("b", "zone=b")}
	r := mustPlace(t, in, Request{Count: 3, Group: "g", Strategies: []ecs.PlacementStrategy{{Type: "spread", Field: "attribute:zone"}}})
	// a, then the no-zone value (x first), then b: three values, one each.
	if got, want := indices(r), []int{0, 1, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("placed on %v, want %v", got, want)
	}
}

func TestDistinctInstanceCountsTheGroupsExistingTasks(t *testing.T) {
	in := []Instance{host("a"), host("b"), host("c")}
	in[1].Groups["family:game"] = 1
	req := Request{Count: 3, Group: "family:game", Constraints: []ecs.PlacementConstraint{{Type: "distinctInstance"}}}
	r := mustPlace(t, in, req)
	if got, want := indices(r), []int{0, 2}; !reflect.DeepEqual(got, want) || r.Unplaced != 1 {
		t.Fatalf("placed on %v (%d unplaced), want %v and 1 unplaced", got, r.Unplaced, want)
	}
	if r.Closest.Reason != ReasonDistinctInstance {
		t.Fatalf("closest %+v", r.Closest)
	}
}

func TestTaskGroupSeesTasksPlacedEarlierInTheCall(t *testing.T) {
	in := []Instance{host("a"), host("b")}
	in[1].Groups["service:db"] = 1
	// Affinity to the database, then to itself: everything lands on b.
	affinity := Request{Count: 3, Group: "service:cache", Constraints: []ecs.PlacementConstraint{{Type: "memberOf", Expression: "task:group == service:db"}}}
	if got := indices(mustPlace(t, in, affinity)); !reflect.DeepEqual(got, []int{1, 1, 1}) {
		t.Fatalf("affinity placed on %v", got)
	}
	// Anti-affinity with its own group: one per instance, then nothing fits.
	anti := Request{Count: 3, Group: "service:cache", Constraints: []ecs.PlacementConstraint{{Type: "memberOf", Expression: "not(task:group == service:cache)"}}}
	r := mustPlace(t, in, anti)
	if got := indices(r); !reflect.DeepEqual(got, []int{0, 1}) || r.Closest.Reason != ReasonMemberOf {
		t.Fatalf("anti-affinity placed on %v, closest %+v", got, r.Closest)
	}
}

func TestRunningTasksCountIgnoresTasksPlacedInTheCall(t *testing.T) {
	in := []Instance{host("a")}
	req := Request{Count: 3, Constraints: []ecs.PlacementConstraint{{Type: "memberOf", Expression: "runningTasksCount == 0"}}}
	if got := indices(mustPlace(t, in, req)); !reflect.DeepEqual(got, []int{0, 0, 0}) {
		t.Fatalf("placed on %v", got)
	}
}

func TestStaticPortsOncePerInstanceDynamicPortsAnywhere(t *testing.T) {
	in := []Instance{host("a"), host("b")}
	r := mustPlace(t, in, Request{Count: 3, Needs: ecs.Requirements{Ports: []int{8080}}})
	if got := indices(r); !reflect.DeepEqual(got, []int{0, 1}) || r.Closest.Reason != ReasonPorts {
		t.Fatalf("placed on %v, closest %+v", got, r.Closest)
	}
	// Dynamic host ports are not in Needs, so they never conflict.
	if got := indices(mustPlace(t, in, Request{Count: 3})); !reflect.DeepEqual(got, []int{0, 0, 0}) {
		t.Fatalf("dynamic ports placed on %v", got)
	}
}

func TestRandomIsSeeded(t *testing.T) {
	in := make([]Instance, 50)
	for i := range in {
		in[i] = host(fmt.Sprint(i))
	}
	req := Request{Count: 10, Strategies: RunTaskDefaultStrategies(), Seed: 42}
	a, b := mustPlace(t, in, req), mustPlace(t, in, req)
	if !reflect.DeepEqual(indices(a), indices(b)) {
		t.Fatal("same seed, different placements")
	}
	req.Seed = 43
	if reflect.DeepEqual(indices(a), indices(mustPlace(t, in, req))) {
		t.Fatal("different seeds, same ten placements out of 50 instances")
	}
	spread := map[int]bool{}
	for _, i := range indices(a) {
		spread[i] = true
	}
	if len(spread) < 5 {
		t.Fatalf("random used only %d instances for 10 tasks", len(spread))
	}
}

func TestValidate(t *testing.T) {
	ten := make([]ecs.PlacementConstraint, 10)
	for i := range ten {
		ten[i] = ecs.PlacementConstraint{Type: "memberOf", Expression: "attribute:a exists"}
	}
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"count", Request{}, "count: must be at least 1, got 0"},
		{"negative needs", Request{Count: 1, Needs: ecs.Requirements{CPU: -1}}, "must not be negative"},
		{"bad port", Request{Count: 1, Needs: ecs.Requirements{Ports: []int{70000}}}, "host port 70000 is not a port number"},
		{"eleven constraints", Request{Count: 1, Constraints: ten, TaskDefinitionConstraints: []ecs.TaskDefinitionPlacementConstraint{{Type: "memberOf", Expression: "attribute:a exists"}}}, "placementConstraints: at most 10 constraints are allowed, counting the task definition's; got 11"},
		{"constraint type", Request{Count: 1, Constraints: []ecs.PlacementConstraint{{Type: "sameInstance"}}}, `placementConstraints[0].type: "sameInstance" is not valid; valid: distinctInstance, memberOf`},
		{"distinct with expression", Request{Count: 1, Constraints: []ecs.PlacementConstraint{{Type: "distinctInstance", Expression: "x"}}}, "placementConstraints[0].expression: distinctInstance takes no expression"},
		{"memberOf without expression", Request{Count: 1, Constraints: []ecs.PlacementConstraint{{Type: "distinctInstance"}, {Type: "memberOf"}}}, "placementConstraints[1].expression: memberOf needs an expression"},
		{"bad expression", Request{Count: 1, Constraints: []ecs.PlacementConstraint{{Type: "memberOf", Expression: "attribute:a equalz b"}}}, "placementConstraints[0].expression: invalid cluster query expression at position 13: expected an operator, found 'equalz'"},
		{"task definition distinct", Request{Count: 1, TaskDefinitionConstraints: []ecs.TaskDefinitionPlacementConstraint{{Type: "distinctInstance"}}}, `taskDefinition.placementConstraints[0].type: "distinctInstance" is not valid in a task definition; valid: memberOf`},
		{"six strategies", Request{Count: 1, Strategies: make([]ecs.PlacementStrategy, 6)}, "placementStrategy: at most 5 strategies are allowed, got 6"},
		{"strategy type", Request{Count: 1, Strategies: []ecs.PlacementStrategy{{Type: "pack"}}}, `placementStrategy[0].type: "pack" is not valid; valid: random, spread, binpack`},
		{"binpack field", Request{Count: 1, Strategies: []ecs.PlacementStrategy{{Type: "random"}, {Type: "binpack", Field: "gpu"}}}, `placementStrategy[1].field: binpack takes cpu or memory, got "gpu"`},
		{"spread field", Request{Count: 1, Strategies: []ecs.PlacementStrategy{{Type: "spread", Field: "zone"}}}, `placementStrategy[0].field: spread takes instanceId, host or attribute:<name>, got "zone"`},
		{"spread attribute name", Request{Count: 1, Strategies: []ecs.PlacementStrategy{{Type: "spread", Field: "attribute:bad name"}}}, "spread takes instanceId, host or attribute:<name>"},
	}
	for _, c := range cases {
		err := Validate(c.req)
		if err == nil || !ecs.IsCode(err, ecs.InvalidParameterException) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want InvalidParameterException containing %q", c.name, err, c.want)
		}
		if _, placeErr := Place([]Instance{host("a")}, c.req); placeErr == nil {
			t.Errorf("%s: Place accepted an invalid request", c.name)
		}
	}
	ok := Request{Count: 1, Constraints: ten[:9], TaskDefinitionConstraints: []ecs.TaskDefinitionPlacementConstraint{{Type: "memberOf", Expression: "attribute:a exists"}},
		Strategies: []ecs.PlacementStrategy{{Type: "spread", Field: "host"}, {Type: "binpack", Field: "MEMORY"}, {Type: "random", Field: "ignored"}, {Type: "binpack", Field: "cpu"}, {Type: "spread", Field: "attribute:ecs.availability-zone"}}}
	if err := Validate(ok); err != nil {
		t.Errorf("valid request rejected: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	if got := ServiceDefaultStrategies(); !reflect.DeepEqual(got, []ecs.PlacementStrategy{{Type: "spread", Field: "attribute:ecs.availability-zone"}, {Type: "spread", Field: "instanceId"}}) {
		t.Errorf("service default %+v", got)
	}
	if got := RunTaskDefaultStrategies(); !reflect.DeepEqual(got, []ecs.PlacementStrategy{{Type: "random"}}) {
		t.Errorf("RunTask default %+v", got)
	}
}

func TestInstanceFromAndFilter(t *testing.T) {
	ci := &ecs.ContainerInstance{
		ContainerInstanceArn: "arn:aws:ecs:us-east-1:123456789012:container-instance/default/0123abcd",
		Ec2InstanceID:        "i-0123",
		Status:               ecs.InstanceActive,
		AgentConnected:       true,
		VersionInfo:          &ecs.VersionInfo{AgentVersion: "1.14.4"},
		RunningTasksCount:    2,
		RegisteredAt:         ecs.At(time.Date(2018, 2, 1, 0, 0, 0, 0, time.UTC)),
		Attributes:           []ecs.Attribute{{Name: "ecs.instance-type", Value: "t2.small"}, {Name: "ecs.capability.gpu"}},
		RemainingResources:   ecs.Capacity{CPU: 1024, Memory: 2048, Ports: []int{22}, PortsUDP: []int{53}, GPUs: []string{"gpu-0", "gpu-1"}}.Resources(),
	}
	in, err := InstanceFrom(ci, map[string]int{"service:web": 1})
	if err != nil {
		t.Fatal(err)
	}
	want := Instance{
		ARN: ci.ContainerInstanceArn, ID: "0123abcd", Status: "ACTIVE", AgentConnected: true, AgentVersion: "1.14.4",
		EC2InstanceID: "i-0123", RegisteredAt: ci.RegisteredAt.Time, RunningTasksCount: 2,
		Attributes: map[string]string{"ecs.instance-type": "t2.small", "ecs.capability.gpu": ""},
		Remaining:  Resources{CPU: 1024, Memory: 2048, GPUs: 2, Ports: []int{22}, PortsUDP: []int{53}},
		Groups:     map[string]int{"service:web": 1},
	}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("got %+v\nwant %+v", in, want)
	}
	for expr, match := range map[string]bool{
		"attribute:ecs.instance-type == t2.small and runningTasksCount == 2": true,
		"agentVersion < 1.14.5 and registeredAt < 2018-02-13":                true,
		"task:group == service:web and ec2InstanceId == i-0123":              true,
		"attribute:ecs.capability.gpu exists and agentConnected == false":    false,
	} {
		e, err := cql.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Eval(in.Subject()); got != match {
			t.Errorf("%q = %v", expr, got)
		}
	}
	bad := *ci
	bad.RemainingResources = []ecs.Resource{{Name: "CPU", Type: "STRINGSET"}}
	if _, err := InstanceFrom(&bad, nil); err == nil || !strings.Contains(err.Error(), ci.ContainerInstanceArn) {
		t.Fatalf("malformed resources: %v", err)
	}
}
