package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
	"github.com/berth-run/berth/shared/store"
)

// RunTaskInput is RunTask's request.
type RunTaskInput struct {
	Cluster                  string                             `json:"cluster"`
	TaskDefinition           string                             `json:"taskDefinition"`
	Count                    *int                               `json:"count"`
	Group                    string                             `json:"group"`
	StartedBy                string                             `json:"startedBy"`
	LaunchType               string                             `json:"launchType"`
	CapacityProviderStrategy []ecs.CapacityProviderStrategyItem `json:"capacityProviderStrategy"`
	NetworkConfiguration     ecs.Raw                            `json:"networkConfiguration"`
	Overrides                *ecs.TaskOverride                  `json:"overrides"`
	PlacementConstraints     []ecs.PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy        []ecs.PlacementStrategy            `json:"placementStrategy"`
	PlatformVersion          string                             `json:"platformVersion"`
	PropagateTags            string                             `json:"propagateTags"`
	ReferenceID              string                             `json:"referenceId"`
	Tags                     []ecs.Tag                          `json:"tags"`
	ClientToken              string                             `json:"clientToken"`
	EnableECSManagedTags     bool                               `json:"enableECSManagedTags"`
	EnableExecuteCommand     bool                               `json:"enableExecuteCommand"`
	VolumeConfigurations     []ecs.Raw                          `json:"volumeConfigurations"`
}

// TasksOutput is the response of RunTask, StartTask and DescribeTasks.
type TasksOutput struct {
	Tasks    []ecs.Task    `json:"tasks"`
	Failures []ecs.Failure `json:"failures"`
}

// MaxRunTaskCount is the most tasks one RunTask or StartTask call starts.
const MaxRunTaskCount = 10

// taskRequest is what RunTask and StartTask share once validated.
type taskRequest struct {
	cluster       string
	td            ecs.TaskDefinition
	tdTags        []ecs.Tag
	group         string
	startedBy     string
	overrides     *ecs.TaskOverride
	tags          []ecs.Tag
	propagateTags string
}

// RunTask places count copies of a task definition with the placement
// engine and starts them; tasks that fit nowhere come back as failures
// with ECS's reasons. A repeated clientToken returns the first call's tasks.
func (c *Control) RunTask(ctx context.Context, in *RunTaskInput) (*TasksOutput, error) {
	count := 1
	if in.Count != nil {
		count = *in.Count
	}
	if count < 1 || count > MaxRunTaskCount {
		return nil, ecs.InvalidParameter("count: %d is outside 1-%d", count, MaxRunTaskCount)
	}
	if len(in.ClientToken) > 64 {
		return nil, ecs.InvalidParameter("clientToken: must be at most 64 characters")
	}
	if err := checkLaunchType(in.LaunchType, in.CapacityProviderStrategy); err != nil {
		return nil, err
	}
	req, err := c.taskRequest(ctx, in.Cluster, in.TaskDefinition, in.Group, in.StartedBy, in.Overrides, in.Tags, in.PropagateTags)
	if err != nil {
		return nil, err
	}
	strategies := in.PlacementStrategy
	if len(strategies) == 0 {
		strategies = placement.RunTaskDefaultStrategies()
	}
	preq := placement.Request{
		Count:                     count,
		Needs:                     ecs.TaskRequirements(&req.td, req.overrides),
		Group:                     req.group,
		Constraints:               in.PlacementConstraints,
		TaskDefinitionConstraints: req.td.PlacementConstraints,
		Strategies:                strategies,
		RequiresAttributes:        req.td.RequiresAttributes,
	}
	if err := placement.Validate(preq); err != nil {
		return nil, err
	}
	if in.ClientToken != "" {
		if out, done, err := c.replayClientToken(ctx, req.cluster, in.ClientToken, digestOf(in)); done || err != nil {
			return out, err
		}
	}
	var out *TasksOutput
	err = retryPlan(ctx, func() error {
		preq.Seed = c.seed()
		var err error
		out, err = c.placeAndCommit(ctx, req, preq, in.ClientToken, digestOf(in))
		return err
	})
	return out, err
}

// placeAndCommit reads the cluster's instances, places the tasks and
// commits them; a conflict means the cluster moved and the caller retries.
func (c *Control) placeAndCommit(ctx context.Context, req taskRequest, preq placement.Request, token, digest string) (*TasksOutput, error) {
	instances, err := c.db.Instances(ctx, req.cluster)
	if err != nil {
		return nil, err
	}
	if len(instances) == 0 {
		return nil, placement.NoInstancesError()
	}
	candidates, err := placementInstances(instances)
	if err != nil {
		return nil, err
	}
	res, err := placement.Place(candidates, preq)
	if err != nil {
		return nil, err
	}
	tasks := make([]store.Task, 0, len(res.Placements))
	for _, p := range res.Placements {
		tasks = append(tasks, c.newTask(req, &instances[p.Index]))
	}
	out := &TasksOutput{Tasks: []ecs.Task{}, Failures: runTaskFailures(res)}
	if len(tasks) == 0 {
		return out, nil
	}
	var extra []store.Write
	if token != "" {
		w, err := c.db.ClientTokenWrite(req.cluster, token, digest, taskARNs(tasks))
		if err != nil {
			return nil, err
		}
		extra = append(extra, w)
	}
	if err := c.db.CommitPlacement(ctx, instances, tasks, extra); err != nil {
		return nil, err
	}
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, t.Task)
	}
	return out, nil
}

