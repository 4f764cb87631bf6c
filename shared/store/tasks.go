package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-run/berth/shared/ecs"
)

// Task is a task as stored: its ECS shape plus what the control plane
// needs to run and release it.
type Task struct {
	ecs.Task
	Berth TaskState `json:"berth"`
}

// TaskState is the part of a task ECS does not show.
type TaskState struct {
	Cluster    string `json:"cluster"`
	InstanceID string `json:"instanceId"`
	// Needs is what the task reserved on its instance; released when it stops.
	Needs  ecs.Requirements `json:"needs"`
	GPUIDs []string         `json:"gpuIds,omitempty"`
	// Released is true once the reservation went back to the instance.
	Released bool `json:"released,omitempty"`
	// AgentSeq is the sequence number of the last agent report applied; an
	// older or repeated report changes nothing.
	AgentSeq int64 `json:"agentSeq,omitempty"`
	// Service and Deployment name the service deployment that started the task.
	Service    string `json:"service,omitempty"`
	Deployment string `json:"deployment,omitempty"`
}

// taskPointer maps a task ID to the group partition holding it.
type taskPointer struct {
	Group string `json:"group"`
}

// Stopped reports whether the task reached STOPPED.
func (t *Task) Stopped() bool { return t.LastStatus == ecs.TaskStopped }

func (db *DB) taskWrites(t *Task, expect int64, withPointer bool) ([]Write, error) {
	t.Version = expect + 1
	w, err := putWrite(taskKey(t.Berth.Cluster, t.Group, t.ID()), t, expect)
	if err != nil {
		return nil, err
	}
	w.Item.GSI1 = Key{PK: tasksByInstancePK(t.Berth.Cluster, t.Berth.InstanceID), SK: t.ID()}
	w.Item.GSI2 = Key{PK: tasksByClusterPK(t.Berth.Cluster), SK: t.DesiredStatus + "#" + t.ID()}
	if t.Stopped() {
		w.Item.ExpiresAt = t.StoppedAt.Add(db.StoppedTaskTTL).Unix()
	}
	writes := []Write{w}
	if withPointer {
		pw, err := putWrite(taskPointerKey(t.Berth.Cluster, t.ID()), taskPointer{Group: t.Group}, AnyVersion)
		if err != nil {
			return nil, err
		}
		pw.Item.ExpiresAt = w.Item.ExpiresAt
		writes = append(writes, pw)
	}
	return writes, nil
}

// CommitPlacement creates tasks and reserves their needs on the instances
// they were placed on, in one transaction conditioned on the versions of
// those instances as read. extra writes (a service's version, a client
// token) join the same transaction. A *ConflictError means something moved
// since the plan was made: re-read and re-plan.
func (db *DB) CommitPlacement(ctx context.Context, base []Instance, tasks []Task, extra []Write) error {
	byID := make(map[string]*Instance, len(base))
	for i := range base {
		in := base[i]
		in.Berth.Remaining = cloneCapacity(in.Berth.Remaining)
		in.Berth.Groups = cloneGroups(in.Berth.Groups)
		byID[in.ID()] = &in
	}
	writes := slices.Clone(extra)
	touched := []string{}
	for i := range tasks {
		t := &tasks[i]
		in := byID[t.Berth.InstanceID]
		if in == nil {
			return fmt.Errorf("commit placement: task %s is placed on unknown instance %s", t.ID(), t.Berth.InstanceID)
		}
		if err := reserve(in, t); err != nil {
			return fmt.Errorf("commit placement: %w", err)
		}
		if !slices.Contains(touched, in.ID()) {
			touched = append(touched, in.ID())
		}
		tw, err := db.taskWrites(t, 0, true)
		if err != nil {
			return err
		}
		writes = append(writes, tw...)
	}
	for _, id := range touched {
		in := byID[id]
		w, err := db.instanceWrite(in, in.Version)
		if err != nil {
			return err
		}
		writes = append(writes, w)
	}
	return db.s.Transact(ctx, writes)
}

