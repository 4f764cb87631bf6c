package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"time"

	"github.com/berth-run/berth/shared/agentproto"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
)

// AgentProtocolVersion is the version of the BerthAgent actions; agents send
// theirs and the server refuses ones it does not speak.
const AgentProtocolVersion = agentproto.Version

// The agent protocol's messages (shared/agentproto), under the names the
// use cases have always had.
type (
	PollInput       = agentproto.PollInput
	PollOutput      = agentproto.PollOutput
	AgentTask       = agentproto.Task
	TaskStateInput  = agentproto.TaskStateInput
	ContainerState  = agentproto.ContainerState
	TaskStateOutput = agentproto.TaskStateOutput
)

// Waiter lets a poll wait for a change to an instance's tasks. In the local
// control plane it is fed by the store's change feed; where nothing can
// wake a poll (Lambda) it is nil and polls answer at once.
type Waiter interface {
	// Changed returns a channel closed at the next change to the tasks or
	// state of the instance.
	Changed(cluster, instanceID string) <-chan struct{}
}

// AgentTimings are the host-health settings.
type AgentTimings struct {
	// PollInterval is how often agents poll when not long-polling.
	PollInterval time.Duration
	// HeartbeatWrite is the least time between two heartbeat writes for one
	// instance, so frequent polls do not each cost a write.
	HeartbeatWrite time.Duration
	// DisconnectAfter marks a silent agent agentConnected=false.
	DisconnectAfter time.Duration
	// LostAfter declares a silent agent's host lost and stops its tasks.
	LostAfter time.Duration
	// MaxWait caps a long poll.
	MaxWait time.Duration
}

// DefaultAgentTimings suit a deployment in AWS.
var DefaultAgentTimings = AgentTimings{
	PollInterval:    5 * time.Second,
	HeartbeatWrite:  10 * time.Second,
	DisconnectAfter: 90 * time.Second,
	LostAfter:       5 * time.Minute,
	MaxWait:         20 * time.Second,
}

func checkProtocol(v int) error {
	if v != AgentProtocolVersion {
		return ecs.Client("protocolVersion: agent protocol %d is not supported; this control plane speaks %d", v, AgentProtocolVersion)
	}
	return nil
}

// agentInstance checks an agent's request: the protocol it speaks, and
// the cluster and container instance it names, returned as the cluster's
// name and the instance's ID.
func agentInstance(protocolVersion int, clusterRef, instanceArn string) (cluster, id string, err error) {
	if err := checkProtocol(protocolVersion); err != nil {
		return "", "", err
	}
	if cluster, err = ecs.ClusterName(clusterRef); err != nil {
		return "", "", err
	}
	id, err = ecs.ScopedID("container-instance", "containerInstanceArn", cluster, instanceArn)
	return cluster, id, err
}

// Poll answers an agent's poll and records its heartbeat.
func (c *Control) Poll(ctx context.Context, in *PollInput) (*PollOutput, error) {
	cluster, id, err := agentInstance(in.ProtocolVersion, in.Cluster, in.ContainerInstanceArn)
	if err != nil {
		return nil, err
	}
	if err := c.heartbeat(ctx, cluster, id); err != nil {
		return nil, err
	}
	wait := min(time.Duration(in.WaitSeconds)*time.Second, c.timings.MaxWait)
	deadline := time.Now().Add(wait)
	for {
		var changed <-chan struct{}
		if c.waiter != nil && wait > 0 {
			changed = c.waiter.Changed(cluster, id)
		}
		out, err := c.desiredState(ctx, cluster, id)
		if err != nil || changed == nil || out.Digest != in.Digest {
			return out, err
		}
		woke := waitFor(ctx, changed, time.Until(deadline))
		// A held poll is still the agent's heartbeat: record it again, so a
		// long wait never looks like silence.
		if err := c.heartbeat(ctx, cluster, id); err != nil {
			return nil, err
		}
		if !woke {
			return out, nil
		}
	}
}

// waitFor waits until changed is closed (true), or d passes or ctx ends (false).
func waitFor(ctx context.Context, changed <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-changed:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	return false
}

