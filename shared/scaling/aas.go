package scaling

import (
	"encoding/json"

	"github.com/berth-run/berth/shared/ecs"
)

// The one scalable target kind Berth serves: an ECS service's desired count.
const (
	NamespaceECS     = "ecs"
	DimensionDesired = "ecs:service:DesiredCount"
)

// Policy types (PutScalingPolicy PolicyType).
const (
	PolicyTypeStepScaling       = "StepScaling"
	PolicyTypeTargetTracking    = "TargetTrackingScaling"
	PolicyTypePredictiveScaling = "PredictiveScaling"
)

// Step scaling adjustment types.
const (
	ChangeInCapacity        = "ChangeInCapacity"
	PercentChangeInCapacity = "PercentChangeInCapacity"
	ExactCapacity           = "ExactCapacity"
)

// Step scaling metric aggregation types; empty means Average.
const (
	AggregationAverage = "Average"
	AggregationMinimum = "Minimum"
	AggregationMaximum = "Maximum"
)

// Predefined target-tracking metric types AAS accepts for ECS services.
const (
	MetricECSServiceCPU      = "ECSServiceAverageCPUUtilization"
	MetricECSServiceMemory   = "ECSServiceAverageMemoryUtilization"
	MetricALBRequestsPerTask = "ALBRequestCountPerTarget"
)

// DefaultCooldownSeconds is AAS's default for Cooldown, ScaleOutCooldown and
// ScaleInCooldown on ECS services.
const DefaultCooldownSeconds = 300

// Scaling activity status codes.
const (
	ActivityPending     = "Pending"
	ActivityInProgress  = "InProgress"
	ActivitySuccessful  = "Successful"
	ActivityOverridden  = "Overridden"
	ActivityUnfulfilled = "Unfulfilled"
	ActivityFailed      = "Failed"
)

// Not-scaled reason codes, as AAS reports them in NotScaledReasons.
const (
	NotScaledFlapping          = "AutoScalingAnticipatedFlapping"
	NotScaledUnscalable        = "TargetServicePutResourceAsUnscalable"
	NotScaledAtMaxCapacity     = "AlreadyAtMaxCapacity"
	NotScaledAtMinCapacity     = "AlreadyAtMinCapacity"
	NotScaledAtDesiredCapacity = "AlreadyAtDesiredCapacity"
)

// SuspendedState says which scaling activities are suspended on a target.
// AAS always returns all three members, so they are plain booleans here.
type SuspendedState struct {
	DynamicScalingInSuspended  bool `json:"DynamicScalingInSuspended"`
	DynamicScalingOutSuspended bool `json:"DynamicScalingOutSuspended"`
	ScheduledScalingSuspended  bool `json:"ScheduledScalingSuspended"`
}

// SuspendedStateInput is SuspendedState as a request carries it: an omitted
// member leaves the stored value unchanged.
type SuspendedStateInput struct {
	DynamicScalingInSuspended  *bool `json:"DynamicScalingInSuspended,omitempty"`
	DynamicScalingOutSuspended *bool `json:"DynamicScalingOutSuspended,omitempty"`
	ScheduledScalingSuspended  *bool `json:"ScheduledScalingSuspended,omitempty"`
}

// ScalableTarget is a registered scalable target in AAS wire shape.
type ScalableTarget struct {
	ServiceNamespace  string         `json:"ServiceNamespace"`
	ResourceID        string         `json:"ResourceId"`
	ScalableDimension string         `json:"ScalableDimension"`
	MinCapacity       int32          `json:"MinCapacity"`
	MaxCapacity       int32          `json:"MaxCapacity"`
	RoleARN           string         `json:"RoleARN,omitempty"`
	CreationTime      ecs.Timestamp  `json:"CreationTime,omitzero"`
	SuspendedState    SuspendedState `json:"SuspendedState"`
	ScalableTargetARN string         `json:"ScalableTargetARN,omitempty"`
}

