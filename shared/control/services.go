package control

import (
	"context"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scheduler"
	"github.com/berth-run/berth/shared/store"
)

// CreateServiceInput is CreateService's request.
type CreateServiceInput struct {
	Cluster                       string                             `json:"cluster"`
	ServiceName                   string                             `json:"serviceName"`
	TaskDefinition                string                             `json:"taskDefinition"`
	AvailabilityZoneRebalancing   string                             `json:"availabilityZoneRebalancing"`
	LoadBalancers                 []ecs.Raw                          `json:"loadBalancers"`
	ServiceRegistries             []ecs.Raw                          `json:"serviceRegistries"`
	DesiredCount                  *int                               `json:"desiredCount"`
	ClientToken                   string                             `json:"clientToken"`
	LaunchType                    string                             `json:"launchType"`
	CapacityProviderStrategy      []ecs.CapacityProviderStrategyItem `json:"capacityProviderStrategy"`
	PlatformVersion               string                             `json:"platformVersion"`
	Role                          string                             `json:"role"`
	DeploymentConfiguration       *ecs.DeploymentConfiguration       `json:"deploymentConfiguration"`
	PlacementConstraints          []ecs.PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy             []ecs.PlacementStrategy            `json:"placementStrategy"`
	NetworkConfiguration          ecs.Raw                            `json:"networkConfiguration"`
	HealthCheckGracePeriodSeconds *int                               `json:"healthCheckGracePeriodSeconds"`
	SchedulingStrategy            string                             `json:"schedulingStrategy"`
	DeploymentController          *ecs.DeploymentController          `json:"deploymentController"`
	Tags                          []ecs.Tag                          `json:"tags"`
	EnableECSManagedTags          bool                               `json:"enableECSManagedTags"`
	PropagateTags                 string                             `json:"propagateTags"`
	EnableExecuteCommand          bool                               `json:"enableExecuteCommand"`
	ServiceConnectConfiguration   ecs.Raw                            `json:"serviceConnectConfiguration"`
	VolumeConfigurations          []ecs.Raw                          `json:"volumeConfigurations"`
	VpcLatticeConfigurations      []ecs.Raw                          `json:"vpcLatticeConfigurations"`
	GatewayConnectors             []ecs.Raw                          `json:"gatewayConnectors"`
	Monitoring                    ecs.Raw                            `json:"monitoring"`
}

// ServiceOutput is the response of actions returning one service.
type ServiceOutput struct {
	Service ecs.Service `json:"service"`
}

