package scheduler

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement"
)

// Env is what a call takes from the outside world: the time, and a seed
// from which it draws the IDs it creates (use a fresh random one per call).
type Env struct {
	Now  time.Time
	Seed int64
}

// Result is a service as a lifecycle call left it: its ECS shape, the
// scheduler's state (opaque JSON for store.ServiceState.Scheduler) and the
// events to append to its outbox in the same write.
type Result struct {
	Service ecs.Service
	State   json.RawMessage
	Events  []Event
}

// CreateRequest is CreateService as the scheduler sees it. Base carries
// everything the scheduler passes through untouched (names, ARNs,
// launchType, networkConfiguration, loadBalancers, tags, ...); the other
// fields are the request's scheduling fields as decoded (nil: not given).
type CreateRequest struct {
	Base ecs.Service
	// TaskDefinition is the revision the request resolved to.
	TaskDefinition                *ecs.TaskDefinition
	SchedulingStrategy            string
	DesiredCount                  *int
	DeploymentConfiguration       *ecs.DeploymentConfiguration
	DeploymentController          *ecs.DeploymentController
	PlacementConstraints          []ecs.PlacementConstraint
	PlacementStrategy             []ecs.PlacementStrategy
	HealthCheckGracePeriodSeconds *int
}

// Create validates CreateService's scheduling fields and returns the new
// service: ACTIVE, its defaults filled in, with a first PRIMARY deployment
// IN_PROGRESS and its SERVICE_DEPLOYMENT_IN_PROGRESS event. Errors are
// *ecs.Error naming the field.
func Create(req CreateRequest, env Env) (Result, error) {
	svc := req.Base
	strategy := req.SchedulingStrategy
	if strategy == "" {
		strategy = ecs.SchedulingReplica
	}
	if strategy != ecs.SchedulingReplica && strategy != ecs.SchedulingDaemon {
		return Result{}, ecs.InvalidParameter("schedulingStrategy: %q is not valid; valid: REPLICA, DAEMON", strategy)
	}
	svc.SchedulingStrategy = strategy
	daemon := strategy == ecs.SchedulingDaemon
	if req.TaskDefinition == nil || req.TaskDefinition.TaskDefinitionArn == "" {
		return Result{}, ecs.InvalidParameter("taskDefinition: a task definition is required")
	}
	if err := validateController(req.DeploymentController); err != nil {
		return Result{}, err
	}
	desired, err := createDesiredCount(req.DesiredCount, daemon)
	if err != nil {
		return Result{}, err
	}
	dc, err := mergeDeploymentConfiguration(nil, req.DeploymentConfiguration, daemon)
	if err != nil {
		return Result{}, err
	}
	if err := validatePlacement(req.PlacementConstraints, req.PlacementStrategy, req.TaskDefinition, daemon); err != nil {
		return Result{}, err
	}
	if err := validateGracePeriod(req.HealthCheckGracePeriodSeconds); err != nil {
		return Result{}, err
	}
	svc.Status = ecs.ServiceActive
	svc.DesiredCount = desired
	svc.RunningCount, svc.PendingCount = 0, 0
	svc.TaskDefinition = req.TaskDefinition.TaskDefinitionArn
	svc.DeploymentConfiguration = dc
	svc.DeploymentController = &ecs.DeploymentController{Type: "ECS"}
	svc.PlacementConstraints = nonNil(req.PlacementConstraints)
	svc.PlacementStrategy = nonNil(req.PlacementStrategy)
	svc.HealthCheckGracePeriodSeconds = req.HealthCheckGracePeriodSeconds
	svc.CreatedAt = ecs.At(env.Now)
	svc.Events = []ecs.ServiceEvent{}
	svc.LoadBalancers = nonNil(svc.LoadBalancers)
	svc.ServiceRegistries = nonNil(svc.ServiceRegistries)
	g := newIDs(env.Seed, env.Now)
	d := newDeployment(&svc, g.deploymentID(), svc.TaskDefinition, env.Now)
	svc.Deployments = []ecs.Deployment{d}
	var st State
	st.deployment(d.ID)
	return finish(svc, st, []Event{inProgressEvent(d, env.Now)})
}

