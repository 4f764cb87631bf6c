package control

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scheduler"
	"github.com/berth-run/berth/shared/store"
)

// maxPasses bounds one Reconcile call: passes that committed and asked for
// more (More), plus passes re-planned after a conflicting commit.
const maxPasses = 50

// AlarmStates reads the states of CloudWatch alarms, for deployment alarms;
// nil means no alarm is ever in ALARM.
type AlarmStates interface {
	States(ctx context.Context, names []string) (map[string]string, error)
}

// Reconcile converges one service: it reads the service, its tasks and the
// cluster, asks the scheduler for a plan and commits it in one conditional
// transaction, re-planning on a conflict and continuing while the plan says
// there is more to do at once.
func (c *Control) Reconcile(ctx context.Context, cluster, service string) error {
	for range maxPasses {
		plan, err := c.reconcilePass(ctx, cluster, service)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil || !plan.Changed || !plan.More {
			return err
		}
	}
	return nil
}

// reconcilePass runs one scheduler pass and commits its plan.
func (c *Control) reconcilePass(ctx context.Context, cluster, name string) (scheduler.Plan, error) {
	svc, version, ok, err := c.db.Service(ctx, cluster, name)
	if err != nil || !ok || svc.Status == ecs.ServiceInactive {
		return scheduler.Plan{}, err
	}
	in, tasks, instances, err := c.reconcileInput(ctx, &svc)
	if err != nil {
		return scheduler.Plan{}, err
	}
	plan, err := scheduler.Reconcile(in)
	if err != nil || !plan.Changed {
		return plan, err
	}
	commit, err := c.storePlan(&svc, version, plan, tasks, instances, in.TaskDefinitions)
	if err != nil {
		return plan, err
	}
	return plan, c.db.CommitPlan(ctx, commit)
}

// reconcileInput gathers what a pass reads: the service's tasks (strongly
// consistent), the cluster's instances, the task definitions the
// deployments run, deployment alarm states and the daemon groups.
func (c *Control) reconcileInput(ctx context.Context, svc *store.Service) (scheduler.Input, []store.Task, []store.Instance, error) {
	cluster := svc.Berth.Cluster
	tasks, err := c.db.TasksInGroup(ctx, cluster, "service:"+svc.ServiceName)
	if err != nil {
		return scheduler.Input{}, nil, nil, err
	}
	instances, err := c.db.Instances(ctx, cluster)
	if err != nil {
		return scheduler.Input{}, nil, nil, err
	}
	candidates, err := placementInstances(instances)
	if err != nil {
		return scheduler.Input{}, nil, nil, err
	}
	tds, err := c.taskDefinitionsFor(ctx, svc)
	if err != nil {
		return scheduler.Input{}, nil, nil, err
	}
	alarms, err := c.alarmStates(ctx, svc)
	if err != nil {
		return scheduler.Input{}, nil, nil, err
	}
	daemons, err := c.daemonGroups(ctx, cluster)
	if err != nil {
		return scheduler.Input{}, nil, nil, err
	}
	ecsTasks := make([]ecs.Task, len(tasks))
	for i := range tasks {
		ecsTasks[i] = tasks[i].Task
	}
	return scheduler.Input{
		Now: c.now(), Seed: c.seed(), Service: svc.Service, State: svc.Berth.Scheduler, Tasks: ecsTasks,
		Instances: candidates, TaskDefinitions: tds, AlarmStates: alarms, DaemonGroups: daemons,
	}, tasks, instances, nil
}

func (c *Control) taskDefinitionsFor(ctx context.Context, svc *store.Service) (map[string]*ecs.TaskDefinition, error) {
	arns, err := scheduler.TaskDefinitionsNeeded(&svc.Service, svc.Berth.Scheduler)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*ecs.TaskDefinition, len(arns))
	for _, arn := range arns {
		td, err := c.taskDefinitionByARN(ctx, arn)
		if err != nil {
			return nil, fmt.Errorf("task definition %s of service %s: %w", arn, svc.ServiceName, err)
		}
		out[arn] = &td
	}
	return out, nil
}

func (c *Control) alarmStates(ctx context.Context, svc *store.Service) (map[string]string, error) {
	names := scheduler.AlarmsToRead(&svc.Service)
	if len(names) == 0 || c.alarms == nil {
		return nil, nil
	}
	return c.alarms.States(ctx, names)
}