// RegisterScalableTargetInput is the RegisterScalableTarget request.
type RegisterScalableTargetInput struct {
	ServiceNamespace  string               `json:"ServiceNamespace"`
	ResourceID        string               `json:"ResourceId"`
	ScalableDimension string               `json:"ScalableDimension"`
	MinCapacity       *int32               `json:"MinCapacity,omitempty"`
	MaxCapacity       *int32               `json:"MaxCapacity,omitempty"`
	RoleARN           string               `json:"RoleARN,omitempty"`
	SuspendedState    *SuspendedStateInput `json:"SuspendedState,omitempty"`
	Tags              map[string]string    `json:"Tags,omitempty"`
}

// StepAdjustment is one step of a step scaling policy. Bounds are offsets
// from the alarm threshold; nil means infinite (−∞ below, +∞ above).
type StepAdjustment struct {
	MetricIntervalLowerBound *float64 `json:"MetricIntervalLowerBound,omitempty"`
	MetricIntervalUpperBound *float64 `json:"MetricIntervalUpperBound,omitempty"`
	ScalingAdjustment        *int32   `json:"ScalingAdjustment,omitempty"`
}

// StepScalingPolicyConfiguration is a step scaling policy's configuration,
// kept as the user gave it (defaults are applied when it is evaluated, so
// DescribeScalingPolicies echoes what was put, as AAS does).
type StepScalingPolicyConfiguration struct {
	AdjustmentType         string           `json:"AdjustmentType,omitempty"`
	StepAdjustments        []StepAdjustment `json:"StepAdjustments,omitempty"`
	MinAdjustmentMagnitude *int32           `json:"MinAdjustmentMagnitude,omitempty"`
	Cooldown               *int32           `json:"Cooldown,omitempty"`
	MetricAggregationType  string           `json:"MetricAggregationType,omitempty"`
}

// CooldownSeconds is Cooldown or its default.
func (c *StepScalingPolicyConfiguration) CooldownSeconds() int32 {
	return int32OrDefault(c.Cooldown, DefaultCooldownSeconds)
}

// Aggregation is MetricAggregationType or its default, Average.
func (c *StepScalingPolicyConfiguration) Aggregation() string {
	if c.MetricAggregationType == "" {
		return AggregationAverage
	}
	return c.MetricAggregationType
}

// PredefinedMetricSpecification names one of AAS's predefined metrics.
type PredefinedMetricSpecification struct {
	PredefinedMetricType string `json:"PredefinedMetricType"`
	ResourceLabel        string `json:"ResourceLabel,omitempty"`
}

// TargetTrackingScalingPolicyConfiguration is a target tracking policy's
// configuration. CustomizedMetricSpecification is kept verbatim.
type TargetTrackingScalingPolicyConfiguration struct {
	TargetValue                   *float64                       `json:"TargetValue,omitempty"`
	PredefinedMetricSpecification *PredefinedMetricSpecification `json:"PredefinedMetricSpecification,omitempty"`
	CustomizedMetricSpecification json.RawMessage                `json:"CustomizedMetricSpecification,omitempty"`
	ScaleOutCooldown              *int32                         `json:"ScaleOutCooldown,omitempty"`
	ScaleInCooldown               *int32                         `json:"ScaleInCooldown,omitempty"`
	DisableScaleIn                *bool                          `json:"DisableScaleIn,omitempty"`
}

// Target is TargetValue (zero when absent; validation rejects that).
func (c *TargetTrackingScalingPolicyConfiguration) Target() float64 {
	if c.TargetValue == nil {
		return 0
	}
	return *c.TargetValue
}

// ScaleOutCooldownSeconds is ScaleOutCooldown or its default.
func (c *TargetTrackingScalingPolicyConfiguration) ScaleOutCooldownSeconds() int32 {
	return int32OrDefault(c.ScaleOutCooldown, DefaultCooldownSeconds)
}

