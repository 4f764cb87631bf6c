package store

import (
	"context"
	"errors"
	"slices"

	"github.com/berth-run/berth/shared/ecs"
)

// Instance is a container instance as stored: its ECS shape plus what
// placement needs. Remaining.Ports and Remaining.PortsUDP hold the reserved
// host ports (the agent's plus those of tasks placed there), as ECS's
// remainingResources does; Remaining.GPUs the free GPU IDs. Groups counts
// the instance's unstopped tasks per task group.
type Instance struct {
	ecs.ContainerInstance
	Berth InstanceState `json:"berth"`
}

// InstanceState is the part of an instance ECS does not show.
type InstanceState struct {
	Cluster    string         `json:"cluster"`
	Registered ecs.Capacity   `json:"registered"`
	Remaining  ecs.Capacity   `json:"remaining"`
	Groups     map[string]int `json:"groups,omitempty"`
}

// syncResources renders the capacities into the ECS resource lists.
func (in *Instance) syncResources() {
	in.RegisteredResources = in.Berth.Registered.Resources()
	in.RemainingResources = in.Berth.Remaining.Resources()
}

func (db *DB) instanceWrite(in *Instance, expect int64) (Write, error) {
	in.Version = expect + 1
	if expect == AnyVersion {
		in.Version = 0
	}
	in.syncResources()
	return putWrite(instanceKey(in.Berth.Cluster, in.ID()), in, expect)
}

// readInstance reads one instance; ErrNotFound if absent.
func (db *DB) readInstance(ctx context.Context, cluster, id string) (Instance, error) {
	var in Instance
	v, err := db.getJSON(ctx, instanceKey(cluster, id), &in)
	in.Version = v
	return in, err
}

// Instance reads a container instance; ok is false when it does not exist.
func (db *DB) Instance(ctx context.Context, cluster, id string) (Instance, bool, error) {
	in, err := db.readInstance(ctx, cluster, id)
	if errors.Is(err, ErrNotFound) {
		return in, false, nil
	}
	return in, err == nil, err
}

// Instances reads every container instance of a cluster (one partition).
func (db *DB) Instances(ctx context.Context, cluster string) ([]Instance, error) {
	items, err := db.all(ctx, Query{PK: instancesPK(cluster)})
	if err != nil {
		return nil, err
	}
	out := make([]Instance, 0, len(items))
	for _, it := range items {
		in, err := decode[Instance](it)
		if err != nil {
			return nil, err
		}
		in.Version = it.Version
		out = append(out, in)
	}
	return out, nil
}