// runTaskFailures is failures[] for the tasks that fit nowhere. An
// instance refused by a placement constraint fails with reason ATTRIBUTE
// (the API failure reason for instances lacking what the task requires of
// their attributes), and the detail carries ECS's text for the constraint,
// e.g. "MemberOf placement constraint unsatisfied.".
func runTaskFailures(res placement.Result) []ecs.Failure {
	out := orEmpty(res.Failures())
	for i, f := range out {
		if f.Reason == placement.ReasonMemberOf || f.Reason == placement.ReasonDistinctInstance {
			out[i].Reason, out[i].Detail = ecs.ReasonAttribute, f.Reason
		}
	}
	return out
}

// retryPlan re-plans after a conflicting commit, a bounded number of times.
func retryPlan(ctx context.Context, attempt func() error) error {
	var err error
	for range 20 {
		if err = attempt(); !errors.Is(err, store.ErrConflict) || ctx.Err() != nil {
			return err
		}
	}
	return ecs.Server(errors.New("the cluster kept changing while placing the task; try again"))
}

// replayClientToken answers a RunTask retried with the same clientToken.
func (c *Control) replayClientToken(ctx context.Context, cluster, token, digest string) (*TasksOutput, bool, error) {
	prevDigest, arns, ok, err := c.db.ClientToken(ctx, cluster, token)
	if err != nil || !ok {
		return nil, false, err
	}
	if prevDigest != digest {
		return nil, true, &ecs.Error{Code: ecs.ConflictException, Message: "clientToken: the token was already used with different parameters", ResourceIDs: arns}
	}
	out, err := c.DescribeTasks(ctx, &DescribeTasksInput{Cluster: cluster, Tasks: arns})
	if err != nil {
		return nil, true, err
	}
	return &TasksOutput{Tasks: out.Tasks, Failures: []ecs.Failure{}}, true, nil
}

func digestOf(in any) string {
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func taskARNs(tasks []store.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.TaskArn
	}
	return out
}

func checkLaunchType(launchType string, providers []ecs.CapacityProviderStrategyItem) error {
	switch launchType {
	case "", ecs.LaunchEC2, ecs.LaunchExternal:
	case ecs.LaunchFargate:
		return ecs.Errorf(ecs.UnsupportedFeatureException, "launchType: FARGATE is not available in Berth; tasks run on registered container instances (EC2 or EXTERNAL)")
	default:
		return ecs.InvalidParameter("launchType: %q is not valid; valid: EC2, EXTERNAL", launchType)
	}
	if len(providers) > 0 && launchType != "" {
		return ecs.InvalidParameter("capacityProviderStrategy: cannot be combined with launchType")
	}
	return nil
}

// taskRequest validates what RunTask and StartTask share and resolves the
// cluster and task definition.
func (c *Control) taskRequest(ctx context.Context, clusterRef, tdRef, group, startedBy string, ov *ecs.TaskOverride, tags []ecs.Tag, propagate string) (taskRequest, error) {
	ref, err := ecs.ParseTaskDefinitionRef("taskDefinition", tdRef)
	if err != nil {
		return taskRequest{}, err
	}
	if len(group) > 255 {
		return taskRequest{}, ecs.InvalidParameter("group: must be at most 255 characters")
	}
	if err := validateStartedBy(startedBy); err != nil {
		return taskRequest{}, err
	}
	if err := ecs.ValidateTags("tags", tags); err != nil {
		return taskRequest{}, err
	}
	switch propagate {
	case "", "TASK_DEFINITION", "NONE":
	default:
		return taskRequest{}, ecs.InvalidParameter("propagateTags: %q is not valid; valid: TASK_DEFINITION, NONE", propagate)
	}
	cluster, err := c.activeCluster(ctx, clusterRef)
	if err != nil {
		return taskRequest{}, err
	}
	td, tdTags, err := c.db.TaskDefinition(ctx, ref)
	if err != nil {
		return taskRequest{}, err
	}
	if td.Status != ecs.TaskDefinitionActive {
		return taskRequest{}, ecs.Client("taskDefinition: %s is %s; only ACTIVE task definitions can run new tasks", td.TaskDefinitionArn, td.Status)
	}
	if err := ecs.ValidateOverrides("overrides", &td, ov); err != nil {
		return taskRequest{}, err
	}
	if group == "" {
		group = "family:" + td.Family
	}
	return taskRequest{cluster: cluster, td: td, tdTags: tdTags, group: group, startedBy: startedBy,
		overrides: ov, tags: tags, propagateTags: propagate}, nil
}