// heartbeat records the poll and reconnects a disconnected agent.
func (c *Control) heartbeat(ctx context.Context, cluster, id string) error {
	inst, ok, err := c.db.Instance(ctx, cluster, id)
	if err != nil {
		return err
	}
	if !ok {
		return ecs.InvalidParameter("containerInstanceArn: container instance %s is not registered in cluster %s", id, cluster)
	}
	if err := c.db.RecordHeartbeat(ctx, cluster, id, c.timings.HeartbeatWrite); err != nil {
		return err
	}
	if inst.AgentConnected || inst.Status == ecs.InstanceInactive {
		return nil
	}
	_, err = c.db.UpdateInstance(ctx, cluster, id, func(in *store.Instance) error {
		if in.AgentConnected {
			return store.ErrUnchanged
		}
		in.AgentConnected = true
		return nil
	})
	return err
}

// desiredState builds the poll answer for an instance.
func (c *Control) desiredState(ctx context.Context, cluster, id string) (*PollOutput, error) {
	inst, ok, err := c.db.Instance(ctx, cluster, id)
	if err != nil {
		return nil, err
	}
	out := &PollOutput{
		InstanceStatus:      ecs.InstanceInactive,
		Tasks:               []AgentTask{},
		TaskDefinitions:     map[string]ecs.TaskDefinition{},
		PollIntervalSeconds: int(c.timings.PollInterval / time.Second),
	}
	if ok {
		out.InstanceStatus = inst.Status
	}
	tasks, err := c.db.TasksOnInstance(ctx, cluster, id)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		if t.Stopped() {
			continue
		}
		out.Tasks = append(out.Tasks, agentTask(t))
		if _, seen := out.TaskDefinitions[t.TaskDefinitionArn]; !seen {
			td, err := c.taskDefinitionByARN(ctx, t.TaskDefinitionArn)
			if err != nil {
				return nil, err
			}
			out.TaskDefinitions[t.TaskDefinitionArn] = td
		}
	}
	sort.Slice(out.Tasks, func(i, j int) bool { return out.Tasks[i].TaskArn < out.Tasks[j].TaskArn })
	out.Digest = digest(out)
	return out, nil
}

func agentTask(t store.Task) AgentTask {
	return AgentTask{
		TaskArn:           t.TaskArn,
		TaskDefinitionArn: t.TaskDefinitionArn,
		DesiredStatus:     t.DesiredStatus,
		LastStatus:        t.LastStatus,
		Group:             t.Group,
		StartedBy:         t.StartedBy,
		Overrides:         t.Overrides,
		Containers:        t.Containers,
		GPUIDs:            t.Berth.GPUIDs,
		Seq:               t.Berth.AgentSeq,
	}
}