func createDesiredCount(n *int, daemon bool) (int, error) {
	if daemon {
		if n != nil {
			return 0, ecs.InvalidParameter("desiredCount: the DAEMON scheduling strategy does not support a desired count; it runs one task on each container instance")
		}
		return 0, nil
	}
	if n == nil {
		return 0, ecs.InvalidParameter("desiredCount: required for the REPLICA scheduling strategy")
	}
	return *n, validateDesiredCount(*n)
}

func validateDesiredCount(n int) error {
	if n < 0 {
		return ecs.InvalidParameter("desiredCount: must not be negative, got %d", n)
	}
	if n > MaxDesiredCount {
		return ecs.Errorf(ecs.LimitExceededException, "desiredCount: %d is above the quota of %d tasks per service", n, MaxDesiredCount)
	}
	return nil
}

func validateController(c *ecs.DeploymentController) error {
	if c == nil || c.Type == "" || c.Type == "ECS" {
		return nil
	}
	switch c.Type {
	case "CODE_DEPLOY", "EXTERNAL":
		return ecs.InvalidParameter("deploymentController.type: %s is not supported; Berth deploys services with the ECS (rolling update) controller", c.Type)
	}
	return ecs.InvalidParameter("deploymentController.type: %q is not valid; valid: ECS, CODE_DEPLOY, EXTERNAL", c.Type)
}

// validatePlacement checks constraints (at most 10 with the task
// definition's, memberOf expressions compiled) and strategies (at most 5;
// none for a daemon service).
func validatePlacement(cs []ecs.PlacementConstraint, ss []ecs.PlacementStrategy, td *ecs.TaskDefinition, daemon bool) error {
	if daemon && len(ss) > 0 {
		return ecs.InvalidParameter("placementStrategy: the DAEMON scheduling strategy does not support placement strategies")
	}
	req := placement.Request{Count: 1, Constraints: cs, Strategies: ss}
	if td != nil {
		req.TaskDefinitionConstraints = td.PlacementConstraints
	}
	if err := placement.Validate(req); err != nil {
		return fmt.Errorf("validate placement: %w", err)
	}
	return nil
}

func validateGracePeriod(p *int) error {
	if p != nil && (*p < 0 || *p > math.MaxInt32) {
		return ecs.InvalidParameter("healthCheckGracePeriodSeconds: must be between 0 and %d, got %d", math.MaxInt32, *p)
	}
	return nil
}

// mergeDeploymentConfiguration applies an update to the current
// configuration (nil for a new service), fills ECS's defaults and validates
// the result.
func mergeDeploymentConfiguration(cur, upd *ecs.DeploymentConfiguration, daemon bool) (*ecs.DeploymentConfiguration, error) {
	out := ecs.DeploymentConfiguration{}
	if cur != nil {
		out = *cur
	}
	if upd != nil {
		if upd.MaximumPercent != nil {
			out.MaximumPercent = upd.MaximumPercent
		}
		if upd.MinimumHealthyPercent != nil {
			out.MinimumHealthyPercent = upd.MinimumHealthyPercent
		}
		if upd.DeploymentCircuitBreaker != nil {
			out.DeploymentCircuitBreaker = upd.DeploymentCircuitBreaker
		}
		if upd.Alarms != nil {
			out.Alarms = upd.Alarms
		}
		if upd.Strategy != "" {
			out.Strategy = upd.Strategy
		}
		if upd.BakeTimeInMinutes != nil {
			out.BakeTimeInMinutes = upd.BakeTimeInMinutes
		}
	}
	if err := validateDeploymentConfiguration(&out, daemon); err != nil {
		return nil, err
	}
	maxPct, minPct := DefaultReplicaMaximumPercent, DefaultReplicaMinimumHealthyPercent
	if daemon {
		maxPct, minPct = DefaultDaemonMaximumPercent, DefaultDaemonMinimumHealthyPercent
	}
	if out.MaximumPercent == nil {
		out.MaximumPercent = &maxPct
	}
	if out.MinimumHealthyPercent == nil {
		out.MinimumHealthyPercent = &minPct
	}
	if out.DeploymentCircuitBreaker == nil {
		out.DeploymentCircuitBreaker = &ecs.DeploymentCircuitBreaker{}
	}
	if out.Strategy == "" {
		out.Strategy = "ROLLING"
	}
	return &out, nil
}

