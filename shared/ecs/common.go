package ecs

import "encoding/json"

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Failure is a per-item problem returned in failures[] instead of an error.
type Failure struct {
	Arn    string `json:"arn,omitempty"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// KeyValuePair is a name/value pair (environment variables, settings, details).
type KeyValuePair struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// Attribute is a name/value on a container instance (or another target).
type Attribute struct {
	Name       string `json:"name"`
	Value      string `json:"value,omitempty"`
	TargetType string `json:"targetType,omitempty"`
	TargetID   string `json:"targetId,omitempty"`
}

// PlacementConstraint is a constraint given to RunTask, CreateService or
// UpdateService (distinctInstance or memberOf).
type PlacementConstraint struct {
	Type       string `json:"type,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// PlacementStrategy is one strategy rule (binpack, spread or random).
type PlacementStrategy struct {
	Type  string `json:"type,omitempty"`
	Field string `json:"field,omitempty"`
}

// Attachment is an ENI or other attachment of a task or instance; Berth
// stores and returns them but creates none.
type Attachment struct {
	ID      string         `json:"id,omitempty"`
	Type    string         `json:"type,omitempty"`
	Status  string         `json:"status,omitempty"`
	Details []KeyValuePair `json:"details,omitempty"`
}

// CapacityProviderStrategyItem is accepted and echoed; Berth has no capacity providers.
type CapacityProviderStrategyItem struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int    `json:"weight,omitempty"`
	Base             int    `json:"base,omitempty"`
}

// Raw is a JSON value Berth accepts, stores and returns without interpreting
// it (networking, volumes and other AWS-only configuration).
type Raw = json.RawMessage
