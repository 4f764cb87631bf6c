package agent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// maxReportRetry caps the backoff of a report the control plane did not take.
const maxReportRetry = 30 * time.Second

// report sends the task's state if it differs from what the control plane
// last took, numbering it above every earlier report. A report that fails
// or is not applied is retried with backoff; the next one carries the
// latest state, whatever it is then.
func (r *runner) report(ctx context.Context, plan Plan) {
	if r.sentStopped {
		return // STOPPED is final; nothing after it would be taken
	}
	in := r.buildReport(plan)
	// A task never moves back in its lifecycle, even in what the agent says.
	if ecs.TaskStatusOrder(in.Status) < ecs.TaskStatusOrder(r.sentStatus) {
		in.Status = r.sentStatus
	}
	key := essence(in)
	if key == r.sent {
		return
	}
	now := r.a.now()
	if now.Before(r.retryAt) {
		return
	}
	in.Seq = r.seq.next()
	out, err := r.a.client.SubmitTaskStateChange(ctx, in)
	if err == nil {
		// A report numbered at or below what the server has was stale; the
		// next one is numbered above the server's.
		r.seq.observe(out.AgentSeq)
	}
	if err != nil || !out.Applied {
		if ctx.Err() != nil {
			return
		}
		r.retryDelay = min(max(2*r.retryDelay, actionRetry), maxReportRetry)
		r.retryAt = now.Add(r.retryDelay)
		r.log.Warn("task state report not taken; will retry", "status", in.Status, "seq", in.Seq, "error", err, "in", r.retryDelay)
		return
	}
	r.retryAt, r.retryDelay = time.Time{}, 0
	r.sent, r.sentStatus = key, in.Status
	if in.Status == ecs.TaskStopped {
		r.sentStopped, r.stoppedAt = true, now
	}
	r.log.Debug("reported task state", "status", in.Status, "health", in.HealthStatus, "seq", in.Seq)
}

// buildReport describes the task as observed.
func (r *runner) buildReport(plan Plan) *TaskStateInput {
	in := &TaskStateInput{
		Cluster:              r.a.cfg.Cluster,
		ContainerInstanceArn: r.a.ContainerInstanceArn(),
		TaskArn:              r.arn,
		Status:               plan.Status,
		HealthStatus:         plan.Health,
		Containers:           make([]ContainerStateWire, 0, len(r.slots)),
	}
	if c := plan.Cause; c != nil && !c.Desired {
		in.StopCode, in.Reason = c.Code, truncate(c.Reason, 1024)
	}
	pulling := false
	var started, finished time.Time
	for _, s := range r.slots {
		p := s.phase()
		pulling = pulling || p == PhaseAbsent && plan.Status != ecs.TaskStopped
		in.Containers = append(in.Containers, containerReport(s, p, plan.Status))
		if p.started() && s.state.StartedAt.After(started) {
			started = s.state.StartedAt
		}
		if s.state.FinishedAt.After(finished) {
			finished = s.state.FinishedAt
		}
	}
	if !pulling && !r.pullStarted.IsZero() {
		in.PullStartedAt, in.PullStoppedAt = ecs.At(r.pullStarted), ecs.At(r.pullStopped)
	}
	if ecs.TaskStatusOrder(plan.Status) >= ecs.TaskStatusOrder(ecs.TaskRunning) && !started.IsZero() {
		in.StartedAt = ecs.At(started)
	}
	if plan.Status == ecs.TaskStopped {
		if finished.IsZero() {
			finished = r.a.now()
		}
		in.ExecutionStoppedAt = ecs.At(finished)
	}
	return in
}

func containerReport(s *slot, p Phase, taskStatus string) ContainerStateWire {
	c := ContainerStateWire{
		ContainerName: s.name,
		RuntimeID:     s.id,
		ImageDigest:   s.state.ImageDigest,
		Status:        ContainerStatus(p, taskStatus),
		Reason:        truncate(s.reason(), 1024),
		HealthStatus:  healthOr(s.state.HealthStatus),
	}
	if p == PhaseExited && s.lost == "" && s.state.ExitCode != nil {
		code := *s.state.ExitCode
		c.ExitCode = &code
	}
	if p == PhaseRunning {
		c.NetworkBindings = s.state.NetworkBindings
	}
	return c
}

// reportEssence is what makes two reports different: everything but the
// sequence number, the instance and the timestamps (which only ever
// accompany a change of these).
type reportEssence struct {
	Status     string
	Health     string
	StopCode   string
	Reason     string
	Containers []containerEssence
}

type containerEssence struct {
	Name      string
	RuntimeID string
	Status    string
	ExitCode  *int
	Reason    string
	Health    string
	Bindings  []ecs.NetworkBinding
}

func essence(in *TaskStateInput) string {
	e := reportEssence{Status: in.Status, Health: healthOr(in.HealthStatus), StopCode: in.StopCode, Reason: in.Reason}
	for _, c := range in.Containers {
		e.Containers = append(e.Containers, containerEssence{
			Name: c.ContainerName, RuntimeID: c.RuntimeID, Status: c.Status, ExitCode: c.ExitCode,
			Reason: c.Reason, Health: healthOr(c.HealthStatus), Bindings: nonEmpty(c.NetworkBindings),
		})
	}
	b, _ := json.Marshal(e)
	return string(b)
}

// serverEssence is the essence of what the control plane knows of a task,
// so that an agent that takes a task up (after a restart, say) reports only
// what differs.
func serverEssence(t *AgentTask) string {
	in := &TaskStateInput{Status: t.LastStatus}
	for _, c := range t.Containers {
		in.Containers = append(in.Containers, ContainerStateWire{
			ContainerName: c.Name, RuntimeID: c.RuntimeID, Status: c.LastStatus, ExitCode: c.ExitCode,
			Reason: c.Reason, HealthStatus: c.HealthStatus, NetworkBindings: c.NetworkBindings,
		})
	}
	return essence(in)
}

func nonEmpty(b []ecs.NetworkBinding) []ecs.NetworkBinding {
	if len(b) == 0 {
		return nil
	}
	return b
}

// seqCounter numbers a task's reports: each above the last one sent and
// above the last one the control plane applied (which a restarted agent
// learns from its poll).
type seqCounter struct{ last int64 }

// observe takes in the sequence number the control plane last applied.
func (s *seqCounter) observe(applied int64) { s.last = max(s.last, applied) }

// next is the number of the next report.
func (s *seqCounter) next() int64 {
	s.last++
	return s.last
}
