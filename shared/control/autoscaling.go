package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/scheduler"
	"github.com/berth-run/berth/shared/store"
)

// Autoscaling serves Application Auto Scaling for ECS services
// (RegisterScalableTarget, PutScalingPolicy, the Describe actions, ...)
// and runs the scaler: alarm state changes and the monitor's tick become
// desired-count changes through scaling.Decide. Alarms and metrics go
// through small ports (AlarmSource, AlarmManager, MetricSink), so the same
// handlers run over Berth's local alarm store and over CloudWatch.
type Autoscaling struct {
	c           *Control
	alarms      AlarmSource
	manager     AlarmManager
	metrics     MetricSink
	evaluate    func(context.Context) error
	setDesired  DesiredCountSetter
	newID       func() string
	rerunEvery  time.Duration
	metricClock func() time.Time
	reportEvery time.Duration
	log         *slog.Logger
}

// DesiredCountSetter applies a new desired count to a service read from
// the store; the scaler commits the result with its cooldowns and activity
// in one transaction.
type DesiredCountSetter func(ctx context.Context, s *store.Service, desired int, now time.Time) error

// AutoscalingOptions configure Autoscaling.
type AutoscalingOptions struct {
	// Alarms is where the scaler reads alarms; Manager creates and deletes
	// those target tracking policies own (typically the same value).
	Alarms  AlarmSource
	Manager AlarmManager
	// Metrics receives the agents' utilization reports.
	Metrics MetricSink
	// Evaluate, when set, runs on every Tick before alarms in ALARM are
	// re-run: the local evaluator (LocalAlarms.Evaluate). CloudWatch
	// evaluates its own alarms, so it is nil in AWS.
	Evaluate func(context.Context) error
	// SetDesired applies a desired count; nil means Control.SetDesiredCount,
	// UpdateService's path.
	SetDesired DesiredCountSetter
	// NewID draws UUIDs (policy and activity IDs, alarm names); nil means
	// bus.RandomIDs().
	NewID func() string
	// RerunEvery is how often an alarm that stays in ALARM runs its
	// policies again (CloudWatch re-invokes scaling actions every minute).
	RerunEvery time.Duration
	// MetricClock timestamps the utilization agents report; nil means the
	// control plane's clock (see CompressedClock).
	MetricClock func() time.Time
	// ReportEvery is how often agents are asked to report utilization;
	// zero means DefaultReportEvery.
	ReportEvery time.Duration
	Logger      *slog.Logger
}

