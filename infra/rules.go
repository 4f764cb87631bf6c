package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/jsii-runtime-go"

	"github.com/berth-run/berth/shared/bus"
)

// eventPattern converts a shared/bus pattern to CDK's typed form, member
// for member, so the synthesized EventPattern is the shared definition
// exactly. A member CDK's form cannot carry is an error rather than a rule
// that silently matches more than intended.
func eventPattern(raw json.RawMessage) (*awsevents.EventPattern, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("event pattern is not a JSON object: %w", err)
	}
	p := &awsevents.EventPattern{}
	lists := map[string]**[]*string{
		"version": &p.Version, "id": &p.Id, "detail-type": &p.DetailType, "source": &p.Source,
		"account": &p.Account, "time": &p.Time, "region": &p.Region, "resources": &p.Resources,
	}
	for name, value := range members {
		if name == "detail" {
			var detail map[string]any
			if err := json.Unmarshal(value, &detail); err != nil {
				return nil, fmt.Errorf("event pattern member detail must be an object: %w", err)
			}
			p.Detail = &detail
			continue
		}
		field, ok := lists[name]
		if !ok {
			return nil, fmt.Errorf("event pattern member %q has no place in a CDK EventPattern", name)
		}
		var values []string
		if err := json.Unmarshal(value, &values); err != nil {
			return nil, fmt.Errorf("event pattern member %q must be a list of strings for CDK: %w", name, err)
		}
		*field = jsii.Strings(values...)
	}
	return p, nil
}

// fromAWSServices reports whether a pattern matches only events AWS
// services emit (every source is "aws.*"). AWS delivers those to the
// account's default bus only, so such rules must live there; Berth's own
// events are on its custom bus.
func fromAWSServices(raw json.RawMessage) (bool, error) {
	var p struct {
		Source []string `json:"source"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return false, fmt.Errorf("read event pattern source: %w", err)
	}
	return len(p.Source) > 0 && !slices.ContainsFunc(p.Source, func(s string) bool { return !bus.IsAWSSource(s) }), nil
}

// constructID turns a rule name such as berth-reconciler-task-state-change
// into a construct ID such as ReconcilerTaskStateChange.
func constructID(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(strings.TrimPrefix(name, "berth-"), func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