// InstancesByID reads up to 100 instances; the IDs not found are returned apart.
func (db *DB) InstancesByID(ctx context.Context, cluster string, ids []string) (found []Instance, missing []string, err error) {
	ids = distinct(ids)
	keys := make([]Key, len(ids))
	for i, id := range ids {
		keys[i] = instanceKey(cluster, id)
	}
	items, err := db.s.BatchGet(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]Instance, len(items))
	for _, it := range items {
		in, err := decode[Instance](it)
		if err != nil {
			return nil, nil, err
		}
		in.Version = it.Version
		byID[it.SK] = in
	}
	for _, id := range ids {
		if in, ok := byID[id]; ok {
			found = append(found, in)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing, nil
}

// Registration is what an agent registers.
type Registration struct {
	Cluster       string
	ExistingID    string // re-register this instance (containerInstanceArn)
	EC2InstanceID string
	Capacity      ecs.Capacity
	VersionInfo   *ecs.VersionInfo
	Attributes    []ecs.Attribute
	Tags          []ecs.Tag
}

// RegisterInstance registers a new container instance, or re-registers an
// existing one with fresh resources while keeping what its tasks use.
func (db *DB) RegisterInstance(ctx context.Context, r Registration) (Instance, error) {
	var out Instance
	err := retry(ctx, "register container instance", func() error {
		cluster, cv, err := db.ActiveCluster(ctx, r.Cluster)
		if err != nil {
			return err
		}
		in, expect, err := db.registrationBase(ctx, r)
		if err != nil {
			return err
		}
		in.Berth.Remaining = keepUsage(in.Berth.Registered, in.Berth.Remaining, r.Capacity)
		in.Berth.Registered = r.Capacity
		in.Ec2InstanceID = r.EC2InstanceID
		in.VersionInfo = r.VersionInfo
		in.Attributes = mergeAttributes(builtinOnly(in.Attributes, false), r.Attributes)
		if len(r.Tags) > 0 {
			in.Tags = r.Tags
		}
		in.Status = ecs.InstanceActive
		in.AgentConnected = true
		iw, err := db.instanceWrite(&in, expect)
		if err != nil {
			return err
		}
		cw, err := bumpCluster(cluster, cv)
		if err != nil {
			return err
		}
		hw, err := putWrite(heartbeatKey(r.Cluster, in.ID()), Heartbeat{At: db.stamp()}, AnyVersion)
		if err != nil {
			return err
		}
		out = in
		return db.s.Transact(ctx, []Write{cw, iw, hw})
	})
	return out, err
}

// registrationBase is the instance a registration starts from: the existing
// one when re-registering, else a fresh one.
func (db *DB) registrationBase(ctx context.Context, r Registration) (Instance, int64, error) {
	if r.ExistingID == "" {
		id := db.newID()
		in := Instance{Berth: InstanceState{Cluster: r.Cluster, Registered: r.Capacity, Remaining: cloneCapacity(r.Capacity)}}
		in.ContainerInstanceArn = db.acct.ContainerInstanceARN(r.Cluster, id)
		in.RegisteredAt = db.stamp()
		return in, 0, nil
	}
	in, err := db.readInstance(ctx, r.Cluster, r.ExistingID)
	if errors.Is(err, ErrNotFound) {
		return in, 0, ecs.InvalidParameter("containerInstanceArn: container instance %s does not exist in cluster %s", r.ExistingID, r.Cluster)
	}
	if err != nil {
		return in, 0, err
	}
	if in.Status == ecs.InstanceInactive {
		return in, 0, ecs.Client("containerInstanceArn: container instance %s is INACTIVE (deregistered); register a new instance", r.ExistingID)
	}
	return in, in.Version, nil
}

// keepUsage carries what tasks use from an old registration over to a new one.
func keepUsage(oldReg, oldRem, newReg ecs.Capacity) ecs.Capacity {
	rem := newReg
	rem.CPU -= oldReg.CPU - oldRem.CPU
	rem.Memory -= oldReg.Memory - oldRem.Memory
	rem.Ports = unionPorts(newReg.Ports, without(oldRem.Ports, oldReg.Ports))
	rem.PortsUDP = unionPorts(newReg.PortsUDP, without(oldRem.PortsUDP, oldReg.PortsUDP))
	used := without(oldReg.GPUs, oldRem.GPUs)
	rem.GPUs = without(newReg.GPUs, used)
	return rem
}

func unionPorts(a, b []int) []int {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func without[T comparable](all, drop []T) []T {
	out := make([]T, 0, len(all))
	for _, v := range all {
		if !slices.Contains(drop, v) {
			out = append(out, v)
		}
	}
	return out
}

// builtinOnly keeps the built-in (agent-set) attributes when builtin is
// true, the custom ones when false.
func builtinOnly(attrs []ecs.Attribute, builtin bool) []ecs.Attribute {
	var out []ecs.Attribute
	for _, a := range attrs {
		if ecs.IsBuiltinAttribute(a.Name) == builtin {
			out = append(out, a)
		}
	}
	return out
}

// mergeAttributes sets each of add on attrs, replacing same-named ones.
func mergeAttributes(attrs, add []ecs.Attribute) []ecs.Attribute {
	out := slices.Clone(attrs)
	for _, a := range add {
		a.TargetType, a.TargetID = "", ""
		i := slices.IndexFunc(out, func(b ecs.Attribute) bool { return b.Name == a.Name })
		if i >= 0 {
			out[i] = a
		} else {
			out = append(out, a)
		}
	}
	return out
}

// Heartbeat records when an instance's agent last polled.
type Heartbeat struct {
	At ecs.Timestamp `json:"at"`
}

// UpdateInstance applies change to an instance under its version. change
// may return an error to abort, or ErrUnchanged to leave the instance as it is.
func (db *DB) UpdateInstance(ctx context.Context, cluster, id string, change func(*Instance) error) (Instance, error) {
	var out Instance
	err := retry(ctx, "update container instance "+id, func() error {
		in, err := db.readInstance(ctx, cluster, id)
		if errors.Is(err, ErrNotFound) {
			return ecs.InvalidParameter("containerInstance: %s does not exist in cluster %s", id, cluster)
		}
		if err != nil {
			return err
		}
		err = change(&in)
		if errors.Is(err, ErrUnchanged) {
			out = in
			return nil
		}
		if err != nil {
			return err
		}
		w, err := db.instanceWrite(&in, in.Version)
		if err != nil {
			return err
		}
		out = in
		return db.s.Transact(ctx, []Write{w})
	})
	return out, err
}

// DeregisterInstance marks an instance INACTIVE. Without force it refuses
// while tasks still run there.
func (db *DB) DeregisterInstance(ctx context.Context, cluster, id string, force bool) (Instance, error) {
	return db.UpdateInstance(ctx, cluster, id, func(in *Instance) error {
		if in.Status == ecs.InstanceInactive {
			return ecs.InvalidParameter("containerInstance: %s is already deregistered", id)
		}
		if n := in.UnstoppedTasks(); n > 0 && !force {
			return ecs.InvalidParameter("containerInstance: %s has %d running or pending tasks; stop them first or deregister with force", id, n)
		}
		in.Status = ecs.InstanceInactive
		in.AgentConnected = false
		return nil
	})
}

// ListInstances pages through a cluster's instances that keep accepts.
func (db *DB) ListInstances(ctx context.Context, cluster, token string, maxResults *int, keep func(Instance) bool) ([]Instance, string, error) {
	limit, err := pageLimit(maxResults, 100, 100)
	if err != nil {
		return nil, "", err
	}
	items, next, err := db.scan(ctx, Query{PK: instancesPK(cluster)}, token, limit, func(it Item) (bool, error) {
		in, err := decode[Instance](it)
		return err == nil && keep(in), err
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]Instance, 0, len(items))
	for _, it := range items {
		in, _ := decode[Instance](it)
		in.Version = it.Version
		out = append(out, in)
	}
	return out, next, nil
}

// UnstoppedTasks counts the tasks placed on the instance that have not stopped.
func (in *Instance) UnstoppedTasks() int {
	n := 0
	for _, c := range in.Berth.Groups {
		n += c
	}
	return n
}

// FillTaskCounts sets an instance's runningTasksCount and pendingTasksCount
// from its tasks.
func (db *DB) FillTaskCounts(ctx context.Context, in *Instance) error {
	tasks, err := db.TasksOnInstance(ctx, in.Berth.Cluster, in.ID())
	if err != nil {
		return err
	}
	in.RunningTasksCount, in.PendingTasksCount = countByStatus(tasks)
	return nil
}

// countByStatus counts tasks that run (RUNNING up to DEPROVISIONING) and
// tasks still starting (before RUNNING).
func countByStatus(tasks []Task) (running, pending int) {
	for _, t := range tasks {
		switch order := ecs.TaskStatusOrder(t.LastStatus); {
		case t.Stopped():
		case order >= ecs.TaskStatusOrder(ecs.TaskRunning):
			running++
		default:
			pending++
		}
	}
	return running, pending
}

// distinct drops repeated IDs, keeping the first of each: a batch read
// names each key once.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
