package placement

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"pgregory.net/rapid"
)

var (
	zones         = []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	instanceTypes = []string{"t2.small", "t2.medium", "m5.large", "g2.2xlarge"}
	groupNames    = []string{"service:web", "service:db", "family:batch"}
	exprPool      = []string{
		"attribute:ecs.instance-type =~ t2.*",
		"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
		"not(task:group == service:db)",
		"task:group == service:web",
		"not(task:group == service:web)",
		"task:group !exists or task:group == family:batch",
		"runningTasksCount < 3",
		"agentVersion >= 1.20.0",
		"attribute:rack exists",
		"attribute:stack != dev",
		"registeredAt < 2024-01-15",
	}
	strategyPool = []ecs.PlacementStrategy{
		{Type: "binpack", Field: "cpu"},
		{Type: "binpack", Field: "memory"},
		{Type: "spread", Field: "instanceId"},
		{Type: "spread", Field: "host"},
		{Type: "spread", Field: "attribute:ecs.availability-zone"},
		{Type: "spread", Field: "attribute:ecs.instance-type"},
		{Type: "spread", Field: "attribute:rack"},
		{Type: "random"},
	}
)

func maybe[T any](t *rapid.T, label string, pct int, v func() T) (T, bool) {
	var zero T
	if rapid.IntRange(0, 99).Draw(t, label) < pct {
		return v(), true
	}
	return zero, false
}

func subset(t *rapid.T, label string, from []int) []int {
	var out []int
	for _, p := range from {
		if rapid.IntRange(0, 3).Draw(t, label) == 0 {
			out = append(out, p)
		}
	}
	return out
}