// UpdateRequest is UpdateService as the scheduler sees it (nil: not given).
type UpdateRequest struct {
	DesiredCount *int
	// TaskDefinition is the revision the service runs after the update: the
	// one the request named, or the current one (so the placement
	// constraints can be counted with its own). A revision other than the
	// service's current one starts a deployment; nil leaves it unchanged.
	TaskDefinition *ecs.TaskDefinition
	// ForceNewDeployment starts a deployment of the same task definition;
	// set it too for other changes that need new tasks (network
	// configuration, load balancers, ...).
	ForceNewDeployment      bool
	DeploymentConfiguration *ecs.DeploymentConfiguration
	// PlacementConstraints and PlacementStrategy replace the service's
	// when not nil; an empty, non-nil list removes them. Neither starts a
	// deployment.
	PlacementConstraints          []ecs.PlacementConstraint
	PlacementStrategy             []ecs.PlacementStrategy
	HealthCheckGracePeriodSeconds *int
}

// Update applies UpdateService: a new desiredCount only changes counts; a
// new task definition or ForceNewDeployment starts a PRIMARY deployment
// (the previous PRIMARY becomes ACTIVE) and resets the start throttle.
// ServiceNotActiveException when the service is not ACTIVE.
func Update(svc ecs.Service, state json.RawMessage, req UpdateRequest, env Env) (Result, error) {
	if svc.Status != ecs.ServiceActive {
		return Result{}, ecs.Errorf(ecs.ServiceNotActiveException, "Service was not ACTIVE.")
	}
	st, err := DecodeState(state)
	if err != nil {
		return Result{}, err
	}
	daemon := isDaemon(&svc)
	if req.DesiredCount != nil {
		if daemon {
			return Result{}, ecs.InvalidParameter("desiredCount: the DAEMON scheduling strategy does not support a desired count; it runs one task on each container instance")
		}
		if err := validateDesiredCount(*req.DesiredCount); err != nil {
			return Result{}, err
		}
	}
	dc, err := mergeDeploymentConfiguration(svc.DeploymentConfiguration, req.DeploymentConfiguration, daemon)
	if err != nil {
		return Result{}, err
	}
	constraints, strategies := svc.PlacementConstraints, svc.PlacementStrategy
	if req.PlacementConstraints != nil {
		constraints = req.PlacementConstraints
	}
	if req.PlacementStrategy != nil {
		strategies = req.PlacementStrategy
	}
	if err := validatePlacement(constraints, strategies, req.TaskDefinition, daemon); err != nil {
		return Result{}, err
	}
	if err := validateGracePeriod(req.HealthCheckGracePeriodSeconds); err != nil {
		return Result{}, err
	}
	svc.Deployments = cloneDeployments(svc.Deployments)
	svc.DeploymentConfiguration = dc
	svc.PlacementConstraints = nonNil(constraints)
	svc.PlacementStrategy = nonNil(strategies)
	if req.HealthCheckGracePeriodSeconds != nil {
		svc.HealthCheckGracePeriodSeconds = req.HealthCheckGracePeriodSeconds
	}
	if req.DesiredCount != nil {
		svc.DesiredCount = *req.DesiredCount
		if p := primaryOf(svc.Deployments); p != nil && p.DesiredCount != svc.DesiredCount {
			p.DesiredCount = svc.DesiredCount
			p.UpdatedAt = ecs.At(env.Now)
		}
	}
	var events []Event
	newTD := req.TaskDefinition != nil && req.TaskDefinition.TaskDefinitionArn != "" && req.TaskDefinition.TaskDefinitionArn != svc.TaskDefinition
	if newTD || req.ForceNewDeployment {
		td := svc.TaskDefinition
		if newTD {
			td = req.TaskDefinition.TaskDefinitionArn
		}
		d := startDeployment(&svc, &st, freshDeploymentID(&svc, newIDs(env.Seed, env.Now)), td, env.Now)
		events = append(events, inProgressEvent(*d, env.Now))
	}
	return finish(svc, st, events)
}

