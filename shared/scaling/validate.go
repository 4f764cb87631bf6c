package scaling

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/berth-run/berth/shared/ecs"
)

// ApplyRegisterScalableTarget validates a RegisterScalableTarget request as
// AAS does and returns the target to store: a new one when existing is nil
// (created at now, named arn), else existing updated with what in sets.
// Tags are validated here; the caller stores in.Tags.
func ApplyRegisterScalableTarget(in RegisterScalableTargetInput, existing *ScalableTarget, now time.Time, arn string) (ScalableTarget, error) {
	key := TargetKey{ServiceNamespace: in.ServiceNamespace, ResourceID: in.ResourceID, ScalableDimension: in.ScalableDimension}
	if _, err := ValidateTargetKey(key); err != nil {
		return ScalableTarget{}, err
	}
	if err := validateCapacityInputs(in.MinCapacity, in.MaxCapacity, existing == nil); err != nil {
		return ScalableTarget{}, err
	}
	if err := validateRoleARN(in.RoleARN); err != nil {
		return ScalableTarget{}, err
	}
	if err := ValidateTargetTags(in.Tags); err != nil {
		return ScalableTarget{}, err
	}
	t := ScalableTarget{
		ServiceNamespace:  in.ServiceNamespace,
		ResourceID:        in.ResourceID,
		ScalableDimension: in.ScalableDimension,
		CreationTime:      ecs.At(now),
		ScalableTargetARN: arn,
	}
	if existing != nil {
		t = *existing
	}
	if in.MinCapacity != nil {
		t.MinCapacity = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		t.MaxCapacity = *in.MaxCapacity
	}
	if t.MinCapacity > t.MaxCapacity {
		return ScalableTarget{}, Validation("Minimum capacity cannot be greater than maximum capacity (MinCapacity %d, MaxCapacity %d)", t.MinCapacity, t.MaxCapacity)
	}
	if in.RoleARN != "" {
		t.RoleARN = in.RoleARN
	}
	t.SuspendedState = mergeSuspended(t.SuspendedState, in.SuspendedState)
	return t, nil
}

func validateCapacityInputs(minCap, maxCap *int32, creating bool) error {
	if creating && (minCap == nil || maxCap == nil) {
		return Validation("MinCapacity and MaxCapacity are required when registering a new scalable target")
	}
	if minCap != nil && *minCap < 0 {
		return Validation("MinCapacity must be greater than or equal to 0, got %d", *minCap)
	}
	if maxCap != nil && *maxCap < 0 {
		return Validation("MaxCapacity must be greater than or equal to 0, got %d", *maxCap)
	}
	return nil
}

func validateRoleARN(arn string) error {
	if arn == "" {
		return nil
	}
	if len(arn) > maxResourceIDLength {
		return lengthViolation("RoleARN", arn, 1, maxResourceIDLength)
	}
	if !strings.HasPrefix(arn, "arn:") {
		return Validation("RoleARN %q is not a valid IAM role ARN", arn)
	}
	return nil
}