func genInstance(t *rapid.T, i int) Instance {
	in := Instance{
		ARN:               fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:container-instance/c/%04d", i),
		ID:                fmt.Sprintf("%04d", i),
		Status:            rapid.SampledFrom([]string{"ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "DRAINING", "INACTIVE"}).Draw(t, "status"),
		AgentConnected:    rapid.IntRange(0, 9).Draw(t, "connected") > 0,
		AgentVersion:      rapid.SampledFrom([]string{"1.14.4", "1.20.0", "1.70.1", ""}).Draw(t, "version"),
		EC2InstanceID:     fmt.Sprintf("i-%08x", i),
		RegisteredAt:      time.Date(2024, 1, 1+rapid.IntRange(0, 30).Draw(t, "day"), 0, 0, 0, 0, time.UTC),
		RunningTasksCount: rapid.IntRange(0, 5).Draw(t, "running"),
		Attributes:        map[string]string{},
		Groups:            map[string]int{},
		Remaining: Resources{
			CPU:      rapid.SampledFrom([]int{0, 256, 512, 1024, 2048, 4096}).Draw(t, "cpu"),
			Memory:   rapid.SampledFrom([]int{0, 512, 1024, 2048, 4096, 8192}).Draw(t, "mem"),
			GPUs:     rapid.IntRange(0, 2).Draw(t, "gpus"),
			Ports:    subset(t, "tcp", []int{22, 80, 443, 8080}),
			PortsUDP: subset(t, "udp", []int{53, 123}),
		},
	}
	if z, ok := maybe(t, "has-az", 90, func() string { return rapid.SampledFrom(zones).Draw(t, "az") }); ok {
		in.Attributes["ecs.availability-zone"] = z
	}
	in.Attributes["ecs.instance-type"] = rapid.SampledFrom(instanceTypes).Draw(t, "type")
	if r, ok := maybe(t, "has-rack", 70, func() string { return fmt.Sprintf("r%d", rapid.IntRange(1, 5).Draw(t, "rack")) }); ok {
		in.Attributes["rack"] = r
	}
	if s, ok := maybe(t, "has-stack", 60, func() string { return rapid.SampledFrom([]string{"prod", "dev"}).Draw(t, "stack") }); ok {
		in.Attributes["stack"] = s
	}
	for _, g := range groupNames {
		if n := rapid.IntRange(-3, 3).Draw(t, "group"); n > 0 {
			in.Groups[g] = n
		}
	}
	return in
}

func genCluster(t *rapid.T, max int) []Instance {
	n := rapid.IntRange(0, max).Draw(t, "instances")
	out := make([]Instance, n)
	for i := range out {
		out[i] = genInstance(t, i)
	}
	return out
}

func genRequest(t *rapid.T) Request {
	req := Request{
		Count: rapid.IntRange(1, 30).Draw(t, "count"),
		Needs: ecs.Requirements{
			CPU:      rapid.SampledFrom([]int{0, 128, 256, 512, 1024}).Draw(t, "need-cpu"),
			Memory:   rapid.SampledFrom([]int{0, 128, 256, 512, 1024, 2048}).Draw(t, "need-mem"),
			Ports:    subset(t, "need-tcp", []int{80, 8080}),
			PortsUDP: subset(t, "need-udp", []int{53}),
		},
		Group: rapid.SampledFrom(groupNames).Draw(t, "group"),
		Seed:  rapid.Int64().Draw(t, "seed"),
	}
	if rapid.IntRange(0, 4).Draw(t, "gpu?") == 0 {
		req.Needs.GPUs = 1
	}
	if rapid.IntRange(0, 2).Draw(t, "distinct?") == 0 {
		req.Constraints = append(req.Constraints, ecs.PlacementConstraint{Type: "distinctInstance"})
	}
	for range rapid.IntRange(0, 2).Draw(t, "memberOf") {
		req.Constraints = append(req.Constraints, ecs.PlacementConstraint{Type: "memberOf", Expression: rapid.SampledFrom(exprPool).Draw(t, "expr")})
	}
	for range rapid.IntRange(0, 1).Draw(t, "td-memberOf") {
		req.TaskDefinitionConstraints = append(req.TaskDefinitionConstraints, ecs.TaskDefinitionPlacementConstraint{Type: "memberOf", Expression: rapid.SampledFrom(exprPool).Draw(t, "td-expr")})
	}
	for range rapid.IntRange(0, 5).Draw(t, "strategies") {
		req.Strategies = append(req.Strategies, rapid.SampledFrom(strategyPool).Draw(t, "strategy"))
	}
	if rapid.IntRange(0, 9).Draw(t, "requires?") == 0 {
		req.RequiresAttributes = []ecs.Attribute{rapid.SampledFrom([]ecs.Attribute{{Name: "stack", Value: "prod"}, {Name: "rack"}}).Draw(t, "requires")}
	}
	return req
}

// TestPlaceMatchesOracle: on random clusters and requests the engine
// places every task where the brute-force oracle does, fails exactly when
// it does, with the same rejections and closest match.
func TestPlaceMatchesOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genCluster(t, 300)
		req := genRequest(t)
		got, err := Place(in, req)
		if err != nil {
			t.Fatalf("Place: %v", err)
		}
		want, err := oraclePlace(in, req)
		if err != nil {
			t.Fatalf("oracle: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("engine and oracle differ\nengine: %s\noracle: %s", describe(got), describe(want))
		}
		checkInvariants(t, in, req, got)
	})
}

func describe(r Result) string {
	s := fmt.Sprintf("placed %d, unplaced %d:", len(r.Placements), r.Unplaced)
	for _, p := range r.Placements {
		s += fmt.Sprintf(" %d", p.Index)
	}
	if r.Closest != nil {
		s += fmt.Sprintf(" closest %d %s", r.Closest.Index, r.Closest.Reason)
	}
	return s
}

