package ecs

import (
	"strconv"
	"strings"
)

// Account places resources in a region and account, so it can name them
// with ECS's long ARN formats.
type Account struct {
	Region string
	ID     string
}

func (a Account) arn(resource string) string {
	return "arn:aws:ecs:" + a.Region + ":" + a.ID + ":" + resource
}

// ClusterARN is arn:aws:ecs:<region>:<account>:cluster/<name>.
func (a Account) ClusterARN(name string) string { return a.arn("cluster/" + name) }

// TaskDefinitionARN is arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>.
func (a Account) TaskDefinitionARN(family string, revision int) string {
	return a.arn("task-definition/" + family + ":" + strconv.Itoa(revision))
}

// ContainerInstanceARN is arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id>.
func (a Account) ContainerInstanceARN(cluster, id string) string {
	return a.arn("container-instance/" + cluster + "/" + id)
}

// TaskARN is arn:aws:ecs:<region>:<account>:task/<cluster>/<id>.
func (a Account) TaskARN(cluster, id string) string { return a.arn("task/" + cluster + "/" + id) }

// ContainerARN is arn:aws:ecs:<region>:<account>:container/<cluster>/<task-id>/<container-id>.
func (a Account) ContainerARN(cluster, taskID, id string) string {
	return a.arn("container/" + cluster + "/" + taskID + "/" + id)
}

// ServiceARN is arn:aws:ecs:<region>:<account>:service/<cluster>/<name>.
func (a Account) ServiceARN(cluster, name string) string {
	return a.arn("service/" + cluster + "/" + name)
}

// ARN is a parsed ECS ARN: Type is the resource type (cluster, task,
// container-instance, task-definition, service, container) and Path the
// slash-separated parts after it.
type ARN struct {
	Region  string
	Account string
	Type    string
	Path    []string
}

// ParseARN splits an ECS ARN; ok is false when s is not one.
func ParseARN(s string) (ARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" || parts[5] == "" {
		return ARN{}, false
	}
	typ, rest, found := strings.Cut(parts[5], "/")
	if !found || rest == "" {
		return ARN{}, false
	}
	path := strings.Split(rest, "/")
	for _, p := range path {
		if p == "" {
			return ARN{}, false
		}
	}
	return ARN{Region: parts[3], Account: parts[4], Type: typ, Path: path}, true
}

// IsARN reports whether s looks like any ARN (starts with "arn:").
func IsARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// ClusterName resolves a cluster given by name or ARN; "" means the default
// cluster, as in every ECS action.
func ClusterName(ref string) (string, error) {
	if ref == "" {
		return DefaultCluster, nil
	}
	if !IsARN(ref) {
		if !validName(ref) {
			return "", InvalidParameter("cluster: %q is not a valid cluster name or ARN", ref)
		}
		return ref, nil
	}
	a, ok := ParseARN(ref)
	if !ok || a.Type != "cluster" || len(a.Path) != 1 || !validName(a.Path[0]) {
		return "", InvalidParameter("cluster: %q is not a valid cluster ARN", ref)
	}
	return a.Path[0], nil
}

// ScopedID resolves a task or container instance given by ID or long ARN.
// kind is the ARN resource type ("task" or "container-instance"); when ref is
// an ARN, its cluster must be cluster.
func ScopedID(kind, field, cluster, ref string) (string, error) {
	if ref == "" {
		return "", InvalidParameter("%s: must not be empty", field)
	}
	if !IsARN(ref) {
		if !validID(ref) {
			return "", InvalidParameter("%s: %q is not a valid %s ID or ARN", field, ref, kind)
		}
		return ref, nil
	}
	a, ok := ParseARN(ref)
	if !ok || a.Type != kind || len(a.Path) != 2 || !validID(a.Path[1]) {
		return "", InvalidParameter("%s: %q is not a valid %s ARN", field, ref, kind)
	}
	if a.Path[0] != cluster {
		return "", InvalidParameter("%s: %q belongs to cluster %q, not %q", field, ref, a.Path[0], cluster)
	}
	return a.Path[1], nil
}

// TaskDefinitionRef is what a user may pass as taskDefinition: a family
// (meaning its latest ACTIVE revision), family:revision, or a full ARN.
type TaskDefinitionRef struct {
	Family   string
	Revision int // 0 means the latest ACTIVE revision
}

// ParseTaskDefinitionRef parses family, family:revision or a task-definition ARN.
func ParseTaskDefinitionRef(field, ref string) (TaskDefinitionRef, error) {
	if ref == "" {
		return TaskDefinitionRef{}, InvalidParameter("%s: must not be empty", field)
	}
	s := ref
	if IsARN(ref) {
		a, ok := ParseARN(ref)
		if !ok || a.Type != "task-definition" || len(a.Path) != 1 || !strings.Contains(a.Path[0], ":") {
			return TaskDefinitionRef{}, InvalidParameter("%s: %q is not a valid task definition ARN", field, ref)
		}
		s = a.Path[0]
	}
	family, rev, hasRev := strings.Cut(s, ":")
	if !validName(family) {
		return TaskDefinitionRef{}, InvalidParameter("%s: %q: family must be 1-255 letters, numbers, hyphens and underscores", field, ref)
	}
	if !hasRev {
		return TaskDefinitionRef{Family: family}, nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || strconv.Itoa(n) != rev {
		return TaskDefinitionRef{}, InvalidParameter("%s: %q: revision must be a positive integer", field, ref)
	}
	return TaskDefinitionRef{Family: family, Revision: n}, nil
}

// String formats the reference as family or family:revision.
func (r TaskDefinitionRef) String() string {
	if r.Revision == 0 {
		return r.Family
	}
	return r.Family + ":" + strconv.Itoa(r.Revision)
}

// validName is ECS's rule for cluster, family and service names:
// 1-255 letters, numbers, hyphens and underscores.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidName reports whether s is a valid cluster, family or service name.
func ValidName(s string) bool { return validName(s) }

// validID accepts the IDs Berth issues (32 lowercase hex digits) and, for
// tolerance, any 1-255 name-safe string.
func validID(s string) bool { return validName(s) }
