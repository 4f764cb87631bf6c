package control

import (
	"context"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
	"github.com/berth-run/berth/shared/store"
)

// StartTaskInput is StartTask's request.
type StartTaskInput struct {
	Cluster              string            `json:"cluster"`
	ContainerInstances   []string          `json:"containerInstances"`
	TaskDefinition       string            `json:"taskDefinition"`
	Group                string            `json:"group"`
	StartedBy            string            `json:"startedBy"`
	Overrides            *ecs.TaskOverride `json:"overrides"`
	NetworkConfiguration ecs.Raw           `json:"networkConfiguration"`
	PropagateTags        string            `json:"propagateTags"`
	ReferenceID          string            `json:"referenceId"`
	Tags                 []ecs.Tag         `json:"tags"`
	EnableECSManagedTags bool              `json:"enableECSManagedTags"`
	EnableExecuteCommand bool              `json:"enableExecuteCommand"`
	VolumeConfigurations []ecs.Raw         `json:"volumeConfigurations"`
}

// StartTask starts one task on each named instance (no placement
// strategies); an instance that cannot take it is a failure with ECS's
// reason (MISSING, INACTIVE, AGENT, RESOURCE:*).
func (c *Control) StartTask(ctx context.Context, in *StartTaskInput) (*TasksOutput, error) {
	if len(in.ContainerInstances) == 0 {
		return nil, ecs.InvalidParameter("containerInstances: is required")
	}
	if err := maxItems("containerInstances", len(in.ContainerInstances), MaxRunTaskCount); err != nil {
		return nil, err
	}
	req, err := c.taskRequest(ctx, in.Cluster, in.TaskDefinition, in.Group, in.StartedBy, in.Overrides, in.Tags, in.PropagateTags)
	if err != nil {
		return nil, err
	}
	ids, err := scopedIDs("container-instance", "containerInstances", req.cluster, in.ContainerInstances)
	if err != nil {
		return nil, err
	}
	var out *TasksOutput
	err = retryPlan(ctx, func() error {
		var err error
		out, err = c.startOn(ctx, req, ids)
		return err
	})
	return out, err
}

// startOn places one task on each instance in turn, each seeing the ones
// placed before it, and commits them together.
func (c *Control) startOn(ctx context.Context, req taskRequest, ids []string) (*TasksOutput, error) {
	found, missing, err := c.db.InstancesByID(ctx, req.cluster, ids)
	if err != nil {
		return nil, err
	}
	out := &TasksOutput{Tasks: []ecs.Task{}, Failures: []ecs.Failure{}}
	for _, id := range missing {
		out.Failures = append(out.Failures, ecs.Failure{Arn: c.acct.ContainerInstanceARN(req.cluster, id), Reason: ecs.ReasonMissing})
	}
	candidates, err := placementInstances(found)
	if err != nil {
		return nil, err
	}
	preq := placement.Request{Count: 1, Needs: ecs.TaskRequirements(&req.td, req.overrides), Group: req.group,
		TaskDefinitionConstraints: req.td.PlacementConstraints, RequiresAttributes: req.td.RequiresAttributes}
	var tasks []store.Task
	for i := range found {
		res, err := placement.Place(candidates[i:i+1], preq)
		if err != nil {
			return nil, err
		}
		if len(res.Placements) == 0 {
			out.Failures = append(out.Failures, runTaskFailures(res)...)
			continue
		}
		t := c.newTask(req, &found[i])
		tasks = append(tasks, t)
		takeFrom(&candidates[i], preq)
	}
	if len(tasks) == 0 {
		return out, nil
	}
	if err := c.db.CommitPlacement(ctx, found, tasks, nil); err != nil {
		return nil, err
	}
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, t.Task)
	}
	return out, nil
}