// ValidateTargetTags applies AAS's tag rules: at most 50 tags, keys 1-128
// characters without the reserved aws: prefix, values up to 256.
func ValidateTargetTags(tags map[string]string) error {
	if len(tags) > MaxScalableTargetTags {
		return Validation("Tags: at most %d tags are allowed, got %d", MaxScalableTargetTags, len(tags))
	}
	for k, v := range tags {
		switch {
		case k == "" || len(k) > 128:
			return Validation("Tags: key %q must be 1-128 characters", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return Validation("Tags: key %q uses the reserved prefix aws:", k)
		case len(v) > 256:
			return Validation("Tags: value of key %q must be at most 256 characters", k)
		}
	}
	return nil
}

func mergeSuspended(s SuspendedState, in *SuspendedStateInput) SuspendedState {
	if in == nil {
		return s
	}
	if in.DynamicScalingInSuspended != nil {
		s.DynamicScalingInSuspended = *in.DynamicScalingInSuspended
	}
	if in.DynamicScalingOutSuspended != nil {
		s.DynamicScalingOutSuspended = *in.DynamicScalingOutSuspended
	}
	if in.ScheduledScalingSuspended != nil {
		s.ScheduledScalingSuspended = *in.ScheduledScalingSuspended
	}
	return s
}

// ApplyPutScalingPolicy validates a PutScalingPolicy request as AAS does and
// returns the policy to store: a new one when existing is nil (created at
// now, named arn), else existing updated. On an update, an omitted
// PolicyType or configuration keeps the stored one. Alarms are kept when
// the type is unchanged; for target tracking the caller (re)creates them
// with TargetTrackingAlarms.
func ApplyPutScalingPolicy(in PutScalingPolicyInput, existing *ScalingPolicy, now time.Time, arn string) (ScalingPolicy, error) {
	if err := validatePolicyName(in.PolicyName); err != nil {
		return ScalingPolicy{}, err
	}
	key := TargetKey{ServiceNamespace: in.ServiceNamespace, ResourceID: in.ResourceID, ScalableDimension: in.ScalableDimension}
	if _, err := ValidateTargetKey(key); err != nil {
		return ScalingPolicy{}, err
	}
	typ, err := resolvePolicyType(in, existing)
	if err != nil {
		return ScalingPolicy{}, err
	}
	p := ScalingPolicy{
		PolicyARN:         arn,
		PolicyName:        in.PolicyName,
		ServiceNamespace:  in.ServiceNamespace,
		ResourceID:        in.ResourceID,
		ScalableDimension: in.ScalableDimension,
		CreationTime:      ecs.At(now),
	}
	sameType := existing != nil && existing.PolicyType == typ
	if existing != nil {
		p.PolicyARN, p.CreationTime = existing.PolicyARN, existing.CreationTime
		if sameType {
			p.Alarms = existing.Alarms
		}
	}
	p.PolicyType = typ
	switch typ {
	case PolicyTypeStepScaling:
		p.StepScalingPolicyConfiguration, err = resolveStepConfig(in, existing, sameType)
	case PolicyTypeTargetTracking:
		p.TargetTrackingScalingPolicyConfiguration, err = resolveTargetTrackingConfig(in, existing, sameType)
	}
	if err != nil {
		return ScalingPolicy{}, err
	}
	return p, nil
}

func validatePolicyName(name string) error {
	if name == "" {
		return missingMember("PolicyName")
	}
	if len(name) > maxPolicyNameLength {
		return lengthViolation("PolicyName", name, 1, maxPolicyNameLength)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return Validation("PolicyName %q must contain only printable characters", name)
		}
	}
	return nil
}

func resolvePolicyType(in PutScalingPolicyInput, existing *ScalingPolicy) (string, error) {
	typ := in.PolicyType
	if typ == "" {
		if existing == nil {
			return "", Validation("PolicyType is required when creating a scaling policy (StepScaling or TargetTrackingScaling)")
		}
		typ = existing.PolicyType
	}
	switch typ {
	case PolicyTypeStepScaling, PolicyTypeTargetTracking:
	case PolicyTypePredictiveScaling:
		return "", Validation("PolicyType PredictiveScaling is not supported by Berth; use StepScaling or TargetTrackingScaling")
	default:
		return "", enumViolation("PolicyType", typ, PolicyTypeStepScaling, PolicyTypeTargetTracking, PolicyTypePredictiveScaling)
	}
	if !absent(in.PredictiveScalingPolicyConfiguration) {
		return "", Validation("PredictiveScalingPolicyConfiguration can only be specified with PolicyType PredictiveScaling")
	}
	if typ == PolicyTypeStepScaling && in.TargetTrackingScalingPolicyConfiguration != nil {
		return "", Validation("TargetTrackingScalingPolicyConfiguration can only be specified with PolicyType TargetTrackingScaling, not StepScaling")
	}
	if typ == PolicyTypeTargetTracking && in.StepScalingPolicyConfiguration != nil {
		return "", Validation("StepScalingPolicyConfiguration can only be specified with PolicyType StepScaling, not TargetTrackingScaling")
	}
	return typ, nil
}

