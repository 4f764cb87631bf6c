package bus

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRulesAreValidForEventBridge(t *testing.T) {
	names := map[string]bool{}
	targets := map[string]bool{TargetReconciler: true, TargetScaler: true, TargetMonitor: true}
	for _, r := range Rules() {
		if err := ValidateRule(r); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		if names[r.Name] {
			t.Errorf("rule name %s is used twice", r.Name)
		}
		names[r.Name] = true
		if !targets[r.Target] {
			t.Errorf("%s: unknown target %q", r.Name, r.Target)
		}
		if r.Description == "" {
			t.Errorf("%s: no description", r.Name)
		}
		p, err := ParsePattern(r.Pattern)
		if err != nil {
			continue
		}
		if !hasExactMatcher(p, "source") || !hasExactMatcher(p, "detail-type") {
			t.Errorf("%s: pattern %s must pin source and detail-type", r.Name, r.Pattern)
		}
	}
	for _, s := range Schedules() {
		if err := ValidateSchedule(s); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if names[s.Name] {
			t.Errorf("schedule name %s is also a rule's", s.Name)
		}
		names[s.Name] = true
		if !targets[s.Target] {
			t.Errorf("%s: unknown target %q", s.Name, s.Target)
		}
	}
	for _, target := range []string{TargetReconciler, TargetScaler, TargetMonitor} {
		if !strings.Contains(strings.Join(ruleTargets(), ","), target) {
			t.Errorf("no rule or schedule reaches target %s", target)
		}
	}
}

func hasExactMatcher(p Pattern, path string) bool {
	for _, m := range p.Matchers {
		if m.Path == path && m.Kind == MatchExact {
			return true
		}
	}
	return false
}

func ruleTargets() []string {
	var out []string
	for _, r := range Rules() {
		out = append(out, r.Target)
	}
	for _, s := range Schedules() {
		out = append(out, s.Target)
	}
	return out
}

func TestMonitorRunsEveryMinute(t *testing.T) {
	for _, s := range Schedules() {
		if s.Target == TargetMonitor {
			if d, err := ParseRate(s.Expression); err != nil || d != time.Minute {
				t.Errorf("monitor schedule %q = %v, %v; want every minute", s.Expression, d, err)
			}
			return
		}
	}
	t.Error("no schedule targets the monitor")
}

func TestRulesReturnsACopy(t *testing.T) {
	a := Rules()
	a[0].Pattern[0] = 'X'
	a[0].Name = "changed"
	if b := Rules(); b[0].Name == "changed" || b[0].Pattern[0] != '{' {
		t.Error("changing Rules()'s result changed Berth's rules")
	}
}

func TestValidateRuleRefusesBadHeaders(t *testing.T) {
	good := Rules()[0]
	for name, mutate := range map[string]func(*Rule){
		"empty name":     func(r *Rule) { r.Name = "" },
		"bad name":       func(r *Rule) { r.Name = "has space" },
		"long name":      func(r *Rule) { r.Name = strings.Repeat("a", 65) },
		"long desc":      func(r *Rule) { r.Description = strings.Repeat("a", 513) },
		"no target":      func(r *Rule) { r.Target = "" },
		"invalid patter": func(r *Rule) { r.Pattern = []byte(`{"source":"berth"}`) },
	} {
		r := good
		mutate(&r)
		if err := ValidateRule(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	r := good
	r.Pattern = []byte(`{}`)
	if err := ValidateRule(r); !errors.Is(err, ErrInvalidPattern) {
		t.Errorf("empty pattern: %v, want ErrInvalidPattern", err)
	}
	if err := ValidateSchedule(Schedule{Name: "x", Expression: "rate(5 minute)", Target: "monitor"}); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("bad schedule: %v, want ErrInvalidRule", err)
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]time.Duration{
		"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute,
		"rate(1 hour)": time.Hour, "rate(2 hours)": 2 * time.Hour,
		"rate(1 day)": 24 * time.Hour, "rate(7 days)": 7 * 24 * time.Hour,
	}
	for expr, want := range good {
		if got, err := ParseRate(expr); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
	bad := map[string]string{
		"rate(1 minutes)":    "unit",
		"rate(2 minute)":     "unit",
		"rate(0 minutes)":    "positive",
		"rate(-1 minutes)":   "positive",
		"rate(01 minute)":    "positive",
		"rate(1 second)":     "unit",
		"rate(1minute)":      "not a rate",
		"rate(1 minute":      "not a rate",
		"every minute":       "not a rate",
		"cron(0 12 * * ? *)": "not cron",
		"":                   "not a rate",
	}
	for expr, reason := range bad {
		_, err := ParseRate(expr)
		if !errors.Is(err, ErrInvalidRule) || !strings.Contains(err.Error(), reason) {
			t.Errorf("ParseRate(%q) = %v, want ErrInvalidRule mentioning %q", expr, err, reason)
		}
	}
}