// reserve takes a task's needs from an instance, failing if they do not fit
// (placement should never propose that; this guards the invariant).
func reserve(in *Instance, t *Task) error {
	rem := &in.Berth.Remaining
	n := t.Berth.Needs
	if n.CPU > rem.CPU || n.Memory > rem.Memory || n.GPUs > len(rem.GPUs) {
		return fmt.Errorf("task %s does not fit instance %s", t.ID(), in.ID())
	}
	for _, p := range n.Ports {
		if slices.Contains(rem.Ports, p) {
			return fmt.Errorf("task %s: tcp port %d is taken on instance %s", t.ID(), p, in.ID())
		}
	}
	for _, p := range n.PortsUDP {
		if slices.Contains(rem.PortsUDP, p) {
			return fmt.Errorf("task %s: udp port %d is taken on instance %s", t.ID(), p, in.ID())
		}
	}
	rem.CPU -= n.CPU
	rem.Memory -= n.Memory
	rem.Ports = unionPorts(rem.Ports, n.Ports)
	rem.PortsUDP = unionPorts(rem.PortsUDP, n.PortsUDP)
	t.Berth.GPUIDs = slices.Clone(rem.GPUs[:n.GPUs])
	rem.GPUs = slices.Clone(rem.GPUs[n.GPUs:])
	if in.Berth.Groups == nil {
		in.Berth.Groups = map[string]int{}
	}
	in.Berth.Groups[t.Group]++
	return nil
}

// release returns a stopped task's reservation to its instance.
func release(in *Instance, t *Task) {
	rem := &in.Berth.Remaining
	n := t.Berth.Needs
	rem.CPU = min(rem.CPU+n.CPU, in.Berth.Registered.CPU)
	rem.Memory = min(rem.Memory+n.Memory, in.Berth.Registered.Memory)
	rem.Ports = unionPorts(without(rem.Ports, n.Ports), in.Berth.Registered.Ports)
	rem.PortsUDP = unionPorts(without(rem.PortsUDP, n.PortsUDP), in.Berth.Registered.PortsUDP)
	for _, g := range t.Berth.GPUIDs {
		if !slices.Contains(rem.GPUs, g) && slices.Contains(in.Berth.Registered.GPUs, g) {
			rem.GPUs = append(rem.GPUs, g)
		}
	}
	if in.Berth.Groups[t.Group] > 1 {
		in.Berth.Groups[t.Group]--
	} else {
		delete(in.Berth.Groups, t.Group)
	}
	t.Berth.Released = true
}

func cloneCapacity(c ecs.Capacity) ecs.Capacity {
	c.Ports, c.PortsUDP, c.GPUs = slices.Clone(c.Ports), slices.Clone(c.PortsUDP), slices.Clone(c.GPUs)
	return c
}

func cloneGroups(g map[string]int) map[string]int {
	out := make(map[string]int, len(g))
	for k, v := range g {
		out[k] = v
	}
	return out
}

// errTaskNotFound is what task lookups return for an unknown task.
var errTaskNotFound = errors.New("task not found")

// IsTaskNotFound reports whether err says the task does not exist.
func IsTaskNotFound(err error) bool { return errors.Is(err, errTaskNotFound) }

// Task reads a task by cluster and ID.
func (db *DB) Task(ctx context.Context, cluster, id string) (Task, error) {
	var p taskPointer
	if _, err := db.getJSON(ctx, taskPointerKey(cluster, id), &p); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Task{}, fmt.Errorf("task %s in cluster %s: %w", id, cluster, errTaskNotFound)
		}
		return Task{}, err
	}
	var t Task
	v, err := db.getJSON(ctx, taskKey(cluster, p.Group, id), &t)
	if errors.Is(err, ErrNotFound) {
		return Task{}, fmt.Errorf("task %s in cluster %s: %w", id, cluster, errTaskNotFound)
	}
	t.Version = v
	return t, err
}

