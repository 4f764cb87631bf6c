package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Scope is what an event asks the reconciler to look at: one service, or
// every service of a cluster when ServiceName is "".
type Scope struct {
	ClusterArn  string
	ServiceName string
}

// ScopesOf reduces a batch of events to the scopes to reconcile, each once,
// in the order they first appear; a cluster-wide scope absorbs the service
// scopes of its cluster. This is how a burst becomes one reconcile per
// service. Task events of service tasks (group "service:<name>") and
// Berth Service Change events name a service; container instance events
// name their cluster (freed or lost capacity concerns every service there).
// Other events name nothing. Events whose detail cannot be read are skipped
// and reported in the error; the scopes of the others are still returned.
func ScopesOf(events []Event) ([]Scope, error) {
	var scopes []Scope
	var errs []error
	wholeCluster := map[string]bool{}
	seen := map[Scope]bool{}
	for _, e := range events {
		s, ok, err := scopeOf(e)
		if err != nil {
			errs = append(errs, err)
		}
		if !ok || seen[s] || wholeCluster[s.ClusterArn] {
			continue
		}
		seen[s] = true
		if s.ServiceName == "" {
			wholeCluster[s.ClusterArn] = true
		}
		scopes = append(scopes, s)
	}
	// Drop service scopes a later cluster-wide scope absorbed.
	kept := scopes[:0]
	for _, s := range scopes {
		if s.ServiceName == "" || !wholeCluster[s.ClusterArn] {
			kept = append(kept, s)
		}
	}
	return kept, errors.Join(errs...)
}

// scopeFields are the detail members scopes are read from.
type scopeFields struct {
	ClusterArn  string `json:"clusterArn"`
	Group       string `json:"group"`
	ServiceName string `json:"serviceName"`
}

func scopeOf(e Event) (Scope, bool, error) {
	switch e.DetailType {
	case DetailTypeTaskStateChange, DetailTypeServiceChange, DetailTypeContainerInstanceStateChange:
	default:
		return Scope{}, false, nil
	}
	var f scopeFields
	if err := json.Unmarshal(e.Detail, &f); err != nil {
		return Scope{}, false, fmt.Errorf("%w: event %s (%s): %w", ErrInvalidEvent, e.ID, e.DetailType, err)
	}
	if f.ClusterArn == "" {
		return Scope{}, false, fmt.Errorf("%w: event %s (%s): detail.clusterArn is missing", ErrInvalidEvent, e.ID, e.DetailType)
	}
	switch e.DetailType {
	case DetailTypeTaskStateChange:
		name, isService := strings.CutPrefix(f.Group, "service:")
		return Scope{ClusterArn: f.ClusterArn, ServiceName: name}, isService && name != "", nil
	case DetailTypeServiceChange:
		if f.ServiceName == "" {
			return Scope{}, false, fmt.Errorf("%w: event %s (%s): detail.serviceName is missing", ErrInvalidEvent, e.ID, e.DetailType)
		}
		return Scope{ClusterArn: f.ClusterArn, ServiceName: f.ServiceName}, true, nil
	default:
		return Scope{ClusterArn: f.ClusterArn}, true, nil
	}
}