// CreateService creates a REPLICA or DAEMON service; the reconciler then
// starts its tasks. A retry with the same clientToken returns the service.
func (c *Control) CreateService(ctx context.Context, in *CreateServiceInput) (*ServiceOutput, error) {
	if err := required("serviceName", in.ServiceName); err != nil {
		return nil, err
	}
	if !ecs.ValidName(in.ServiceName) {
		return nil, ecs.InvalidParameter("serviceName: %q must be 1-255 letters, numbers, hyphens and underscores", in.ServiceName)
	}
	if len(in.ClientToken) > 36 {
		return nil, ecs.InvalidParameter("clientToken: must be at most 36 characters")
	}
	if err := checkLaunchType(in.LaunchType, in.CapacityProviderStrategy); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	switch in.PropagateTags {
	case "", "TASK_DEFINITION", "SERVICE", "NONE":
	default:
		return nil, ecs.InvalidParameter("propagateTags: %q is not valid; valid: TASK_DEFINITION, SERVICE, NONE", in.PropagateTags)
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	td, err := c.activeTaskDefinition(ctx, "taskDefinition", in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	launchType := in.LaunchType
	if launchType == "" && len(in.CapacityProviderStrategy) == 0 {
		launchType = ecs.LaunchEC2
	}
	base := ecs.Service{
		ServiceArn:                  c.acct.ServiceARN(cluster, in.ServiceName),
		ServiceName:                 in.ServiceName,
		ClusterArn:                  c.acct.ClusterARN(cluster),
		LoadBalancers:               in.LoadBalancers,
		ServiceRegistries:           in.ServiceRegistries,
		LaunchType:                  launchType,
		CapacityProviderStrategy:    in.CapacityProviderStrategy,
		PlatformVersion:             in.PlatformVersion,
		RoleArn:                     in.Role,
		NetworkConfiguration:        in.NetworkConfiguration,
		Tags:                        in.Tags,
		CreatedBy:                   "arn:aws:iam::" + c.acct.ID + ":root",
		EnableECSManagedTags:        in.EnableECSManagedTags,
		PropagateTags:               orDefault(in.PropagateTags, "NONE"),
		EnableExecuteCommand:        in.EnableExecuteCommand,
		AvailabilityZoneRebalancing: in.AvailabilityZoneRebalancing,
	}
	res, err := scheduler.Create(scheduler.CreateRequest{
		Base: base, TaskDefinition: &td, SchedulingStrategy: in.SchedulingStrategy, DesiredCount: in.DesiredCount,
		DeploymentConfiguration: in.DeploymentConfiguration, DeploymentController: in.DeploymentController,
		PlacementConstraints: in.PlacementConstraints, PlacementStrategy: in.PlacementStrategy,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
	}, c.env())
	if err != nil {
		return nil, err
	}
	svc := store.Service{Service: res.Service, Berth: store.ServiceState{
		Cluster: cluster, ClientToken: in.ClientToken, RequestDigest: digestOf(in), Scheduler: res.State,
	}}
	svc.AddOutbox(outbox(res.Events)...)
	created, err := c.db.CreateService(ctx, svc)
	if err != nil {
		return nil, err
	}
	return &ServiceOutput{Service: created.Service}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// env is what the scheduler's calls take from the world: the time and fresh randomness.
func (c *Control) env() scheduler.Env { return scheduler.Env{Now: c.now(), Seed: c.seed()} }

// activeTaskDefinition resolves a reference to an ACTIVE revision.
func (c *Control) activeTaskDefinition(ctx context.Context, field, ref string) (ecs.TaskDefinition, error) {
	r, err := ecs.ParseTaskDefinitionRef(field, ref)
	if err != nil {
		return ecs.TaskDefinition{}, err
	}
	td, _, err := c.db.TaskDefinition(ctx, r)
	if err != nil {
		return ecs.TaskDefinition{}, err
	}
	if td.Status != ecs.TaskDefinitionActive {
		return ecs.TaskDefinition{}, ecs.Client("%s: %s is %s; services can only use ACTIVE task definitions", field, td.TaskDefinitionArn, td.Status)
	}
	return td, nil
}

// outbox converts the scheduler's events for the service's outbox.
func outbox(events []scheduler.Event) []store.OutboxEvent {
	out := make([]store.OutboxEvent, len(events))
	for i, e := range events {
		out[i] = store.OutboxEvent{DetailType: e.DetailType, EventType: e.EventType, EventName: e.EventName,
			Reason: e.Reason, DeploymentID: e.DeploymentID, Instances: e.Instances, At: e.At}
	}
	return out
}

// UpdateServiceInput is UpdateService's request.
type UpdateServiceInput struct {
	Cluster                       string                             `json:"cluster"`
	Service                       string                             `json:"service"`
	DesiredCount                  *int                               `json:"desiredCount"`
	TaskDefinition                string                             `json:"taskDefinition"`
	CapacityProviderStrategy      []ecs.CapacityProviderStrategyItem `json:"capacityProviderStrategy"`
	DeploymentConfiguration       *ecs.DeploymentConfiguration       `json:"deploymentConfiguration"`
	AvailabilityZoneRebalancing   string                             `json:"availabilityZoneRebalancing"`
	NetworkConfiguration          ecs.Raw                            `json:"networkConfiguration"`
	PlacementConstraints          []ecs.PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy             []ecs.PlacementStrategy            `json:"placementStrategy"`
	PlatformVersion               string                             `json:"platformVersion"`
	ForceNewDeployment            bool                               `json:"forceNewDeployment"`
	HealthCheckGracePeriodSeconds *int                               `json:"healthCheckGracePeriodSeconds"`
	DeploymentController          *ecs.DeploymentController          `json:"deploymentController"`
	EnableExecuteCommand          *bool                              `json:"enableExecuteCommand"`
	EnableECSManagedTags          *bool                              `json:"enableECSManagedTags"`
	LoadBalancers                 []ecs.Raw                          `json:"loadBalancers"`
	PropagateTags                 string                             `json:"propagateTags"`
	ServiceRegistries             []ecs.Raw                          `json:"serviceRegistries"`
	ServiceConnectConfiguration   ecs.Raw                            `json:"serviceConnectConfiguration"`
	VolumeConfigurations          []ecs.Raw                          `json:"volumeConfigurations"`
	VpcLatticeConfigurations      []ecs.Raw                          `json:"vpcLatticeConfigurations"`
	GatewayConnectors             []ecs.Raw                          `json:"gatewayConnectors"`
	Monitoring                    ecs.Raw                            `json:"monitoring"`
}

// UpdateService changes a service's desired count, task definition (a new
// deployment), deployment configuration or placement.
func (c *Control) UpdateService(ctx context.Context, in *UpdateServiceInput) (*ServiceOutput, error) {
	cluster, name, err := c.serviceRef(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	var td *ecs.TaskDefinition
	if in.TaskDefinition != "" {
		resolved, err := c.activeTaskDefinition(ctx, "taskDefinition", in.TaskDefinition)
		if err != nil {
			return nil, err
		}
		td = &resolved
	}
	force := in.ForceNewDeployment || in.NetworkConfiguration != nil || in.LoadBalancers != nil || in.ServiceRegistries != nil
	s, err := c.db.UpdateService(ctx, cluster, name, func(s *store.Service) error {
		current := td
		if current == nil {
			resolved, err := c.taskDefinitionByARN(ctx, s.TaskDefinition)
			if err != nil {
				return err
			}
			current = &resolved
		}
		res, err := scheduler.Update(s.Service, s.Berth.Scheduler, scheduler.UpdateRequest{
			DesiredCount: in.DesiredCount, TaskDefinition: current, ForceNewDeployment: force,
			DeploymentConfiguration: in.DeploymentConfiguration, PlacementConstraints: in.PlacementConstraints,
			PlacementStrategy: in.PlacementStrategy, HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		}, c.env())
		if err != nil {
			return err
		}
		applyPassThrough(&res.Service, in)
		s.Service, s.Berth.Scheduler = res.Service, res.State
		s.AddOutbox(outbox(res.Events)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ServiceOutput{Service: s.Service}, nil
}

// applyPassThrough copies the update's fields the scheduler does not own.
func applyPassThrough(s *ecs.Service, in *UpdateServiceInput) {
	if in.NetworkConfiguration != nil {
		s.NetworkConfiguration = in.NetworkConfiguration
	}
	if in.LoadBalancers != nil {
		s.LoadBalancers = in.LoadBalancers
	}
	if in.ServiceRegistries != nil {
		s.ServiceRegistries = in.ServiceRegistries
	}
	if in.PlatformVersion != "" {
		s.PlatformVersion = in.PlatformVersion
	}
	if in.PropagateTags != "" {
		s.PropagateTags = in.PropagateTags
	}
	if in.EnableExecuteCommand != nil {
		s.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if in.EnableECSManagedTags != nil {
		s.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.AvailabilityZoneRebalancing != "" {
		s.AvailabilityZoneRebalancing = in.AvailabilityZoneRebalancing
	}
}

// serviceRef resolves a cluster and a service given by name or ARN.
func (c *Control) serviceRef(ctx context.Context, clusterRef, serviceRef string) (string, string, error) {
	if err := required("service", serviceRef); err != nil {
		return "", "", err
	}
	cluster, err := c.activeCluster(ctx, clusterRef)
	if err != nil {
		return "", "", err
	}
	name := serviceRef
	if ecs.IsARN(serviceRef) {
		a, ok := ecs.ParseARN(serviceRef)
		if !ok || a.Type != "service" || len(a.Path) != 2 {
			return "", "", ecs.InvalidParameter("service: %q is not a valid service ARN", serviceRef)
		}
		if a.Path[0] != cluster {
			return "", "", ecs.InvalidParameter("service: %q belongs to cluster %q, not %q", serviceRef, a.Path[0], cluster)
		}
		name = a.Path[1]
	}
	if !ecs.ValidName(name) {
		return "", "", ecs.InvalidParameter("service: %q must be 1-255 letters, numbers, hyphens and underscores", name)
	}
	return cluster, name, nil
}

// DeleteServiceInput is DeleteService's request.
type DeleteServiceInput struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Force   *bool  `json:"force"`
}

// DeleteService drains a service: its tasks stop and it becomes INACTIVE.
// A REPLICA service must be scaled to 0 first unless force is set.
func (c *Control) DeleteService(ctx context.Context, in *DeleteServiceInput) (*ServiceOutput, error) {
	cluster, name, err := c.serviceRef(ctx, in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	s, err := c.db.UpdateService(ctx, cluster, name, func(s *store.Service) error {
		res, err := scheduler.Delete(s.Service, s.Berth.Scheduler, in.Force != nil && *in.Force, c.env())
		if err != nil {
			return err
		}
		s.Service, s.Berth.Scheduler = res.Service, res.State
		s.AddOutbox(outbox(res.Events)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ServiceOutput{Service: s.Service}, nil
}

// DescribeServicesInput is DescribeServices' request.
type DescribeServicesInput struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"`
	Include  []string `json:"include"`
}

// DescribeServicesOutput is DescribeServices' response.
type DescribeServicesOutput struct {
	Services []ecs.Service `json:"services"`
	Failures []ecs.Failure `json:"failures"`
}

// DescribeServices describes up to 10 services; unknown ones come back as
// failures with reason MISSING.
func (c *Control) DescribeServices(ctx context.Context, in *DescribeServicesInput) (*DescribeServicesOutput, error) {
	if len(in.Services) == 0 {
		return nil, ecs.InvalidParameter("services: is required")
	}
	if err := maxItems("services", len(in.Services), 10); err != nil {
		return nil, err
	}
	if err := checkInclude("include", in.Include, "TAGS"); err != nil {
		return nil, err
	}
	out := &DescribeServicesOutput{Services: []ecs.Service{}, Failures: []ecs.Failure{}}
	for _, ref := range in.Services {
		cluster, name, err := c.serviceRef(ctx, in.Cluster, ref)
		if err != nil {
			return nil, err
		}
		s, _, ok, err := c.db.Service(ctx, cluster, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			out.Failures = append(out.Failures, ecs.Failure{Arn: c.acct.ServiceARN(cluster, name), Reason: ecs.ReasonMissing})
			continue
		}
		if !includes(in.Include, "TAGS") {
			s.Tags = nil
		}
		out.Services = append(out.Services, s.Service)
	}
	return out, nil
}

// ListServicesInput is ListServices' request.
type ListServicesInput struct {
	Cluster                string `json:"cluster"`
	NextToken              string `json:"nextToken"`
	MaxResults             *int   `json:"maxResults"`
	LaunchType             string `json:"launchType"`
	SchedulingStrategy     string `json:"schedulingStrategy"`
	ResourceManagementType string `json:"resourceManagementType"`
}

// ListServicesOutput is ListServices' response.
type ListServicesOutput struct {
	ServiceArns []string `json:"serviceArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}

// ListServices pages through a cluster's ACTIVE services (DRAINING and
// INACTIVE ones are not listed, as in ECS).
func (c *Control) ListServices(ctx context.Context, in *ListServicesInput) (*ListServicesOutput, error) {
	if in.SchedulingStrategy != "" && in.SchedulingStrategy != ecs.SchedulingReplica && in.SchedulingStrategy != ecs.SchedulingDaemon {
		return nil, ecs.InvalidParameter("schedulingStrategy: %q is not valid; valid: REPLICA, DAEMON", in.SchedulingStrategy)
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	page, err := c.db.ListServices(ctx, cluster, in.NextToken, in.MaxResults, func(s *store.Service) bool {
		return s.Status == ecs.ServiceActive &&
			(in.SchedulingStrategy == "" || s.SchedulingStrategy == in.SchedulingStrategy) &&
			(in.LaunchType == "" || s.LaunchType == in.LaunchType)
	})
	if err != nil {
		return nil, err
	}
	return &ListServicesOutput{ServiceArns: page.Items, NextToken: page.NextToken}, nil
}