func resolveStepConfig(in PutScalingPolicyInput, existing *ScalingPolicy, sameType bool) (*StepScalingPolicyConfiguration, error) {
	c := in.StepScalingPolicyConfiguration
	if c == nil {
		if sameType && existing.StepScalingPolicyConfiguration != nil {
			return existing.StepScalingPolicyConfiguration, nil
		}
		return nil, Validation("StepScalingPolicyConfiguration is required for a StepScaling policy")
	}
	if err := ValidateStepScaling(c); err != nil {
		return nil, err
	}
	return c, nil
}

func resolveTargetTrackingConfig(in PutScalingPolicyInput, existing *ScalingPolicy, sameType bool) (*TargetTrackingScalingPolicyConfiguration, error) {
	c := in.TargetTrackingScalingPolicyConfiguration
	if c == nil {
		if sameType && existing.TargetTrackingScalingPolicyConfiguration != nil {
			return existing.TargetTrackingScalingPolicyConfiguration, nil
		}
		return nil, Validation("TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy")
	}
	if err := ValidateTargetTracking(c); err != nil {
		return nil, err
	}
	if len(c.CustomizedMetricSpecification) > 0 && absent(c.CustomizedMetricSpecification) {
		cp := *c
		cp.CustomizedMetricSpecification = nil
		c = &cp
	}
	return c, nil
}

// absent reports whether a verbatim JSON member is missing or null.
func absent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

const stepField = "StepScalingPolicyConfiguration"

// ValidateStepScaling applies AAS's rules to a step scaling configuration.
func ValidateStepScaling(c *StepScalingPolicyConfiguration) error {
	switch c.AdjustmentType {
	case ChangeInCapacity, PercentChangeInCapacity, ExactCapacity:
	case "":
		return Validation("%s.AdjustmentType is required for a step scaling policy (ChangeInCapacity, PercentChangeInCapacity or ExactCapacity)", stepField)
	default:
		return enumViolation(stepField+".AdjustmentType", c.AdjustmentType, ChangeInCapacity, PercentChangeInCapacity, ExactCapacity)
	}
	switch c.MetricAggregationType {
	case "", AggregationAverage, AggregationMinimum, AggregationMaximum:
	default:
		return enumViolation(stepField+".MetricAggregationType", c.MetricAggregationType, AggregationAverage, AggregationMinimum, AggregationMaximum)
	}
	if c.MinAdjustmentMagnitude != nil {
		if c.AdjustmentType != PercentChangeInCapacity {
			return Validation("%s.MinAdjustmentMagnitude is only supported with AdjustmentType PercentChangeInCapacity, not %s", stepField, c.AdjustmentType)
		}
		if *c.MinAdjustmentMagnitude < 1 {
			return Validation("%s.MinAdjustmentMagnitude must be at least 1, got %d", stepField, *c.MinAdjustmentMagnitude)
		}
	}
	if c.Cooldown != nil && *c.Cooldown < 0 {
		return Validation("%s.Cooldown must be greater than or equal to 0, got %d", stepField, *c.Cooldown)
	}
	return validateSteps(c.AdjustmentType, c.StepAdjustments)
}

func validateSteps(adjustmentType string, steps []StepAdjustment) error {
	if len(steps) == 0 {
		return Validation("%s.StepAdjustments must contain at least one step adjustment", stepField)
	}
	if len(steps) > MaxStepAdjustments {
		return Validation("There can be at most %d step adjustments per scaling policy; %s.StepAdjustments has %d", MaxStepAdjustments, stepField, len(steps))
	}
	for i, s := range steps {
		if err := validateStep(adjustmentType, i, s); err != nil {
			return err
		}
	}
	if err := atMostOneOpen(steps); err != nil {
		return err
	}
	return validateCoverage(steps)
}