// ScaleInCooldownSeconds is ScaleInCooldown or its default.
func (c *TargetTrackingScalingPolicyConfiguration) ScaleInCooldownSeconds() int32 {
	return int32OrDefault(c.ScaleInCooldown, DefaultCooldownSeconds)
}

// ScaleInDisabled reports DisableScaleIn (default false).
func (c *TargetTrackingScalingPolicyConfiguration) ScaleInDisabled() bool {
	return c.DisableScaleIn != nil && *c.DisableScaleIn
}

// Alarm names a CloudWatch alarm attached to a scaling policy.
type Alarm struct {
	AlarmName string `json:"AlarmName"`
	AlarmARN  string `json:"AlarmARN"`
}

// ScalingPolicy is a scaling policy in AAS wire shape.
type ScalingPolicy struct {
	PolicyARN                                string                                    `json:"PolicyARN"`
	PolicyName                               string                                    `json:"PolicyName"`
	ServiceNamespace                         string                                    `json:"ServiceNamespace"`
	ResourceID                               string                                    `json:"ResourceId"`
	ScalableDimension                        string                                    `json:"ScalableDimension"`
	PolicyType                               string                                    `json:"PolicyType"`
	StepScalingPolicyConfiguration           *StepScalingPolicyConfiguration           `json:"StepScalingPolicyConfiguration,omitempty"`
	TargetTrackingScalingPolicyConfiguration *TargetTrackingScalingPolicyConfiguration `json:"TargetTrackingScalingPolicyConfiguration,omitempty"`
	Alarms                                   []Alarm                                   `json:"Alarms,omitempty"`
	CreationTime                             ecs.Timestamp                             `json:"CreationTime,omitzero"`
}

// PutScalingPolicyInput is the PutScalingPolicy request.
type PutScalingPolicyInput struct {
	PolicyName                               string                                    `json:"PolicyName"`
	ServiceNamespace                         string                                    `json:"ServiceNamespace"`
	ResourceID                               string                                    `json:"ResourceId"`
	ScalableDimension                        string                                    `json:"ScalableDimension"`
	PolicyType                               string                                    `json:"PolicyType,omitempty"`
	StepScalingPolicyConfiguration           *StepScalingPolicyConfiguration           `json:"StepScalingPolicyConfiguration,omitempty"`
	TargetTrackingScalingPolicyConfiguration *TargetTrackingScalingPolicyConfiguration `json:"TargetTrackingScalingPolicyConfiguration,omitempty"`
	PredictiveScalingPolicyConfiguration     json.RawMessage                           `json:"PredictiveScalingPolicyConfiguration,omitempty"`
}

// NotScaledReason says why a triggered policy did not change capacity.
type NotScaledReason struct {
	Code            string `json:"Code"`
	CurrentCapacity *int32 `json:"CurrentCapacity,omitempty"`
	MaxCapacity     *int32 `json:"MaxCapacity,omitempty"`
	MinCapacity     *int32 `json:"MinCapacity,omitempty"`
}

// ScalingActivity is one scaling activity in AAS wire shape.
type ScalingActivity struct {
	ActivityID        string            `json:"ActivityId"`
	ServiceNamespace  string            `json:"ServiceNamespace"`
	ResourceID        string            `json:"ResourceId"`
	ScalableDimension string            `json:"ScalableDimension"`
	Description       string            `json:"Description"`
	Cause             string            `json:"Cause"`
	StartTime         ecs.Timestamp     `json:"StartTime"`
	EndTime           ecs.Timestamp     `json:"EndTime,omitzero"`
	StatusCode        string            `json:"StatusCode"`
	StatusMessage     string            `json:"StatusMessage,omitempty"`
	Details           string            `json:"Details,omitempty"`
	NotScaledReasons  []NotScaledReason `json:"NotScaledReasons,omitempty"`
}

func int32OrDefault(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
