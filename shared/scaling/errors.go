package scaling

import (
	"fmt"
	"strings"

	"github.com/berth-run/berth/shared/ecs"
)

// Exception names exactly as Application Auto Scaling returns them in __type.
const (
	ValidationException           = "ValidationException"
	ObjectNotFoundException       = "ObjectNotFoundException"
	ConcurrentUpdateException     = "ConcurrentUpdateException"
	LimitExceededException        = "LimitExceededException"
	FailedResourceAccessException = "FailedResourceAccessException"
	InternalServiceException      = "InternalServiceException"
)

// AAS quotas Berth enforces.
const (
	MaxPoliciesPerTarget      = 50
	MaxStepAdjustments        = 20
	MaxScalableTargetTags     = 50
	maxResourceIDLength       = 1600
	maxPolicyNameLength       = 256
	maxTargetValueMagnitude   = 0x1p360 // AAS accepts TargetValue in [-2^360, 2^360]
	maxCustomizedMetricLength = 1 << 14
)

// Validation builds a ValidationException.
func Validation(format string, args ...any) *ecs.Error {
	return ecs.Errorf(ValidationException, format, args...)
}

// NoScalableTarget is AAS's ObjectNotFoundException for a missing target.
func NoScalableTarget(namespace, resourceID, dimension string) *ecs.Error {
	return ecs.Errorf(ObjectNotFoundException,
		"No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s",
		namespace, resourceID, dimension)
}

// NoScalingPolicy is AAS's ObjectNotFoundException for a missing policy.
func NoScalingPolicy(namespace, resourceID, dimension, policyName string) *ecs.Error {
	return ecs.Errorf(ObjectNotFoundException,
		"No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s",
		namespace, resourceID, dimension, policyName)
}

// ObjectNotFound builds an ObjectNotFoundException with a custom message.
func ObjectNotFound(format string, args ...any) *ecs.Error {
	return ecs.Errorf(ObjectNotFoundException, format, args...)
}

// ServiceDoesNotExist is what AAS answers when the ECS service behind a
// ResourceId is missing (a ValidationException, as AAS does).
func ServiceDoesNotExist(resourceID string) *ecs.Error {
	return Validation("ECS service doesn't exist: %s", resourceID)
}

// ConcurrentUpdate is returned when a conditional write on a target or
// policy lost a race and the caller should retry.
func ConcurrentUpdate() *ecs.Error {
	return ecs.Errorf(ConcurrentUpdateException,
		"You already have a pending update to an Application Auto Scaling resource.")
}

// PolicyLimitExceeded is returned when a target already has the maximum
// number of scaling policies.
func PolicyLimitExceeded(resourceID string) *ecs.Error {
	return ecs.Errorf(LimitExceededException,
		"Exceeded the limit of %d scaling policies for scalable target %s", MaxPoliciesPerTarget, resourceID)
}

// LimitExceeded builds a LimitExceededException with a custom message.
func LimitExceeded(format string, args ...any) *ecs.Error {
	return ecs.Errorf(LimitExceededException, format, args...)
}

// FailedResourceAccess is returned when the ECS service could not be read
// or updated on the target's behalf.
func FailedResourceAccess(format string, args ...any) *ecs.Error {
	return ecs.Errorf(FailedResourceAccessException, format, args...)
}

// InternalService wraps a failure of Berth itself; the caller sees a 5xx.
func InternalService(err error) *ecs.Error {
	return &ecs.Error{Code: InternalServiceException, Message: err.Error(), Fault: true}
}

// enumViolation is the standard AWS wording for a value outside an enum.
func enumViolation(field, value string, allowed ...string) *ecs.Error {
	return Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		value, wireField(field), strings.Join(allowed, ", "))
}

// missingMember is the standard AWS wording for an absent required member.
func missingMember(field string) *ecs.Error {
	return Validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", wireField(field))
}

// lengthViolation is the standard AWS wording for a string of bad length.
func lengthViolation(field, value string, lo, hi int) *ecs.Error {
	return Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between %d and %d",
		value, wireField(field), lo, hi)
}

// wireField spells a member path the way AWS's generic validation messages
// do: each segment with a lower-case first letter.
func wireField(path string) string {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		if s != "" {
			segs[i] = strings.ToLower(s[:1]) + s[1:]
		}
	}
	return strings.Join(segs, ".")
}

func fmtFloat(f float64) string { return fmt.Sprintf("%g", f) }
