package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestOnlyTheScalerReadsAlarms: the scaler's role may describe the
// account's alarms (and nothing else of CloudWatch); no other function's may.
func TestOnlyTheScalerReadsAlarms(t *testing.T) {
	s := synthConfig(t, "default")
	scalerRole := s.logicalID(s.stack.Functions["scaler"].Role().Node().DefaultChild())
	granted := 0
	for _, id := range s.ofType("AWS::IAM::Policy") {
		props := s.resources[id].Properties
		roles := normalize(props["Roles"])
		isScaler := jsonEqual(roles, []any{ref(scalerRole)})
		for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			for _, a := range stringsOf(st["Action"]) {
				if !strings.HasPrefix(a, "cloudwatch:") {
					continue
				}
				if !isScaler || a != "cloudwatch:DescribeAlarms" {
					t.Errorf("policy %s (roles %v) grants %s", id, roles, a)
					continue
				}
				granted++
				resource := normalize(st["Resource"])
				if !strings.Contains(strings.Join(flatten(resource), ""), ":alarm:*") {
					t.Errorf("DescribeAlarms is granted on %v, want the account's alarms", resource)
				}
			}
		}
	}
	if granted != 1 {
		t.Fatalf("the scaler's role grants cloudwatch:DescribeAlarms %d times, want once", granted)
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