func (c *Control) daemonGroups(ctx context.Context, cluster string) (map[string]bool, error) {
	services, _, err := c.db.Services(ctx, cluster)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, s := range services {
		if s.SchedulingStrategy == ecs.SchedulingDaemon && s.Status != ecs.ServiceInactive {
			out["service:"+s.ServiceName] = true
		}
	}
	return out, nil
}

// storePlan turns the scheduler's plan into the store's: the service under
// its version, new tasks on their instances, and stops under the tasks'
// versions.
func (c *Control) storePlan(svc *store.Service, version int64, plan scheduler.Plan, tasks []store.Task, instances []store.Instance, tds map[string]*ecs.TaskDefinition) (store.Plan, error) {
	next := *svc
	next.Service, next.Berth.Scheduler = plan.Service, plan.State
	next.AddOutbox(outbox(plan.Events)...)
	out := store.Plan{Service: &next, ServiceVersion: version, Base: instances}
	byARN := make(map[string]store.Task, len(tasks))
	for _, t := range tasks {
		byARN[t.TaskArn] = t
	}
	for _, s := range plan.Stop {
		t, ok := byARN[s.TaskArn]
		if !ok {
			return store.Plan{}, fmt.Errorf("plan stops task %s that is not in service %s", s.TaskArn, svc.ServiceName)
		}
		t.Version = s.Version
		t.DesiredStatus, t.StoppedReason = ecs.TaskStopped, s.StoppedReason
		if t.StopCode == "" {
			t.StopCode = s.StopCode
		}
		out.Change = append(out.Change, t)
	}
	for _, l := range plan.Launch {
		td := tds[l.TaskDefinition]
		if td == nil {
			return store.Plan{}, fmt.Errorf("plan launches task definition %s that the pass did not read", l.TaskDefinition)
		}
		out.Start = append(out.Start, c.serviceTask(svc, l, &instances[l.Instance], td))
	}
	return out, nil
}

// serviceTask builds the task a launch starts: group service:<name>,
// startedBy the deployment, as ECS names service tasks.
func (c *Control) serviceTask(svc *store.Service, l scheduler.Launch, inst *store.Instance, td *ecs.TaskDefinition) store.Task {
	req := taskRequest{cluster: svc.Berth.Cluster, td: *td, group: l.Group, startedBy: l.Deployment}
	if svc.PropagateTags == "SERVICE" {
		req.tags = svc.Tags
	}
	t := c.newTaskWithID(req, inst, l.TaskID)
	t.Berth.Needs = l.Needs
	t.Berth.Service, t.Berth.Deployment = svc.ServiceName, l.Deployment
	return t
}

// ReconcileEvents is the reconciler's bus handler: it coalesces a batch of
// events into one reconcile per service they concern (every service of
// the cluster for an instance change, daemon services first).
func (c *Control) ReconcileEvents(ctx context.Context, events []bus.Event) error {
	scopes, err := bus.ScopesOf(events)
	errs := []error{err}
	for _, scope := range scopes {
		if err := c.reconcileScope(ctx, scope); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Control) reconcileScope(ctx context.Context, scope bus.Scope) error {
	cluster, err := ecs.ClusterName(scope.ClusterArn)
	if err != nil {
		return err
	}
	if scope.ServiceName != "" {
		return c.Reconcile(ctx, cluster, scope.ServiceName)
	}
	return c.reconcileCluster(ctx, cluster)
}

// reconcileCluster reconciles every live service of a cluster, daemons first.
func (c *Control) reconcileCluster(ctx context.Context, cluster string) error {
	services, _, err := c.db.Services(ctx, cluster)
	if err != nil {
		return err
	}
	slices.SortStableFunc(services, func(a, b store.Service) int {
		return scheduler.Priority(&a.Service) - scheduler.Priority(&b.Service)
	})
	var errs []error
	for _, s := range services {
		if s.Status == ecs.ServiceInactive {
			continue
		}
		if err := c.Reconcile(ctx, cluster, s.ServiceName); err != nil {
			errs = append(errs, fmt.Errorf("reconcile service %s: %w", s.ServiceName, err))
		}
	}
	return errors.Join(errs...)
}
