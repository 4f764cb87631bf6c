package scaling

import (
	"strings"

	"github.com/berth-run/berth/shared/ecs"
)

// Service is the ECS service a scalable target scales, parsed from a
// ResourceId of the form service/<cluster>/<service>.
type Service struct {
	Cluster string
	Name    string
}

// ResourceID formats s as AAS's ResourceId.
func (s Service) ResourceID() string { return "service/" + s.Cluster + "/" + s.Name }

// ParseResourceID parses an ECS service ResourceId. field names the member
// in error messages.
func ParseResourceID(field, id string) (Service, error) {
	if id == "" {
		return Service{}, missingMember(field)
	}
	if len(id) > maxResourceIDLength {
		return Service{}, lengthViolation(field, id, 1, maxResourceIDLength)
	}
	kind, rest, _ := strings.Cut(id, "/")
	if kind != "service" {
		return Service{}, Validation("Unsupported service namespace, resource type or scalable dimension: %s %q is not an ECS service; it must be service/<cluster-name>/<service-name>", field, id)
	}
	cluster, name, ok := strings.Cut(rest, "/")
	if !ok || !ecs.ValidName(cluster) || !ecs.ValidName(name) {
		return Service{}, Validation("Invalid %s %q: it must be service/<cluster-name>/<service-name>, where cluster and service names are 1-255 letters, numbers, hyphens and underscores", field, id)
	}
	return Service{Cluster: cluster, Name: name}, nil
}

// TargetKey identifies a scalable target: the triple every AAS action names.
type TargetKey struct {
	ServiceNamespace  string
	ResourceID        string
	ScalableDimension string
}

// ValidateTargetKey checks the namespace, resource and dimension of any AAS
// request that names a scalable target, and returns the ECS service.
func ValidateTargetKey(k TargetKey) (Service, error) {
	if k.ServiceNamespace == "" {
		return Service{}, missingMember("ServiceNamespace")
	}
	if k.ServiceNamespace != NamespaceECS {
		return Service{}, Validation("Unsupported service namespace, resource type or scalable dimension: ServiceNamespace %s is not supported; Berth scales ECS services only (ecs)", k.ServiceNamespace)
	}
	if k.ScalableDimension == "" {
		return Service{}, missingMember("ScalableDimension")
	}
	if k.ScalableDimension != DimensionDesired {
		return Service{}, Validation("Unsupported service namespace, resource type or scalable dimension: ScalableDimension %s is not valid for service namespace ecs; use %s", k.ScalableDimension, DimensionDesired)
	}
	return ParseResourceID("ResourceId", k.ResourceID)
}

// ScalableTargetARN is arn:aws:application-autoscaling:<region>:<account>:scalable-target/<id>.
func ScalableTargetARN(a ecs.Account, id string) string {
	return "arn:aws:application-autoscaling:" + a.Region + ":" + a.ID + ":scalable-target/" + id
}

// ECSServiceLinkedRoleARN is the role AAS reports as a new ECS target's
// RoleARN when none is given.
func ECSServiceLinkedRoleARN(a ecs.Account) string {
	return "arn:aws:iam::" + a.ID + ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
}

// PolicyARN is AAS's scaling policy ARN:
// arn:aws:autoscaling:<region>:<account>:scalingPolicy:<id>:resource/ecs/<resource-id>:policyName/<name>.
func PolicyARN(a ecs.Account, id, resourceID, policyName string) string {
	return "arn:aws:autoscaling:" + a.Region + ":" + a.ID + ":scalingPolicy:" + id +
		":resource/" + NamespaceECS + "/" + resourceID + ":policyName/" + policyName
}

// AlarmARN is arn:aws:cloudwatch:<region>:<account>:alarm:<name>.
func AlarmARN(a ecs.Account, name string) string {
	return "arn:aws:cloudwatch:" + a.Region + ":" + a.ID + ":alarm:" + name
}

// AlarmNameFromARN returns the alarm name in a CloudWatch alarm ARN.
func AlarmNameFromARN(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "cloudwatch" || parts[5] != "alarm" || parts[6] == "" {
		return "", false
	}
	return parts[6], true
}