func validateStep(adjustmentType string, i int, s StepAdjustment) error {
	field := stepAdjustmentField(i)
	if s.ScalingAdjustment == nil {
		return Validation("%s.ScalingAdjustment is required", field)
	}
	if adjustmentType == ExactCapacity && *s.ScalingAdjustment < 0 {
		return Validation("%s.ScalingAdjustment must be non-negative for AdjustmentType ExactCapacity, got %d", field, *s.ScalingAdjustment)
	}
	lo, hi := s.MetricIntervalLowerBound, s.MetricIntervalUpperBound
	if lo == nil && hi == nil {
		return Validation("Both lower and upper bounds of a step adjustment cannot be left unspecified (%s)", field)
	}
	for _, b := range []*float64{lo, hi} {
		if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
			return Validation("%s: bounds must be finite numbers", field)
		}
	}
	if lo != nil && hi != nil && *hi <= *lo {
		return Validation("%s.MetricIntervalUpperBound (%s) must be greater than MetricIntervalLowerBound (%s)", field, fmtFloat(*hi), fmtFloat(*lo))
	}
	return nil
}

func stepAdjustmentField(i int) string {
	return stepField + ".StepAdjustments[" + strconv.Itoa(i) + "]"
}

func atMostOneOpen(steps []StepAdjustment) error {
	openLow, openHigh := -1, -1
	for i, s := range steps {
		if s.MetricIntervalLowerBound == nil {
			if openLow >= 0 {
				return Validation("At most one step adjustment can have an unspecified lower bound: %s and %s both do", stepAdjustmentField(openLow), stepAdjustmentField(i))
			}
			openLow = i
		}
		if s.MetricIntervalUpperBound == nil {
			if openHigh >= 0 {
				return Validation("At most one step adjustment can have an unspecified upper bound: %s and %s both do", stepAdjustmentField(openHigh), stepAdjustmentField(i))
			}
			openHigh = i
		}
	}
	return nil
}

// validateCoverage checks that the steps' intervals, in order, neither
// overlap nor leave a gap, and that the covered range reaches −∞ when it
// starts below the threshold and +∞ when it ends above it.
func validateCoverage(steps []StepAdjustment) error {
	order := make([]int, len(steps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return compareLower(steps[a].MetricIntervalLowerBound, steps[b].MetricIntervalLowerBound)
	})
	for k := 1; k < len(order); k++ {
		prev, next := order[k-1], order[k]
		hi, lo := steps[prev].MetricIntervalUpperBound, steps[next].MetricIntervalLowerBound
		switch {
		case hi == nil || *hi > *lo:
			return Validation("Step adjustment intervals must not overlap: %s and %s overlap", stepAdjustmentField(prev), stepAdjustmentField(next))
		case *hi < *lo:
			return Validation("Step adjustment intervals must not have gaps: %s ends at %s but %s starts at %s", stepAdjustmentField(prev), fmtFloat(*hi), stepAdjustmentField(next), fmtFloat(*lo))
		}
	}
	first, last := steps[order[0]], steps[order[len(order)-1]]
	if lo := first.MetricIntervalLowerBound; lo != nil && *lo < 0 {
		return Validation("%s has a negative lower bound (%s), so one step adjustment must have an unspecified lower bound", stepAdjustmentField(order[0]), fmtFloat(*lo))
	}
	if hi := last.MetricIntervalUpperBound; hi != nil && *hi > 0 {
		return Validation("%s has a positive upper bound (%s), so one step adjustment must have an unspecified upper bound", stepAdjustmentField(order[len(order)-1]), fmtFloat(*hi))
	}
	return nil
}

// compareLower orders lower bounds with nil (−∞) first.
func compareLower(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	case *a < *b:
		return -1
	case *a > *b:
		return 1
	}
	return 0
}

const ttField = "TargetTrackingScalingPolicyConfiguration"

// ValidateTargetTracking applies AAS's rules (and Berth's, where noted) to
// a target tracking configuration.
func ValidateTargetTracking(c *TargetTrackingScalingPolicyConfiguration) error {
	if err := validateTargetValue(c.TargetValue); err != nil {
		return err
	}
	hasPredefined, hasCustom := c.PredefinedMetricSpecification != nil, !absent(c.CustomizedMetricSpecification)
	switch {
	case hasPredefined && hasCustom:
		return Validation("%s: specify only one of PredefinedMetricSpecification or CustomizedMetricSpecification", ttField)
	case !hasPredefined && !hasCustom:
		return Validation("%s: one of PredefinedMetricSpecification or CustomizedMetricSpecification is required", ttField)
	case hasPredefined:
		if err := validatePredefined(c.PredefinedMetricSpecification); err != nil {
			return err
		}
	default:
		if _, err := parseCustomizedMetric(c.CustomizedMetricSpecification); err != nil {
			return err
		}
	}
	if v := c.ScaleOutCooldown; v != nil && *v < 0 {
		return Validation("%s.ScaleOutCooldown must be greater than or equal to 0, got %d", ttField, *v)
	}
	if v := c.ScaleInCooldown; v != nil && *v < 0 {
		return Validation("%s.ScaleInCooldown must be greater than or equal to 0, got %d", ttField, *v)
	}
	return nil
}

