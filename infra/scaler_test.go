package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestCloudWatchGrants: each function gets exactly the CloudWatch actions
// its work needs, on the narrowest resources: the scaler and the monitor
// read alarms (DescribeAlarms on the account's alarms), the api manages
// target-tracking alarms (on TargetTracking-* only) and publishes agents'
// metrics (in Berth's namespace only); nothing else touches CloudWatch.
func TestCloudWatchGrants(t *testing.T) {
	s := synthConfig(t, "default")
	want := map[string]map[string]string{
		"scaler":  {"cloudwatch:DescribeAlarms": ":alarm:*"},
		"monitor": {"cloudwatch:DescribeAlarms": ":alarm:*"},
		"api": {
			"cloudwatch:PutMetricAlarm": ":alarm:TargetTracking-*",
			"cloudwatch:DeleteAlarms":   ":alarm:TargetTracking-*",
			"cloudwatch:PutMetricData":  "*",
		},
	}
	roleOf := map[string]string{}
	for name, f := range s.stack.Functions {
		roleOf[s.logicalID(f.Role().Node().DefaultChild())] = name
	}
	got := map[string]map[string]string{}
	for _, id := range s.ofType("AWS::IAM::Policy") {
		props := s.resources[id].Properties
		roles := normalize(props["Roles"])
		fn := ""
		if refs, ok := roles.([]any); ok && len(refs) == 1 {
			if r, ok := refs[0].(map[string]any); ok {
				fn = roleOf[r["Ref"].(string)]
			}
		}
		for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			for _, a := range stringsOf(st["Action"]) {
				if !strings.HasPrefix(a, "cloudwatch:") {
					continue
				}
				if got[fn] == nil {
					got[fn] = map[string]string{}
				}
				got[fn][a] = strings.Join(flatten(normalize(st["Resource"])), "")
				if a == "cloudwatch:PutMetricData" && !namespaceScoped(st) {
					t.Errorf("%s: PutMetricData without a namespace condition", fn)
				}
			}
		}
	}
	for fn, actions := range want {
		for a, resource := range actions {
			if !strings.HasSuffix(got[fn][a], resource) {
				t.Errorf("%s: %s on %q, want on ...%s", fn, a, got[fn][a], resource)
			}
		}
	}
	for fn, actions := range got {
		for a := range actions {
			if _, ok := want[fn][a]; !ok {
				t.Errorf("%s is granted %s", fn, a)
			}
		}
	}
}

// flatten collects the strings of a CloudFormation value (Fn::Join and all).
func flatten(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, flatten(x)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, flatten(v[k])...)
		}
		return out
	}
	return nil
}