// freshDeploymentID draws a deployment ID the service does not list yet:
// a caller reusing a seed must not make two deployments one.
func freshDeploymentID(svc *ecs.Service, g *ids) string {
	for {
		id := g.deploymentID()
		if !slices.ContainsFunc(svc.Deployments, func(d ecs.Deployment) bool { return d.ID == id }) {
			return id
		}
	}
}

// startDeployment makes a new PRIMARY deployment of td: the previous PRIMARY
// becomes ACTIVE and the start throttle starts over.
func startDeployment(svc *ecs.Service, st *State, id, td string, now time.Time) *ecs.Deployment {
	at := ecs.At(now)
	for i := range svc.Deployments {
		if svc.Deployments[i].Status == ecs.DeploymentPrimary {
			svc.Deployments[i].Status = ecs.DeploymentActive
			svc.Deployments[i].UpdatedAt = at
		}
	}
	svc.TaskDefinition = td
	d := newDeployment(svc, id, td, now)
	svc.Deployments = append([]ecs.Deployment{d}, svc.Deployments...)
	st.deployment(id)
	st.Throttle = Throttle{}
	return &svc.Deployments[0]
}

func newDeployment(svc *ecs.Service, id, td string, now time.Time) ecs.Deployment {
	at := ecs.At(now)
	return ecs.Deployment{
		ID:                       id,
		Status:                   ecs.DeploymentPrimary,
		TaskDefinition:           td,
		DesiredCount:             svc.DesiredCount,
		CreatedAt:                at,
		UpdatedAt:                at,
		LaunchType:               svc.LaunchType,
		CapacityProviderStrategy: svc.CapacityProviderStrategy,
		PlatformVersion:          svc.PlatformVersion,
		PlatformFamily:           svc.PlatformFamily,
		NetworkConfiguration:     svc.NetworkConfiguration,
		RolloutState:             ecs.RolloutInProgress,
		RolloutStateReason:       InProgressReason(id),
	}
}

func inProgressEvent(d ecs.Deployment, now time.Time) Event {
	return Event{
		DetailType: DetailDeploymentStateChange, EventType: EventInfo, EventName: DeploymentInProgress,
		Reason: d.RolloutStateReason, DeploymentID: d.ID, At: ecs.At(now),
	}
}

// Delete applies DeleteService: a REPLICA service must be scaled to 0 first
// unless force is set. The service becomes DRAINING with desiredCount 0;
// Reconcile stops its tasks and makes it INACTIVE once every task is
// STOPPING or STOPPED.
func Delete(svc ecs.Service, state json.RawMessage, force bool, env Env) (Result, error) {
	if svc.Status != ecs.ServiceActive {
		return Result{}, ecs.Errorf(ecs.ServiceNotActiveException, "Service was not ACTIVE.")
	}
	st, err := DecodeState(state)
	if err != nil {
		return Result{}, err
	}
	if !force && !isDaemon(&svc) && svc.DesiredCount > 0 {
		return Result{}, ecs.InvalidParameter("The service cannot be stopped while it is scaled above 0.")
	}
	svc.Deployments = cloneDeployments(svc.Deployments)
	svc.Status = ecs.ServiceDraining
	svc.DesiredCount = 0
	for i := range svc.Deployments {
		if svc.Deployments[i].Status == ecs.DeploymentPrimary && svc.Deployments[i].DesiredCount != 0 {
			svc.Deployments[i].DesiredCount = 0
			svc.Deployments[i].UpdatedAt = ecs.At(env.Now)
		}
	}
	return finish(svc, st, nil)
}

func finish(svc ecs.Service, st State, events []Event) (Result, error) {
	raw, err := st.Encode()
	if err != nil {
		return Result{}, err
	}
	return Result{Service: svc, State: raw, Events: events}, nil
}

func primaryOf(ds []ecs.Deployment) *ecs.Deployment {
	for i := range ds {
		if ds[i].Status == ecs.DeploymentPrimary {
			return &ds[i]
		}
	}
	return nil
}

func cloneDeployments(ds []ecs.Deployment) []ecs.Deployment {
	return append([]ecs.Deployment(nil), ds...)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