func validateTargetValue(v *float64) error {
	switch {
	case v == nil:
		return Validation("%s.TargetValue is required", ttField)
	case math.IsNaN(*v) || math.Abs(*v) > maxTargetValueMagnitude:
		return Validation("%s.TargetValue must be in the range of -2^360 to 2^360", ttField)
	case *v <= 0:
		// Berth's rule: capacity is scaled by metric/TargetValue, which needs a positive target.
		return Validation("%s.TargetValue must be greater than 0, got %s", ttField, fmtFloat(*v))
	}
	return nil
}

// albResourceLabel is app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>.
var albResourceLabel = regexp.MustCompile(`^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$`)

func validatePredefined(p *PredefinedMetricSpecification) error {
	field := ttField + ".PredefinedMetricSpecification"
	switch p.PredefinedMetricType {
	case MetricECSServiceCPU, MetricECSServiceMemory:
		if p.ResourceLabel != "" {
			return Validation("%s.ResourceLabel can only be specified with PredefinedMetricType %s", field, MetricALBRequestsPerTask)
		}
	case MetricALBRequestsPerTask:
		if p.ResourceLabel == "" {
			return Validation("%s.ResourceLabel is required with PredefinedMetricType %s", field, MetricALBRequestsPerTask)
		}
		if len(p.ResourceLabel) > 1023 || !albResourceLabel.MatchString(p.ResourceLabel) {
			return Validation("%s.ResourceLabel %q must be app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>", field, p.ResourceLabel)
		}
	case "":
		return Validation("%s.PredefinedMetricType is required", field)
	default:
		return Validation("%s.PredefinedMetricType %s is not supported for ecs:service:DesiredCount; use %s, %s or %s",
			field, p.PredefinedMetricType, MetricECSServiceCPU, MetricECSServiceMemory, MetricALBRequestsPerTask)
	}
	return nil
}

// customizedMetric is the part of CustomizedMetricSpecification Berth reads.
type customizedMetric struct {
	MetricName string            `json:"MetricName"`
	Namespace  string            `json:"Namespace"`
	Dimensions []MetricDimension `json:"Dimensions"`
	Statistic  string            `json:"Statistic"`
	Unit       string            `json:"Unit"`
	Metrics    json.RawMessage   `json:"Metrics"`
}

var metricStatistics = []string{"Average", "Minimum", "Maximum", "SampleCount", "Sum"}

func parseCustomizedMetric(raw json.RawMessage) (customizedMetric, error) {
	field := ttField + ".CustomizedMetricSpecification"
	var m customizedMetric
	if len(raw) > maxCustomizedMetricLength {
		return m, Validation("%s is too large (%d bytes)", field, len(raw))
	}
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' {
		return m, Validation("%s must be an object", field)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, Validation("%s is malformed: %v", field, err)
	}
	if !absent(m.Metrics) {
		return m, Validation("%s.Metrics (metric math) is not supported by Berth; give MetricName, Namespace, Dimensions and Statistic", field)
	}
	switch {
	case m.MetricName == "":
		return m, Validation("%s.MetricName is required", field)
	case m.Namespace == "":
		return m, Validation("%s.Namespace is required", field)
	case m.Statistic == "":
		return m, Validation("%s.Statistic is required", field)
	case !slices.Contains(metricStatistics, m.Statistic):
		return m, enumViolation(field+".Statistic", m.Statistic, metricStatistics...)
	}
	for i, d := range m.Dimensions {
		if d.Name == "" || d.Value == "" {
			return m, Validation("%s.Dimensions[%d] needs both Name and Value", field, i)
		}
	}
	return m, nil
}