// NewAutoscaling builds the Application Auto Scaling use cases over c.
func NewAutoscaling(c *Control, opts AutoscalingOptions) *Autoscaling {
	a := &Autoscaling{c: c, alarms: opts.Alarms, manager: opts.Manager, metrics: opts.Metrics, evaluate: opts.Evaluate,
		setDesired: opts.SetDesired, newID: opts.NewID, rerunEvery: opts.RerunEvery, metricClock: opts.MetricClock,
		reportEvery: opts.ReportEvery, log: opts.Logger}
	if a.setDesired == nil {
		a.setDesired = c.SetDesiredCount
	}
	if a.newID == nil {
		a.newID = bus.RandomIDs()
	}
	if a.rerunEvery == 0 {
		a.rerunEvery = time.Minute
	}
	if a.metricClock == nil {
		a.metricClock = c.now
	}
	if a.reportEvery == 0 {
		a.reportEvery = DefaultReportEvery
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	return a
}

// SetDesiredCount changes a service's desired count exactly as
// UpdateService(desiredCount) does, through the scheduler (which also moves
// the PRIMARY deployment's count), without writing: the caller commits.
func (c *Control) SetDesiredCount(ctx context.Context, s *store.Service, desired int, now time.Time) error {
	var td *ecs.TaskDefinition
	if s.TaskDefinition != "" {
		current, err := c.taskDefinitionByARN(ctx, s.TaskDefinition)
		if err != nil {
			return fmt.Errorf("read task definition of service %s: %w", s.ServiceName, err)
		}
		td = &current
	}
	res, err := scheduler.Update(s.Service, s.Berth.Scheduler, scheduler.UpdateRequest{DesiredCount: &desired, TaskDefinition: td},
		scheduler.Env{Now: now, Seed: c.seed()})
	if err != nil {
		return err
	}
	s.Service, s.Berth.Scheduler = res.Service, res.State
	s.AddOutbox(outbox(res.Events)...)
	return nil
}

// namespaces are the ServiceNamespace values AAS accepts; Berth registers
// targets only in ecs and answers empty lists for the others.
var namespaces = []string{"ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker",
	"custom-resource", "comprehend", "lambda", "cassandra", "kafka", "elasticache", "neptune", "workspaces"}

// InvalidNextTokenException is AAS's error for a NextToken it did not issue.
const InvalidNextTokenException = "InvalidNextTokenException"

func checkNamespace(ns string) error {
	if ns == "" {
		return scaling.Validation("1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if !slices.Contains(namespaces, ns) {
		return scaling.Validation("1 validation error detected: Value '%s' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: [%s]", ns, strings.Join(namespaces, ", "))
	}
	return nil
}

// checkFilter validates the optional ResourceId and ScalableDimension of a
// Describe request in the ecs namespace.
func checkFilter(ns, resourceID, dimension string) error {
	if dimension != "" && resourceID == "" {
		return scaling.Validation("If you specify a ScalableDimension, you must also specify a ResourceId")
	}
	if ns == scaling.NamespaceECS && resourceID != "" {
		if _, err := scaling.ParseResourceID("ResourceId", resourceID); err != nil {
			return err
		}
	}
	return nil
}

func listLimit(maxResults *int32, def, most int32) (int, error) {
	if maxResults == nil {
		return int(def), nil
	}
	if *maxResults < 1 || *maxResults > most {
		return 0, scaling.Validation("MaxResults must be between 1 and %d, got %d", most, *maxResults)
	}
	return int(*maxResults), nil
}

// listingError turns the store's complaint about a token into AAS's.
func listingError(err error) error {
	if errors.Is(err, store.ErrInvalidToken) {
		return ecs.Errorf(InvalidNextTokenException, "Invalid token")
	}
	return err
}

func targetKey(ns, resourceID, dimension string) scaling.TargetKey {
	return scaling.TargetKey{ServiceNamespace: ns, ResourceID: resourceID, ScalableDimension: dimension}
}

// serviceScalable checks that the service behind a target can be scaled.
func serviceScalable(tx *store.ScalingTx) error {
	switch {
	case tx.Service == nil || tx.Service.Status == ecs.ServiceInactive:
		return scaling.ServiceDoesNotExist(tx.Key.ResourceID)
	case tx.Service.Status != ecs.ServiceActive:
		return scaling.Validation("ECS service %s is %s; only an ACTIVE service can be registered as a scalable target", tx.Key.ResourceID, tx.Service.Status)
	}
	return nil
}

// RegisterScalableTargetOutput is RegisterScalableTarget's response.
type RegisterScalableTargetOutput struct {
	ScalableTargetARN string `json:"ScalableTargetARN"`
}

// RegisterScalableTarget registers an ACTIVE ECS service as a scalable
// target or updates a registered one. When new bounds leave the desired
// count outside [Min, Max], it is moved inside them at once, with an
// activity, as AAS does.
func (a *Autoscaling) RegisterScalableTarget(ctx context.Context, in *scaling.RegisterScalableTargetInput) (*RegisterScalableTargetOutput, error) {
	key := targetKey(in.ServiceNamespace, in.ResourceID, in.ScalableDimension)
	if _, err := scaling.ValidateTargetKey(key); err != nil {
		return nil, err
	}
	newARN := scaling.ScalableTargetARN(a.c.acct, a.c.db.NewID())
	var arn string
	err := a.c.db.UpdateScaling(ctx, key, true, func(tx *store.ScalingTx) error {
		if err := serviceScalable(tx); err != nil {
			return err
		}
		now := a.c.now()
		stored := store.ScalableTarget{Berth: store.ScalableTargetState{Tags: in.Tags}}
		var existing *scaling.ScalableTarget
		if tx.Target != nil {
			stored = *tx.Target
			existing = &stored.ScalableTarget
		}
		t, err := scaling.ApplyRegisterScalableTarget(*in, existing, now, newARN)
		if err != nil {
			return err
		}
		stored.ScalableTarget = t
		tx.Target, tx.PutTarget = &stored, true
		arn = t.ScalableTargetARN
		return a.applyBounds(ctx, tx, now)
	})
	if err != nil {
		return nil, err
	}
	return &RegisterScalableTargetOutput{ScalableTargetARN: arn}, nil
}

// applyBounds brings the service's desired count inside the target's
// bounds within tx.
func (a *Autoscaling) applyBounds(ctx context.Context, tx *store.ScalingTx, now time.Time) error {
	d := scaling.ApplyBounds(tx.Target.ScalableTarget, int32(tx.Service.DesiredCount))
	if !d.Changed() {
		return nil
	}
	if err := a.setDesired(ctx, tx.Service, int(d.Desired), now); err != nil {
		return err
	}
	tx.PutService = true
	if act, ok := d.Activity(tx.Target.ScalableTarget, a.newID(), now); ok {
		tx.Activities = append(tx.Activities, act)
	}
	return nil
}

// DeregisterScalableTargetInput is DeregisterScalableTarget's request.
type DeregisterScalableTargetInput struct {
	ServiceNamespace  string `json:"ServiceNamespace"`
	ResourceID        string `json:"ResourceId"`
	ScalableDimension string `json:"ScalableDimension"`
}

// DeregisterScalableTargetOutput is empty.
type DeregisterScalableTargetOutput struct{}

// DeregisterScalableTarget deletes a target with its scaling policies and
// the alarms its target tracking policies own. The service keeps its
// desired count.
func (a *Autoscaling) DeregisterScalableTarget(ctx context.Context, in *DeregisterScalableTargetInput) (*DeregisterScalableTargetOutput, error) {
	key := targetKey(in.ServiceNamespace, in.ResourceID, in.ScalableDimension)
	if _, err := scaling.ValidateTargetKey(key); err != nil {
		return nil, err
	}
	var owned []string
	err := a.c.db.UpdateScaling(ctx, key, false, func(tx *store.ScalingTx) error {
		if tx.Target == nil {
			return scaling.NoScalableTarget(key.ServiceNamespace, key.ResourceID, key.ScalableDimension)
		}
		owned = nil
		tx.DeletePolicies = nil
		for _, p := range tx.Policies {
			tx.DeletePolicies = append(tx.DeletePolicies, p.PolicyName)
			owned = append(owned, ownedAlarms(p)...)
		}
		tx.DeleteTarget = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := a.deleteAlarms(ctx, owned); err != nil {
		return nil, err
	}
	return &DeregisterScalableTargetOutput{}, nil
}

// ownedAlarms names the alarms a policy owns: a target tracking policy's.
func ownedAlarms(p scaling.ScalingPolicy) []string {
	if p.PolicyType != scaling.PolicyTypeTargetTracking {
		return nil
	}
	names := make([]string, len(p.Alarms))
	for i, al := range p.Alarms {
		names[i] = al.AlarmName
	}
	return names
}

func (a *Autoscaling) deleteAlarms(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	if err := a.manager.DeleteAlarms(ctx, names); err != nil {
		return scaling.InternalService(fmt.Errorf("delete alarms %v: %w", names, err))
	}
	return nil
}

// DescribeScalableTargetsInput is DescribeScalableTargets' request.
type DescribeScalableTargetsInput struct {
	ServiceNamespace  string   `json:"ServiceNamespace"`
	ResourceIDs       []string `json:"ResourceIds,omitempty"`
	ScalableDimension string   `json:"ScalableDimension,omitempty"`
	MaxResults        *int32   `json:"MaxResults,omitempty"`
	NextToken         string   `json:"NextToken,omitempty"`
}

// DescribeScalableTargetsOutput is DescribeScalableTargets' response.
type DescribeScalableTargetsOutput struct {
	ScalableTargets []scaling.ScalableTarget `json:"ScalableTargets"`
	NextToken       string                   `json:"NextToken,omitempty"`
}

// maxDescribeResourceIDs is AAS's limit on ResourceIds.
const maxDescribeResourceIDs = 50

// DescribeScalableTargets lists a namespace's targets, optionally only the
// named resources and one dimension, 50 to a page by default.
func (a *Autoscaling) DescribeScalableTargets(ctx context.Context, in *DescribeScalableTargetsInput) (*DescribeScalableTargetsOutput, error) {
	if err := checkNamespace(in.ServiceNamespace); err != nil {
		return nil, err
	}
	if len(in.ResourceIDs) > maxDescribeResourceIDs {
		return nil, scaling.Validation("ResourceIds: at most %d resource IDs are allowed, got %d", maxDescribeResourceIDs, len(in.ResourceIDs))
	}
	limit, err := listLimit(in.MaxResults, 50, 50)
	if err != nil {
		return nil, err
	}
	out := &DescribeScalableTargetsOutput{ScalableTargets: []scaling.ScalableTarget{}}
	if in.ServiceNamespace != scaling.NamespaceECS {
		return out, nil
	}
	targets, next, err := a.c.db.ScalableTargets(ctx, in.ServiceNamespace, in.ResourceIDs, in.ScalableDimension, in.NextToken, limit)
	if err != nil {
		return nil, listingError(err)
	}
	for _, t := range targets {
		out.ScalableTargets = append(out.ScalableTargets, t.ScalableTarget)
	}
	out.NextToken = next
	return out, nil
}

// PutScalingPolicyOutput is PutScalingPolicy's response.
type PutScalingPolicyOutput struct {
	PolicyARN string          `json:"PolicyARN"`
	Alarms    []scaling.Alarm `json:"Alarms,omitempty"`
}

// PutScalingPolicy creates or updates a step scaling or target tracking
// policy of a registered target. A target tracking policy gets its
// AlarmHigh and (unless scale-in is disabled) AlarmLow alarms, created
// through the AlarmManager and returned in Alarms; alarms it no longer
// needs are deleted.
func (a *Autoscaling) PutScalingPolicy(ctx context.Context, in *scaling.PutScalingPolicyInput) (*PutScalingPolicyOutput, error) {
	key := targetKey(in.ServiceNamespace, in.ResourceID, in.ScalableDimension)
	if _, err := scaling.ValidateTargetKey(key); err != nil {
		return nil, err
	}
	policyID, highID, lowID := a.newID(), a.newID(), a.newID()
	var put scaling.ScalingPolicy
	var defs []scaling.AlarmDefinition
	var stale []string
	err := a.c.db.UpdateScaling(ctx, key, false, func(tx *store.ScalingTx) error {
		if tx.Target == nil {
			return scaling.NoScalableTarget(key.ServiceNamespace, key.ResourceID, key.ScalableDimension)
		}
		var existing *scaling.ScalingPolicy
		if p, ok := tx.Policy(in.PolicyName); ok {
			existing = &p
		} else if len(tx.Policies) >= scaling.MaxPoliciesPerTarget {
			return scaling.PolicyLimitExceeded(key.ResourceID)
		}
		p, err := scaling.ApplyPutScalingPolicy(*in, existing, a.c.now(), scaling.PolicyARN(a.c.acct, policyID, in.ResourceID, in.PolicyName))
		if err != nil {
			return err
		}
		if defs, err = a.policyAlarms(&p, highID, lowID); err != nil {
			return err
		}
		stale = nil
		if existing != nil {
			stale = withoutNames(ownedAlarms(*existing), ownedAlarms(p))
		}
		put, tx.PutPolicies = p, []scaling.ScalingPolicy{p}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(defs) > 0 {
		if err := a.manager.PutAlarms(ctx, put.PolicyARN, defs); err != nil {
			return nil, scaling.InternalService(fmt.Errorf("create the alarms of policy %s: %w", put.PolicyName, err))
		}
	}
	if err := a.deleteAlarms(ctx, stale); err != nil {
		return nil, err
	}
	return &PutScalingPolicyOutput{PolicyARN: put.PolicyARN, Alarms: put.Alarms}, nil
}

// policyAlarms defines a target tracking policy's alarms and records them
// in the policy; other policies own none.
func (a *Autoscaling) policyAlarms(p *scaling.ScalingPolicy, highID, lowID string) ([]scaling.AlarmDefinition, error) {
	if p.PolicyType != scaling.PolicyTypeTargetTracking {
		p.Alarms = nil
		return nil, nil
	}
	defs, err := scaling.TargetTrackingAlarms(a.c.acct, *p, highID, lowID)
	if err != nil {
		return nil, scaling.Validation("%v", err)
	}
	p.Alarms = scaling.AlarmRefs(defs)
	return defs, nil
}

func withoutNames(all, keep []string) []string {
	var out []string
	for _, n := range all {
		if !slices.Contains(keep, n) {
			out = append(out, n)
		}
	}
	return out
}

// DescribeScalingPoliciesInput is DescribeScalingPolicies' request.
type DescribeScalingPoliciesInput struct {
	PolicyNames       []string `json:"PolicyNames,omitempty"`
	ServiceNamespace  string   `json:"ServiceNamespace"`
	ResourceID        string   `json:"ResourceId,omitempty"`
	ScalableDimension string   `json:"ScalableDimension,omitempty"`
	MaxResults        *int32   `json:"MaxResults,omitempty"`
	NextToken         string   `json:"NextToken,omitempty"`
}

// DescribeScalingPoliciesOutput is DescribeScalingPolicies' response.
type DescribeScalingPoliciesOutput struct {
	ScalingPolicies []scaling.ScalingPolicy `json:"ScalingPolicies"`
	NextToken       string                  `json:"NextToken,omitempty"`
}

// maxDescribePolicyNames is AAS's limit on PolicyNames.
const maxDescribePolicyNames = 50

// DescribeScalingPolicies lists policies, 10 to a page by default.
func (a *Autoscaling) DescribeScalingPolicies(ctx context.Context, in *DescribeScalingPoliciesInput) (*DescribeScalingPoliciesOutput, error) {
	if err := checkNamespace(in.ServiceNamespace); err != nil {
		return nil, err
	}
	if err := checkFilter(in.ServiceNamespace, in.ResourceID, in.ScalableDimension); err != nil {
		return nil, err
	}
	if len(in.PolicyNames) > maxDescribePolicyNames {
		return nil, scaling.Validation("PolicyNames: at most %d policy names are allowed, got %d", maxDescribePolicyNames, len(in.PolicyNames))
	}
	limit, err := listLimit(in.MaxResults, 10, 10)
	if err != nil {
		return nil, err
	}
	out := &DescribeScalingPoliciesOutput{ScalingPolicies: []scaling.ScalingPolicy{}}
	if in.ServiceNamespace != scaling.NamespaceECS {
		return out, nil
	}
	f := store.PolicyFilter{Namespace: in.ServiceNamespace, ResourceID: in.ResourceID, Dimension: in.ScalableDimension, Names: in.PolicyNames}
	policies, next, err := a.c.db.ScalingPolicies(ctx, f, in.NextToken, limit)
	if err != nil {
		return nil, listingError(err)
	}
	out.ScalingPolicies = append(out.ScalingPolicies, policies...)
	out.NextToken = next
	return out, nil
}

// DeleteScalingPolicyInput is DeleteScalingPolicy's request.
type DeleteScalingPolicyInput struct {
	PolicyName        string `json:"PolicyName"`
	ServiceNamespace  string `json:"ServiceNamespace"`
	ResourceID        string `json:"ResourceId"`
	ScalableDimension string `json:"ScalableDimension"`
}

// DeleteScalingPolicyOutput is empty.
type DeleteScalingPolicyOutput struct{}

// DeleteScalingPolicy deletes a policy, its cooldown and the alarms it
// owns.
func (a *Autoscaling) DeleteScalingPolicy(ctx context.Context, in *DeleteScalingPolicyInput) (*DeleteScalingPolicyOutput, error) {
	key := targetKey(in.ServiceNamespace, in.ResourceID, in.ScalableDimension)
	if in.PolicyName == "" {
		return nil, scaling.Validation("1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null")
	}
	if _, err := scaling.ValidateTargetKey(key); err != nil {
		return nil, err
	}
	var owned []string
	err := a.c.db.UpdateScaling(ctx, key, false, func(tx *store.ScalingTx) error {
		p, ok := tx.Policy(in.PolicyName)
		if tx.Target == nil || !ok {
			return scaling.NoScalingPolicy(key.ServiceNamespace, key.ResourceID, key.ScalableDimension, in.PolicyName)
		}
		owned = ownedAlarms(p)
		tx.DeletePolicies = []string{in.PolicyName}
		if _, had := tx.Target.Berth.Cooldowns[in.PolicyName]; had {
			delete(tx.Target.Berth.Cooldowns, in.PolicyName)
			tx.PutTarget = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := a.deleteAlarms(ctx, owned); err != nil {
		return nil, err
	}
	return &DeleteScalingPolicyOutput{}, nil
}

// DescribeScalingActivitiesInput is DescribeScalingActivities' request.
type DescribeScalingActivitiesInput struct {
	ServiceNamespace           string `json:"ServiceNamespace"`
	ResourceID                 string `json:"ResourceId,omitempty"`
	ScalableDimension          string `json:"ScalableDimension,omitempty"`
	MaxResults                 *int32 `json:"MaxResults,omitempty"`
	NextToken                  string `json:"NextToken,omitempty"`
	IncludeNotScaledActivities *bool  `json:"IncludeNotScaledActivities,omitempty"`
}

// DescribeScalingActivitiesOutput is DescribeScalingActivities' response.
type DescribeScalingActivitiesOutput struct {
	ScalingActivities []scaling.ScalingActivity `json:"ScalingActivities"`
	NextToken         string                    `json:"NextToken,omitempty"`
}

// DescribeScalingActivities lists activities newest first, 50 to a page by
// default; activities that did not scale (with NotScaledReasons) only with
// IncludeNotScaledActivities.
func (a *Autoscaling) DescribeScalingActivities(ctx context.Context, in *DescribeScalingActivitiesInput) (*DescribeScalingActivitiesOutput, error) {
	if err := checkNamespace(in.ServiceNamespace); err != nil {
		return nil, err
	}
	if err := checkFilter(in.ServiceNamespace, in.ResourceID, in.ScalableDimension); err != nil {
		return nil, err
	}
	limit, err := listLimit(in.MaxResults, 50, 50)
	if err != nil {
		return nil, err
	}
	out := &DescribeScalingActivitiesOutput{ScalingActivities: []scaling.ScalingActivity{}}
	if in.ServiceNamespace != scaling.NamespaceECS {
		return out, nil
	}
	includeNotScaled := in.IncludeNotScaledActivities != nil && *in.IncludeNotScaledActivities
	keep := func(act scaling.ScalingActivity) bool { return includeNotScaled || len(act.NotScaledReasons) == 0 }
	acts, next, err := a.c.db.ScalingActivities(ctx, in.ServiceNamespace, in.ResourceID, in.ScalableDimension, in.NextToken, limit, keep)
	if err != nil {
		return nil, listingError(err)
	}
	out.ScalingActivities = append(out.ScalingActivities, acts...)
	out.NextToken = next
	return out, nil
}

// NewCloudWatchAutoscaling is Autoscaling as the Lambda functions run it:
// alarms read and managed in CloudWatch, utilization published to it.
func NewCloudWatchAutoscaling(c *Control, cw CloudWatchAPI, log *slog.Logger) *Autoscaling {
	alarms := NewCloudWatchAlarms(cw, c.now)
	return NewAutoscaling(c, AutoscalingOptions{Alarms: alarms, Manager: alarms, Metrics: CloudWatchMetrics{API: cw}, Logger: log})
}
