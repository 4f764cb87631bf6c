package control

import (
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement/cql"
	"github.com/berth-run/berth/shared/store"
)

// instanceSubject lets the cluster query language read a stored instance.
// runningTasksCount counts the instance's tasks that have not stopped, the
// same figure placement uses.
type instanceSubject struct{ in *store.Instance }

func (s instanceSubject) AgentConnected() bool { return s.in.AgentConnected }

func (s instanceSubject) AgentVersion() string {
	if s.in.VersionInfo == nil {
		return ""
	}
	return s.in.VersionInfo.AgentVersion
}

func (s instanceSubject) Attribute(name string) (string, bool) { return s.in.AttributeValue(name) }
func (s instanceSubject) EC2InstanceID() string                { return s.in.Ec2InstanceID }
func (s instanceSubject) RegisteredAt() time.Time              { return s.in.RegisteredAt.Time }
func (s instanceSubject) RunningTasksCount() int               { return s.in.UnstoppedTasks() }
func (s instanceSubject) TaskGroupCount(group string) int      { return s.in.Berth.Groups[group] }

func (s instanceSubject) TaskGroups(yield func(string) bool) {
	for g, n := range s.in.Berth.Groups {
		if n > 0 && !yield(g) {
			return
		}
	}
}

// instanceFilter compiles ListContainerInstances' filter; an empty filter
// keeps every instance.
func (c *Control) instanceFilter(filter string) (func(store.Instance) bool, error) {
	if filter == "" {
		return func(store.Instance) bool { return true }, nil
	}
	expr, err := compileExpression("filter", filter)
	if err != nil {
		return nil, err
	}
	return func(in store.Instance) bool { return expr.Eval(instanceSubject{&in}) }, nil
}

// compileExpression compiles a cluster-query-language expression, naming
// the field in the error.
func compileExpression(field, expr string) (*cql.Expr, error) {
	if len(expr) > ecs.MaxExpressionLength {
		return nil, ecs.InvalidParameter("%s: expression is %d characters; the limit is %d", field, len(expr), ecs.MaxExpressionLength)
	}
	e, err := cql.Compile(expr)
	if err != nil {
		if ee, ok := ecs.AsError(err); ok {
			return nil, ecs.InvalidParameter("%s: %s", field, ee.Message)
		}
		return nil, ecs.InvalidParameter("%s: %v", field, err)
	}
	return e, nil
}