// takeFrom accounts one placed task on a candidate, for the next placement
// on the same instance within one call.
func takeFrom(in *placement.Instance, req placement.Request) {
	in.Remaining.CPU -= req.Needs.CPU
	in.Remaining.Memory -= req.Needs.Memory
	in.Remaining.GPUs -= req.Needs.GPUs
	in.Remaining.Ports = append(append([]int(nil), in.Remaining.Ports...), req.Needs.Ports...)
	in.Remaining.PortsUDP = append(append([]int(nil), in.Remaining.PortsUDP...), req.Needs.PortsUDP...)
	groups := make(map[string]int, len(in.Groups)+1)
	for g, n := range in.Groups {
		groups[g] = n
	}
	groups[req.Group]++
	in.Groups = groups
	in.RunningTasksCount++
}

// StopTaskInput is StopTask's request.
type StopTaskInput struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	Reason  string `json:"reason"`
}

// TaskOutput is StopTask's response.
type TaskOutput struct {
	Task ecs.Task `json:"task"`
}

// defaultStopReason is the stoppedReason of a StopTask without a reason.
const defaultStopReason = "Task stopped by user"

// StopTask asks a task to stop: its agent stops the containers (stop
// signal, then SIGKILL after the stop timeout) and reports it STOPPED. A
// task whose instance is gone is stopped at once.
func (c *Control) StopTask(ctx context.Context, in *StopTaskInput) (*TaskOutput, error) {
	if len(in.Reason) > 255 {
		return nil, ecs.InvalidParameter("reason: must be at most 255 characters")
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	id, err := ecs.ScopedID("task", "task", cluster, in.Task)
	if err != nil {
		return nil, err
	}
	reason := in.Reason
	if reason == "" {
		reason = defaultStopReason
	}
	t, err := c.db.UpdateTask(ctx, cluster, id, func(t *store.Task) error {
		if t.DesiredStatus == ecs.TaskStopped {
			return store.ErrUnchanged
		}
		t.DesiredStatus = ecs.TaskStopped
		t.StopCode = ecs.StopUserInitiated
		t.StoppedReason = reason
		return nil
	})
	if store.IsTaskNotFound(err) {
		return nil, ecs.InvalidParameter("task: %s does not exist in cluster %s", id, cluster)
	}
	if err != nil {
		return nil, err
	}
	if !t.Stopped() {
		if gone, err := c.instanceGone(ctx, cluster, t.Berth.InstanceID); err != nil {
			return nil, err
		} else if gone {
			if err := c.forceStop(ctx, cluster, id, reason, ecs.StopUserInitiated); err != nil {
				return nil, err
			}
			t, err = c.db.Task(ctx, cluster, id)
			if err != nil {
				return nil, err
			}
		}
	}
	return &TaskOutput{Task: t.Task}, nil
}

// instanceGone reports whether no agent will ever act for the instance: it
// was deregistered or no longer exists.
func (c *Control) instanceGone(ctx context.Context, cluster, id string) (bool, error) {
	in, ok, err := c.db.Instance(ctx, cluster, id)
	return err == nil && (!ok || in.Status == ecs.InstanceInactive), err
}

// DescribeTasksInput is DescribeTasks' request.
type DescribeTasksInput struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
	Include []string `json:"include"`
}

// DescribeTasks describes up to 100 tasks; unknown ones come back as
// failures with reason MISSING.
func (c *Control) DescribeTasks(ctx context.Context, in *DescribeTasksInput) (*TasksOutput, error) {
	if len(in.Tasks) == 0 {
		return nil, ecs.InvalidParameter("tasks: is required")
	}
	if err := maxItems("tasks", len(in.Tasks), 100); err != nil {
		return nil, err
	}
	if err := checkInclude("include", in.Include, "TAGS"); err != nil {
		return nil, err
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	ids, err := scopedIDs("task", "tasks", cluster, in.Tasks)
	if err != nil {
		return nil, err
	}
	found, missing, err := c.db.TasksByID(ctx, cluster, ids)
	if err != nil {
		return nil, err
	}
	out := &TasksOutput{Tasks: []ecs.Task{}, Failures: []ecs.Failure{}}
	for _, t := range found {
		if !includes(in.Include, "TAGS") {
			t.Tags = nil
		}
		out.Tasks = append(out.Tasks, t.Task)
	}
	for _, id := range missing {
		out.Failures = append(out.Failures, ecs.Failure{Arn: c.acct.TaskARN(cluster, id), Reason: ecs.ReasonMissing})
	}
	return out, nil
}

// ListTasksInput is ListTasks' request.
type ListTasksInput struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Family            string `json:"family"`
	NextToken         string `json:"nextToken"`
	MaxResults        *int   `json:"maxResults"`
	StartedBy         string `json:"startedBy"`
	ServiceName       string `json:"serviceName"`
	DesiredStatus     string `json:"desiredStatus"`
	LaunchType        string `json:"launchType"`
	DaemonName        string `json:"daemonName"`
}

