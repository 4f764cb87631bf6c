package placement

import "time"

// view is an instance as the query language sees it, plus the tasks of one
// group placed on it earlier in the same Place call (task:group sees them;
// runningTasksCount does not, as placed tasks are not running yet).
type view struct {
	in     *Instance
	group  string
	placed int
}

func (v *view) AgentConnected() bool    { return v.in.AgentConnected }
func (v *view) AgentVersion() string    { return v.in.AgentVersion }
func (v *view) EC2InstanceID() string   { return v.in.EC2InstanceID }
func (v *view) RegisteredAt() time.Time { return v.in.RegisteredAt }
func (v *view) RunningTasksCount() int  { return v.in.RunningTasksCount }

func (v *view) Attribute(name string) (string, bool) {
	value, ok := v.in.Attributes[name]
	return value, ok
}

func (v *view) TaskGroupCount(group string) int {
	n := v.in.Groups[group]
	if v.placed > 0 && group == v.group {
		n += v.placed
	}
	return n
}

func (v *view) TaskGroups(yield func(string) bool) {
	for g, n := range v.in.Groups {
		if g == v.group {
			n += v.placed
		}
		if n > 0 && !yield(g) {
			return
		}
	}
	if v.placed > 0 {
		if _, listed := v.in.Groups[v.group]; !listed {
			yield(v.group)
		}
	}
}