// digest identifies what the agent must act on: the instance status and
// each task's identity and desired status.
func digest(out *PollOutput) string {
	h := sha256.New()
	h.Write([]byte(out.InstanceStatus))
	for _, t := range out.Tasks {
		h.Write([]byte("|" + t.TaskArn + "=" + t.DesiredStatus))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func (c *Control) taskDefinitionByARN(ctx context.Context, arn string) (ecs.TaskDefinition, error) {
	ref, err := ecs.ParseTaskDefinitionRef("taskDefinitionArn", arn)
	if err != nil {
		return ecs.TaskDefinition{}, err
	}
	td, _, err := c.db.TaskDefinition(ctx, ref)
	return td, err
}

// SubmitTaskStateChange applies an agent's report of a task. A report with
// a sequence number at or below the last applied one, or about a task that
// already stopped, changes nothing; a task never moves back in its lifecycle.
func (c *Control) SubmitTaskStateChange(ctx context.Context, in *TaskStateInput) (*TaskStateOutput, error) {
	cluster, instanceID, err := agentInstance(in.ProtocolVersion, in.Cluster, in.ContainerInstanceArn)
	if err != nil {
		return nil, err
	}
	taskID, err := ecs.ScopedID("task", "taskArn", cluster, in.TaskArn)
	if err != nil {
		return nil, err
	}
	if err := validateReport(in); err != nil {
		return nil, err
	}
	applied := false
	t, err := c.db.UpdateTask(ctx, cluster, taskID, func(t *store.Task) error {
		if t.Berth.InstanceID != instanceID {
			return ecs.InvalidParameter("taskArn: task %s does not run on container instance %s", taskID, instanceID)
		}
		if in.Seq <= t.Berth.AgentSeq || t.Stopped() {
			return store.ErrUnchanged
		}
		applyReport(t, in, ecs.At(c.now()))
		applied = true
		return nil
	})
	if store.IsTaskNotFound(err) {
		return nil, ecs.InvalidParameter("taskArn: task %s does not exist in cluster %s", taskID, cluster)
	}
	if err != nil {
		return nil, err
	}
	return &TaskStateOutput{Applied: applied, Version: t.Version, AgentSeq: t.Berth.AgentSeq}, nil
}

func validateReport(in *TaskStateInput) error {
	if in.Seq < 1 {
		return ecs.InvalidParameter("seq: must be a positive sequence number")
	}
	if !ecs.ValidTaskStatus(in.Status) || in.Status == ecs.TaskDeleted {
		return ecs.InvalidParameter("status: %q is not a task status", in.Status)
	}
	for i, cs := range in.Containers {
		if ecs.ContainerStatusOrder(cs.Status) == 0 {
			return ecs.InvalidParameter("containers[%d].status: %q is not valid; valid: PENDING, RUNNING, STOPPED", i, cs.Status)
		}
	}
	return nil
}

// applyReport merges an agent report into a task, moving statuses only forward.
func applyReport(t *store.Task, in *TaskStateInput, now ecs.Timestamp) {
	t.Berth.AgentSeq = in.Seq
	for _, cs := range in.Containers {
		if i := slices.IndexFunc(t.Containers, func(c ecs.Container) bool { return c.Name == cs.ContainerName }); i >= 0 {
			mergeContainer(&t.Containers[i], cs)
		}
	}
	if in.HealthStatus != "" {
		t.HealthStatus = in.HealthStatus
	}
	setOnce(&t.PullStartedAt, in.PullStartedAt)
	setOnce(&t.PullStoppedAt, in.PullStoppedAt)
	if ecs.TaskStatusOrder(in.Status) <= ecs.TaskStatusOrder(t.LastStatus) {
		return
	}
	t.LastStatus = in.Status
	order := ecs.TaskStatusOrder(in.Status)
	if order >= ecs.TaskStatusOrder(ecs.TaskRunning) && t.StartedAt.IsZero() && order < ecs.TaskStatusOrder(ecs.TaskStopped) {
		t.StartedAt = firstSet(in.StartedAt, now)
		t.Connectivity, t.ConnectivityAt = "CONNECTED", now
	}
	if order >= ecs.TaskStatusOrder(ecs.TaskStopping) && t.StoppingAt.IsZero() {
		t.StoppingAt = now
	}
	if in.Status == ecs.TaskStopped {
		t.DesiredStatus = ecs.TaskStopped
		t.StoppedAt = now
		t.ExecutionStoppedAt = firstSet(in.ExecutionStoppedAt, now)
		if t.StopCode == "" {
			t.StopCode = in.StopCode
		}
		if t.StoppedReason == "" {
			t.StoppedReason = in.Reason
		}
	}
}

func mergeContainer(c *ecs.Container, cs ContainerState) {
	if ecs.ContainerStatusOrder(cs.Status) > ecs.ContainerStatusOrder(c.LastStatus) {
		c.LastStatus = cs.Status
	}
	if cs.RuntimeID != "" {
		c.RuntimeID = cs.RuntimeID
	}
	if cs.ImageDigest != "" {
		c.ImageDigest = cs.ImageDigest
	}
	if len(cs.NetworkBindings) > 0 {
		c.NetworkBindings = cs.NetworkBindings
	}
	if cs.HealthStatus != "" {
		c.HealthStatus = cs.HealthStatus
	}
	if c.LastStatus == ecs.ContainerStopped && c.ExitCode == nil && cs.ExitCode != nil {
		code := *cs.ExitCode
		c.ExitCode = &code
	}
	if cs.Reason != "" && c.Reason == "" {
		c.Reason = truncate(cs.Reason, 1024)
	}
}

func setOnce(dst *ecs.Timestamp, v ecs.Timestamp) {
	if dst.IsZero() && !v.IsZero() {
		*dst = v
	}
}

func firstSet(v, fallback ecs.Timestamp) ecs.Timestamp {
	if v.IsZero() {
		return fallback
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
