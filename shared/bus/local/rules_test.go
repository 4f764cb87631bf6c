package local

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/bus/bustest"
)

func berthBus(t *testing.T) *Bus {
	t.Helper()
	b, _ := newBus(t, Options{})
	handlers := map[string]bus.Handler{}
	for _, target := range []string{bus.TargetReconciler, bus.TargetScaler, bus.TargetMonitor} {
		handlers[target] = newInbox().handle
	}
	if err := b.Install(handlers); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBerthRulesAgainstSamples checks every rule against every file of
// events/: the rules a sample lists must match it, every other must not.
func TestBerthRulesAgainstSamples(t *testing.T) {
	b := berthBus(t)
	for _, s := range samples(t) {
		e := sample(t, s.File)
		matched, err := b.Match(e)
		if err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
		for _, r := range bus.Rules() {
			want := slices.Contains(s.Matches, r.Name)
			got := slices.Contains(matched, r.Name)
			if got != want {
				t.Errorf("%s vs rule %s: matched %v, want %v", s.File, r.Name, got, want)
			}
		}
	}
}

func TestEveryBerthRuleMatchesSomeSample(t *testing.T) {
	matched := map[string]bool{}
	for _, s := range samples(t) {
		for _, r := range s.Matches {
			matched[r] = true
		}
	}
	for _, r := range bus.Rules() {
		if !matched[r.Name] {
			t.Errorf("no sample in events/ matches rule %s", r.Name)
		}
	}
}

func TestMalformedSampleMatchesNothing(t *testing.T) {
	b := berthBus(t)
	raw, err := bustest.ReadFile(bustest.MalformedFile)
	if err != nil {
		t.Fatal(err)
	}
	names, err := b.routes.Load().matcher.match(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 0 {
		t.Errorf("malformed event matched %v", names)
	}
}

// TestUserRulesAgainstSamples runs rules a user might add at runtime
// (patterns as JSON text) against the samples.
func TestUserRulesAgainstSamples(t *testing.T) {
	tests := []struct {
		pattern string
		matches []string
	}{
		{`{"source":["berth"],"detail-type":["ECS Task State Change"],"detail":{"lastStatus":["STOPPED"],"stopCode":["EssentialContainerExited"]}}`,
			[]string{"ecs-task-state-change-stopped.json"}},
		{`{"detail":{"containers":{"exitCode":[137]}}}`,
			[]string{"ecs-task-state-change-stopped.json"}},
		{`{"detail-type":["ECS Task State Change"],"detail":{"group":[{"anything-but":["service:web"]}]}}`,
			[]string{"ecs-task-state-change-standalone.json"}},
		{`{"detail-type":[{"prefix":"ECS Deployment"}],"detail":{"eventType":["ERROR"]}}`,
			[]string{"ecs-deployment-state-change-failed.json"}},
		{`{"resources":[{"wildcard":"arn:aws:ecs:*:service/default/web"}],"detail":{"eventName":["SERVICE_STEADY_STATE","SERVICE_TASK_PLACEMENT_FAILURE"]}}`,
			[]string{"ecs-service-action-placement-failure.json", "ecs-service-action-steady-state.json"}},
		{`{"detail-type":[{"equals-ignore-case":"ecs container instance state change"}],"detail":{"agentConnected":[false]}}`,
			[]string{"ecs-container-instance-state-change-disconnected.json"}},
		{`{"detail":{"reason":[{"exists":true}],"clusterArn":[{"exists":true}]}}`,
			[]string{"ecs-service-action-placement-failure.json"}},
		{`{"source":["berth"],"detail":{"stoppedReason":[{"exists":false}],"taskArn":[{"exists":true}]}}`,
			[]string{"ecs-task-state-change-pending.json", "ecs-task-state-change-running.json", "ecs-task-state-change-standalone.json"}},
		{`{"detail":{"attributes":{"name":["ecs.os-type"],"value":["linux"]}}}`,
			[]string{"ecs-container-instance-state-change-connected.json", "ecs-container-instance-state-change-disconnected.json"}},
	}
	all := samples(t)
	for i, tt := range tests {
		b, _ := newBus(t, Options{})
		if err := b.Subscribe("user", newInbox().handle); err != nil {
			t.Fatal(err)
		}
		if err := b.AddRuleJSON("user-rule", "user", tt.pattern); err != nil {
			t.Errorf("rule %d %s: %v", i, tt.pattern, err)
			continue
		}
		var got []string
		for _, s := range all {
			names, err := b.Match(sample(t, s.File))
			if err != nil {
				t.Fatal(err)
			}
			if len(names) > 0 {
				got = append(got, s.File)
			}
		}
		if !slices.Equal(got, tt.matches) {
			t.Errorf("rule %d %s\n matched %v\n want    %v", i, tt.pattern, got, tt.matches)
		}
	}
}

func TestUnsupportedPatternsAreRefusedByName(t *testing.T) {
	tests := []struct{ pattern, path, construct string }{
		{`{"detail":{"version":[{"numeric":[">",3]}]}}`, "detail.version", `"numeric"`},
		{`{"detail":{"taskArn":[{"suffix":"0d9e"}]}}`, "detail.taskArn", `"suffix"`},
		{`{"detail":{"ip":[{"cidr":"10.0.0.0/8"}]}}`, "detail.ip", `"cidr"`},
		{`{"$or":[{"source":["berth"]},{"source":["aws.cloudwatch"]}]}`, "the top level", `"$or"`},
		{`{"detail":{"lastStatus":[{"anything-but":"STOPPED"}]}}`, "detail.lastStatus", `"anything-but with a single value"`},
		{`{"detail":{"version":[{"anything-but":[1,2]}]}}`, "detail.version", `"anything-but with numbers"`},
		{`{"detail":{"group":[{"anything-but":{"prefix":"service:"}}]}}`, "detail.group", `"anything-but with prefix"`},
		{`{"detail":{"group":[{"anything-but":{"suffix":":web"}}]}}`, "detail.group", `"anything-but with suffix"`},
		{`{"detail":{"group":[{"anything-but":{"equals-ignore-case":"x"}}]}}`, "detail.group", `"anything-but with equals-ignore-case"`},
		{`{"detail":{"group":[{"anything-but":{"wildcard":"service:*"}}]}}`, "detail.group", `"anything-but with wildcard"`},
		{`{"detail":{"group":[{"prefix":{"equals-ignore-case":"SERVICE:"}}]}}`, "detail.group", `"prefix with equals-ignore-case"`},
		{`{"detail":{"group":[{"suffix":{"equals-ignore-case":":WEB"}}]}}`, "detail.group", `"suffix with equals-ignore-case"`},
		{`{"detail":{"reason":[{"exists":false},"RESOURCE:CPU"]}}`, "detail.reason", `"exists" must be the only value`},
		{`{"detail":{"reason":["x",{"anything-but":["y"]}]}}`, "detail.reason", `"anything-but" must be the only value`},
	}
	b, _ := newBus(t, Options{})
	if err := b.Subscribe("user", newInbox().handle); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		err := b.AddRuleJSON("user-rule", "user", tt.pattern)
		if !errors.Is(err, ErrUnsupportedPattern) {
			t.Errorf("%s: %v, want ErrUnsupportedPattern", tt.pattern, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.path+": "+tt.construct) {
			t.Errorf("%s: error %q should name %s: %s", tt.pattern, err, tt.path, tt.construct)
		}
	}
	if got := b.Rules(); len(got) != 0 {
		t.Errorf("refused rules were installed: %v", got)
	}
}

func TestUnsupportedPatternErrorsSuggestAnEquivalent(t *testing.T) {
	b, _ := newBus(t, Options{})
	if err := b.Subscribe("user", newInbox().handle); err != nil {
		t.Fatal(err)
	}
	err := b.AddRuleJSON("r", "user", `{"detail":{"lastStatus":[{"anything-but":"STOPPED"}]}}`)
	if err == nil || !strings.Contains(err.Error(), `{"anything-but": ["value"]}`) {
		t.Errorf("error %v should suggest the list form", err)
	}
	err = b.AddRuleJSON("r", "user", `{"detail":{"taskArn":[{"suffix":"0d9e"}]}}`)
	if err == nil || !strings.Contains(err.Error(), `{"wildcard": "*<suffix>"}`) {
		t.Errorf("error %v should suggest a wildcard", err)
	}
}

func TestInvalidPatternsAreRefusedAsEventBridgeWould(t *testing.T) {
	b, _ := newBus(t, Options{})
	if err := b.Subscribe("user", newInbox().handle); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		`{}`, `[]`, `{"source":"berth"}`, `{"source":[]}`,
		`{"source":[{"shellstyle":"b*"}]}`, // quamina's own operator: EventBridge does not know it
		`{"source":[{"prefix":"b","exists":true}]}`,
	} {
		if err := b.AddRuleJSON("r", "user", p); !errors.Is(err, bus.ErrInvalidPattern) {
			t.Errorf("%s: %v, want bus.ErrInvalidPattern", p, err)
		}
	}
}

func TestRuleManagement(t *testing.T) {
	b, _ := newBus(t, Options{})
	in := newInbox()
	if err := b.Subscribe("user", in.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("user", in.handle); err == nil {
		t.Error("a second handler for the same target was accepted")
	}
	pattern := `{"source":["berth"]}`
	if err := b.AddRuleJSON("r1", "nobody", pattern); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("rule for an unknown target: %v, want ErrUnknownTarget", err)
	}
	if err := b.AddRuleJSON("r1", "user", pattern); err != nil {
		t.Fatal(err)
	}
	if err := b.AddRuleJSON("r1", "user", pattern); !errors.Is(err, ErrRuleExists) {
		t.Errorf("duplicate rule: %v, want ErrRuleExists", err)
	}
	if err := b.AddRuleJSON("bad name!", "user", pattern); !errors.Is(err, bus.ErrInvalidRule) {
		t.Errorf("bad rule name: %v, want bus.ErrInvalidRule", err)
	}
	if err := b.AddRuleJSON("r2", "user", `{"detail-type":["Berth Service Change"]}`); err != nil {
		t.Fatal(err)
	}
	e := sample(t, "berth-service-change.json")
	if got, _ := b.Match(e); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("Match = %v, want [r1 r2]", got)
	}
	if err := b.RemoveRule("r1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Match(e); !slices.Equal(got, []string{"r2"}) {
		t.Errorf("after removing r1, Match = %v, want [r2]", got)
	}
	if err := b.RemoveRule("r1"); !errors.Is(err, ErrUnknownRule) {
		t.Errorf("removing twice: %v, want ErrUnknownRule", err)
	}
	if names := ruleNames(b.Rules()); !slices.Equal(names, []string{"r2"}) {
		t.Errorf("Rules() = %v, want [r2]", names)
	}
}

func ruleNames(rules []bus.Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Name)
	}
	return out
}

func TestInstallNeedsEveryTarget(t *testing.T) {
	b, _ := newBus(t, Options{})
	err := b.Install(map[string]bus.Handler{bus.TargetReconciler: newInbox().handle})
	if !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("Install without scaler and monitor: %v, want ErrUnknownTarget", err)
	}
}