// checkInvariants: nothing overcommitted, distinctInstance held, and
// placement stopped only when nothing fit.
func checkInvariants(t *rapid.T, in []Instance, req Request, r Result) {
	if len(r.Placements)+r.Unplaced != req.Count {
		t.Fatalf("%d placed + %d unplaced != %d requested", len(r.Placements), r.Unplaced, req.Count)
	}
	per := map[int]int{}
	for _, p := range r.Placements {
		per[p.Index]++
	}
	distinct := slices.ContainsFunc(req.Constraints, func(c ecs.PlacementConstraint) bool { return c.Type == "distinctInstance" })
	for i, n := range per {
		rem := in[i].Remaining
		if n*req.Needs.CPU > rem.CPU || n*req.Needs.Memory > rem.Memory || n*req.Needs.GPUs > rem.GPUs {
			t.Fatalf("instance %d overcommitted: %d tasks of %+v on %+v", i, n, req.Needs, rem)
		}
		if len(req.Needs.Ports)+len(req.Needs.PortsUDP) > 0 && n > 1 {
			t.Fatalf("instance %d got %d tasks with static ports", i, n)
		}
		for _, p := range req.Needs.Ports {
			if slices.Contains(rem.Ports, p) {
				t.Fatalf("instance %d: port %d was reserved", i, p)
			}
		}
		for _, p := range req.Needs.PortsUDP {
			if slices.Contains(rem.PortsUDP, p) {
				t.Fatalf("instance %d: udp port %d was reserved", i, p)
			}
		}
		if distinct && (n > 1 || in[i].Groups[req.Group] > 0) {
			t.Fatalf("distinctInstance broken on instance %d", i)
		}
		if in[i].Status != "ACTIVE" || !in[i].AgentConnected {
			t.Fatalf("instance %d is %s/connected=%v and got a task", i, in[i].Status, in[i].AgentConnected)
		}
	}
	if r.Unplaced > 0 {
		if len(r.Rejections) != len(in) {
			t.Fatalf("%d rejections for %d instances", len(r.Rejections), len(in))
		}
		for _, rej := range r.Rejections {
			if rej.Reason == "" {
				t.Fatalf("instance %d rejected without a reason", rej.Index)
			}
		}
	}
}

// TestSpreadIsEven: with room everywhere and no constraints, spreading a
// group that has no tasks yet leaves at most one task of difference
// between any two values, after every placement.
func TestSpreadIsEven(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genCluster(t, 200)
		for i := range in {
			in[i].Status, in[i].AgentConnected = "ACTIVE", true
			in[i].Remaining = Resources{CPU: 1 << 20, Memory: 1 << 20}
			in[i].Groups = nil
		}
		field := rapid.SampledFrom([]string{"instanceId", "attribute:ecs.availability-zone", "attribute:rack", "attribute:ecs.instance-type"}).Draw(t, "field")
		strategies := []ecs.PlacementStrategy{{Type: "spread", Field: field}}
		for range rapid.IntRange(0, 2).Draw(t, "more") {
			strategies = append(strategies, rapid.SampledFrom(strategyPool).Draw(t, "then"))
		}
		req := Request{Count: rapid.IntRange(1, 400).Draw(t, "count"), Needs: ecs.Requirements{CPU: 1, Memory: 1}, Group: "service:web", Strategies: strategies, Seed: rapid.Int64().Draw(t, "seed")}
		r, err := Place(in, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(in) == 0 {
			return
		}
		counts := map[attrValue]int{}
		valueAt := func(i int) attrValue {
			if field == "instanceId" {
				return attrValue{value: in[i].ARN, present: true}
			}
			return valueOf(&in[i], field[len("attribute:"):])
		}
		for i := range in {
			counts[valueAt(i)] += 0
		}
		for k, p := range r.Placements {
			counts[valueAt(p.Index)]++
			lo, hi := k+1, 0
			for _, n := range counts {
				lo, hi = min(lo, n), max(hi, n)
			}
			if hi-lo > 1 {
				t.Fatalf("after %d tasks spread on %s is uneven: %v", k+1, field, counts)
			}
		}
	})
}