// TasksByID reads up to 100 tasks; the IDs not found are returned apart.
func (db *DB) TasksByID(ctx context.Context, cluster string, ids []string) (found []Task, missing []string, err error) {
	ids = distinct(ids)
	pkeys := make([]Key, len(ids))
	for i, id := range ids {
		pkeys[i] = taskPointerKey(cluster, id)
	}
	pointers, err := db.s.BatchGet(ctx, pkeys)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]Key, 0, len(pointers))
	for _, it := range pointers {
		p, err := decode[taskPointer](it)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, taskKey(cluster, p.Group, it.SK))
	}
	items, err := db.s.BatchGet(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]Task, len(items))
	for _, it := range items {
		t, err := decode[Task](it)
		if err != nil {
			return nil, nil, err
		}
		t.Version = it.Version
		byID[it.SK] = t
	}
	for _, id := range ids {
		if t, ok := byID[id]; ok {
			found = append(found, t)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing, nil
}

func (db *DB) decodeTasks(items []Item) ([]Task, error) {
	out := make([]Task, 0, len(items))
	for _, it := range items {
		t, err := decode[Task](it)
		if err != nil {
			return nil, err
		}
		t.Version = it.Version
		out = append(out, t)
	}
	return out, nil
}

// TasksOnInstance reads the tasks placed on an instance (through an index,
// so a just-placed task may show up a moment late).
func (db *DB) TasksOnInstance(ctx context.Context, cluster, instanceID string) ([]Task, error) {
	items, err := db.all(ctx, Query{Index: GSI1, PK: tasksByInstancePK(cluster, instanceID)})
	if err != nil {
		return nil, err
	}
	return db.decodeTasks(items)
}

// TasksInGroup reads every task of a group (a service's tasks are the
// group service:<name>), strongly consistently.
func (db *DB) TasksInGroup(ctx context.Context, cluster, group string) ([]Task, error) {
	items, err := db.all(ctx, Query{PK: groupPK(cluster, group)})
	if err != nil {
		return nil, err
	}
	return db.decodeTasks(items)
}

// TaskListing says which partition ListTasks reads: a group (strongly
// consistent; a service's tasks), an instance, or the whole cluster
// (tasks with one desired status).
type TaskListing struct {
	Cluster  string
	Group    string
	Instance string
	Desired  string
}

func (l TaskListing) query() Query {
	switch {
	case l.Group != "":
		return Query{PK: groupPK(l.Cluster, l.Group)}
	case l.Instance != "":
		return Query{Index: GSI1, PK: tasksByInstancePK(l.Cluster, l.Instance)}
	}
	return Query{Index: GSI2, PK: tasksByClusterPK(l.Cluster), Prefix: l.Desired + "#"}
}

// ListTasks pages through the tasks of a listing that keep accepts.
func (db *DB) ListTasks(ctx context.Context, l TaskListing, token string, maxResults *int, keep func(*Task) bool) ([]Task, string, error) {
	limit, err := pageLimit(maxResults, 100, 100)
	if err != nil {
		return nil, "", err
	}
	items, next, err := db.scan(ctx, l.query(), token, limit, func(it Item) (bool, error) {
		t, err := decode[Task](it)
		return err == nil && keep(&t), err
	})
	if err != nil {
		return nil, "", err
	}
	tasks, err := db.decodeTasks(items)
	return tasks, next, err
}

// UpdateTask applies change to a task under its version. When the change
// moves the task to STOPPED, its reservation is released on its instance in
// the same transaction. change may return ErrUnchanged to write nothing.
func (db *DB) UpdateTask(ctx context.Context, cluster, id string, change func(*Task) error) (Task, error) {
	var out Task
	err := retry(ctx, "update task "+id, func() error {
		t, err := db.Task(ctx, cluster, id)
		if err != nil {
			return err
		}
		wasStopped := t.Stopped()
		err = change(&t)
		if errors.Is(err, ErrUnchanged) {
			out = t
			return nil
		}
		if err != nil {
			return err
		}
		stopping := !wasStopped && t.Stopped()
		if stopping && t.StoppedAt.IsZero() {
			t.StoppedAt = db.stamp()
		}
		var releases []Write
		if t.Stopped() && !t.Berth.Released {
			w, err := db.releaseWrite(ctx, &t)
			if err != nil {
				return err
			}
			if w != nil {
				releases = append(releases, *w)
			}
		}
		writes, err := db.taskWrites(&t, t.Version, stopping)
		if err != nil {
			return err
		}
		writes = append(writes, releases...)
		out = t
		return db.s.Transact(ctx, writes)
	})
	return out, err
}

// releaseWrite returns the task's reservation to its instance; nil when the
// instance no longer exists.
func (db *DB) releaseWrite(ctx context.Context, t *Task) (*Write, error) {
	in, err := db.readInstance(ctx, t.Berth.Cluster, t.Berth.InstanceID)
	if errors.Is(err, ErrNotFound) {
		t.Berth.Released = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	release(&in, t)
	w, err := db.instanceWrite(&in, in.Version)
	return &w, err
}