func validateStartedBy(s string) error {
	if len(s) > 128 {
		return ecs.InvalidParameter("startedBy: must be at most 128 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '/') {
			return ecs.InvalidParameter("startedBy: %q may hold only letters, numbers, hyphens, underscores and slashes", s)
		}
	}
	return nil
}

// newTask builds a PENDING task placed on inst.
func (c *Control) newTask(req taskRequest, inst *store.Instance) store.Task {
	return c.newTaskWithID(req, inst, c.db.NewID())
}

// newTaskWithID builds a PENDING task with a given ID placed on inst.
func (c *Control) newTaskWithID(req taskRequest, inst *store.Instance, id string) store.Task {
	now := ecs.At(c.now())
	td := &req.td
	needs := ecs.TaskRequirements(td, req.overrides)
	t := store.Task{Berth: store.TaskState{Cluster: req.cluster, InstanceID: inst.ID(), Needs: needs}}
	t.TaskArn = c.acct.TaskARN(req.cluster, id)
	t.ClusterArn = c.acct.ClusterARN(req.cluster)
	t.TaskDefinitionArn = td.TaskDefinitionArn
	t.ContainerInstanceArn = inst.ContainerInstanceArn
	t.AvailabilityZone, _ = inst.AttributeValue("ecs.availability-zone")
	t.Group, t.StartedBy = req.group, req.startedBy
	t.LaunchType = ecs.LaunchEC2
	t.LastStatus, t.DesiredStatus = ecs.TaskPending, ecs.TaskRunning
	t.CreatedAt = now
	t.CPU, t.Memory = strconv.Itoa(needs.CPU), strconv.Itoa(needs.Memory)
	t.HealthStatus = ecs.HealthUnknown
	t.Overrides = overridesOrEmpty(req.overrides, td)
	t.Tags = req.tags
	if req.propagateTags == "TASK_DEFINITION" {
		t.Tags = ecs.MergeTags(req.tdTags, req.tags)
	}
	for _, def := range td.ContainerDefinitions {
		t.Containers = append(t.Containers, c.newContainer(req.cluster, id, t.TaskArn, ecs.EffectiveContainer(def, req.overrides)))
	}
	return t
}

func (c *Control) newContainer(cluster, taskID, taskARN string, def ecs.ContainerDefinition) ecs.Container {
	ct := ecs.Container{
		ContainerArn:      c.acct.ContainerARN(cluster, taskID, c.db.NewID()),
		TaskArn:           taskARN,
		Name:              def.Name,
		Image:             def.Image,
		LastStatus:        ecs.ContainerPending,
		NetworkBindings:   []ecs.NetworkBinding{},
		NetworkInterfaces: []ecs.Raw{},
		HealthStatus:      ecs.HealthUnknown,
		CPU:               strconv.Itoa(def.CPU),
	}
	if def.Memory != nil {
		ct.Memory = strconv.Itoa(*def.Memory)
	}
	if def.MemoryReservation != nil {
		ct.MemoryReservation = strconv.Itoa(*def.MemoryReservation)
	}
	return ct
}

// overridesOrEmpty is the overrides object ECS returns: one entry per
// container, even without overrides.
func overridesOrEmpty(ov *ecs.TaskOverride, td *ecs.TaskDefinition) *ecs.TaskOverride {
	out := &ecs.TaskOverride{InferenceAcceleratorOverrides: []ecs.Raw{}}
	if ov != nil {
		*out = *ov
		if out.InferenceAcceleratorOverrides == nil {
			out.InferenceAcceleratorOverrides = []ecs.Raw{}
		}
	}
	if len(out.ContainerOverrides) == 0 {
		for _, def := range td.ContainerDefinitions {
			out.ContainerOverrides = append(out.ContainerOverrides, ecs.ContainerOverride{Name: def.Name})
		}
	}
	return out
}

// placementInstances converts stored instances for the placement engine.
// runningTasksCount counts the tasks that have not stopped, so instances
// are not overpacked by tasks still starting.
func placementInstances(instances []store.Instance) ([]placement.Instance, error) {
	out := make([]placement.Instance, len(instances))
	for i := range instances {
		in := &instances[i]
		pi, err := placement.InstanceFrom(&in.ContainerInstance, in.Berth.Groups)
		if err != nil {
			return nil, err
		}
		pi.RunningTasksCount = in.UnstoppedTasks()
		out[i] = pi
	}
	return out, nil
}