// ListTasksOutput is ListTasks' response.
type ListTasksOutput struct {
	TaskArns  []string `json:"taskArns"`
	NextToken string   `json:"nextToken,omitempty"`
}

// ListTasks pages through a cluster's tasks with the given desired status
// (RUNNING by default), by instance, family, service or startedBy.
func (c *Control) ListTasks(ctx context.Context, in *ListTasksInput) (*ListTasksOutput, error) {
	desired := in.DesiredStatus
	switch desired {
	case "":
		desired = ecs.TaskRunning
	case ecs.TaskRunning, ecs.TaskStopped, ecs.TaskPending:
	default:
		return nil, ecs.InvalidParameter("desiredStatus: %q is not valid; valid: RUNNING, PENDING, STOPPED", in.DesiredStatus)
	}
	if in.Family != "" && !ecs.ValidName(in.Family) {
		return nil, ecs.InvalidParameter("family: %q must be 1-255 letters, numbers, hyphens and underscores", in.Family)
	}
	if in.ServiceName != "" && !ecs.ValidName(in.ServiceName) {
		return nil, ecs.InvalidParameter("serviceName: %q must be 1-255 letters, numbers, hyphens and underscores", in.ServiceName)
	}
	if in.StartedBy != "" && (in.Family != "" || in.ServiceName != "" || in.ContainerInstance != "") {
		return nil, ecs.InvalidParameter("startedBy: must be the only filter; it cannot be combined with family, serviceName or containerInstance")
	}
	if in.LaunchType != "" && in.LaunchType != ecs.LaunchEC2 && in.LaunchType != ecs.LaunchExternal && in.LaunchType != ecs.LaunchFargate {
		return nil, ecs.InvalidParameter("launchType: %q is not valid; valid: EC2, FARGATE, EXTERNAL", in.LaunchType)
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	listing := store.TaskListing{Cluster: cluster, Desired: desired}
	if desired == ecs.TaskPending {
		listing.Desired = ecs.TaskRunning
	}
	if in.ServiceName != "" {
		listing.Group = "service:" + in.ServiceName
	} else if in.ContainerInstance != "" {
		if listing.Instance, err = ecs.ScopedID("container-instance", "containerInstance", cluster, in.ContainerInstance); err != nil {
			return nil, err
		}
	}
	keep := func(t *store.Task) bool {
		return listedStatus(t, desired) &&
			(in.Family == "" || familyOf(t.TaskDefinitionArn) == in.Family) &&
			(in.StartedBy == "" || t.StartedBy == in.StartedBy) &&
			(in.LaunchType == "" || t.LaunchType == in.LaunchType)
	}
	tasks, next, err := c.db.ListTasks(ctx, listing, in.NextToken, in.MaxResults, keep)
	if err != nil {
		return nil, err
	}
	out := &ListTasksOutput{TaskArns: []string{}, NextToken: next}
	for _, t := range tasks {
		out.TaskArns = append(out.TaskArns, t.TaskArn)
	}
	return out, nil
}

// listedStatus applies ListTasks' desiredStatus; PENDING lists tasks that
// should run but have not started.
func listedStatus(t *store.Task, desired string) bool {
	if desired == ecs.TaskPending {
		return t.DesiredStatus == ecs.TaskRunning && ecs.TaskStatusOrder(t.LastStatus) < ecs.TaskStatusOrder(ecs.TaskRunning)
	}
	return t.DesiredStatus == desired
}

func familyOf(tdARN string) string {
	ref, err := ecs.ParseTaskDefinitionRef("taskDefinitionArn", tdARN)
	if err != nil {
		return ""
	}
	return ref.Family
}
