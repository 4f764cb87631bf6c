package control

import (
	"context"
	"encoding/json"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
)

// RegisterContainerInstanceInput is RegisterContainerInstance's request.
type RegisterContainerInstanceInput struct {
	Cluster                           string               `json:"cluster"`
	InstanceIdentityDocument          string               `json:"instanceIdentityDocument"`
	InstanceIdentityDocumentSignature string               `json:"instanceIdentityDocumentSignature"`
	TotalResources                    []ecs.Resource       `json:"totalResources"`
	VersionInfo                       *ecs.VersionInfo     `json:"versionInfo"`
	ContainerInstanceArn              string               `json:"containerInstanceArn"`
	Attributes                        []ecs.Attribute      `json:"attributes"`
	PlatformDevices                   []ecs.PlatformDevice `json:"platformDevices"`
	Tags                              []ecs.Tag            `json:"tags"`
}

// ContainerInstanceOutput is the response of actions returning one instance.
type ContainerInstanceOutput struct {
	ContainerInstance ecs.ContainerInstance `json:"containerInstance"`
}

// identityDocument is the part of an EC2 instance identity document Berth reads.
type identityDocument struct {
	InstanceID string `json:"instanceId"`
}

// RegisterContainerInstance registers a host with a cluster, or re-registers
// the instance named by containerInstanceArn.
func (c *Control) RegisterContainerInstance(ctx context.Context, in *RegisterContainerInstanceInput) (*ContainerInstanceOutput, error) {
	reg, err := c.registration(in)
	if err != nil {
		return nil, err
	}
	inst, err := c.db.RegisterInstance(ctx, reg)
	if err != nil {
		return nil, err
	}
	return &ContainerInstanceOutput{ContainerInstance: inst.ContainerInstance}, nil
}

func (c *Control) registration(in *RegisterContainerInstanceInput) (store.Registration, error) {
	cluster, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return store.Registration{}, err
	}
	capacity, err := ecs.CapacityOf("totalResources", in.TotalResources)
	if err != nil {
		return store.Registration{}, err
	}
	for _, d := range in.PlatformDevices {
		if d.Type == ecs.ResourceGPU && d.ID != "" {
			capacity.GPUs = append(capacity.GPUs, d.ID)
		}
	}
	if err := validateAttributes("attributes", in.Attributes); err != nil {
		return store.Registration{}, err
	}
	if err := ecs.ValidateTags("tags", in.Tags); err != nil {
		return store.Registration{}, err
	}
	reg := store.Registration{Cluster: cluster, Capacity: capacity, VersionInfo: in.VersionInfo, Attributes: in.Attributes, Tags: in.Tags}
	if in.InstanceIdentityDocument != "" {
		var doc identityDocument
		if err := json.Unmarshal([]byte(in.InstanceIdentityDocument), &doc); err != nil {
			return store.Registration{}, ecs.InvalidParameter("instanceIdentityDocument: not a JSON instance identity document: %v", err)
		}
		reg.EC2InstanceID = doc.InstanceID
	}
	if in.ContainerInstanceArn != "" {
		if reg.ExistingID, err = ecs.ScopedID("container-instance", "containerInstanceArn", cluster, in.ContainerInstanceArn); err != nil {
			return store.Registration{}, err
		}
	}
	return reg, nil
}

func validateAttributes(field string, attrs []ecs.Attribute) error {
	for i, a := range attrs {
		if err := ecs.ValidateAttribute(field+"["+itoa(i)+"]", a); err != nil {
			return err
		}
	}
	if n := ecs.CountCustomAttributes(attrs); n > ecs.MaxCustomAttributes {
		return ecs.Errorf(ecs.AttributeLimitExceededException, "%s: %d custom attributes exceed the limit of %d per resource", field, n, ecs.MaxCustomAttributes)
	}
	return nil
}

// DescribeContainerInstancesInput is DescribeContainerInstances' request.
type DescribeContainerInstancesInput struct {
	Cluster            string   `json:"cluster"`
	ContainerInstances []string `json:"containerInstances"`
	Include            []string `json:"include"`
}

// DescribeContainerInstancesOutput is DescribeContainerInstances' response.
type DescribeContainerInstancesOutput struct {
	ContainerInstances []ecs.ContainerInstance `json:"containerInstances"`
	Failures           []ecs.Failure           `json:"failures"`
}

// DescribeContainerInstances describes up to 100 instances of a cluster.
func (c *Control) DescribeContainerInstances(ctx context.Context, in *DescribeContainerInstancesInput) (*DescribeContainerInstancesOutput, error) {
	if err := checkInclude("include", in.Include, "TAGS", "CONTAINER_INSTANCE_HEALTH"); err != nil {
		return nil, err
	}
	found, out, err := c.namedInstances(ctx, in.Cluster, in.ContainerInstances, 100)
	if err != nil {
		return nil, err
	}
	for _, inst := range found {
		if err := c.db.FillTaskCounts(ctx, &inst); err != nil {
			return nil, err
		}
		ci := inst.ContainerInstance
		if !includes(in.Include, "TAGS") {
			ci.Tags = nil
		}
		out.ContainerInstances = append(out.ContainerInstances, ci)
	}
	return out, nil
}

// namedInstances resolves up to max container instances given by ID or
// ARN in an ACTIVE cluster: those found, and an output whose failures name
// the missing ones (MISSING), as the Describe and Update actions answer.
func (c *Control) namedInstances(ctx context.Context, clusterRef string, refs []string, max int) ([]store.Instance, *DescribeContainerInstancesOutput, error) {
	if len(refs) == 0 {
		return nil, nil, ecs.InvalidParameter("containerInstances: is required")
	}
	if err := maxItems("containerInstances", len(refs), max); err != nil {
		return nil, nil, err
	}
	cluster, err := c.activeCluster(ctx, clusterRef)
	if err != nil {
		return nil, nil, err
	}
	ids, err := scopedIDs("container-instance", "containerInstances", cluster, refs)
	if err != nil {
		return nil, nil, err
	}
	found, missing, err := c.db.InstancesByID(ctx, cluster, ids)
	if err != nil {
		return nil, nil, err
	}
	out := &DescribeContainerInstancesOutput{ContainerInstances: []ecs.ContainerInstance{}, Failures: []ecs.Failure{}}
	for _, id := range missing {
		out.Failures = append(out.Failures, ecs.Failure{Arn: c.acct.ContainerInstanceARN(cluster, id), Reason: ecs.ReasonMissing})
	}
	return found, out, nil
}

func scopedIDs(kind, field, cluster string, refs []string) ([]string, error) {
	ids := make([]string, len(refs))
	for i, ref := range refs {
		id, err := ecs.ScopedID(kind, field+"["+itoa(i)+"]", cluster, ref)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// activeCluster resolves a cluster reference to the name of an ACTIVE cluster.
func (c *Control) activeCluster(ctx context.Context, ref string) (string, error) {
	name, err := ecs.ClusterName(ref)
	if err != nil {
		return "", err
	}
	if _, _, err := c.db.ActiveCluster(ctx, name); err != nil {
		return "", err
	}
	return name, nil
}

// ListContainerInstancesInput is ListContainerInstances' request.
type ListContainerInstancesInput struct {
	Cluster    string `json:"cluster"`
	Filter     string `json:"filter"`
	NextToken  string `json:"nextToken"`
	MaxResults *int   `json:"maxResults"`
	Status     string `json:"status"`
}

// ListContainerInstancesOutput is ListContainerInstances' response.
type ListContainerInstancesOutput struct {
	ContainerInstanceArns []string `json:"containerInstanceArns"`
	NextToken             string   `json:"nextToken,omitempty"`
}

var instanceStatuses = map[string]bool{
	ecs.InstanceActive: true, ecs.InstanceDraining: true, ecs.InstanceRegistering: true,
	ecs.InstanceDeregistering: true, ecs.InstanceRegistrationFailed: true,
}

// ListContainerInstances pages through a cluster's instances, by status
// (all but INACTIVE by default) and by cluster-query-language filter.
func (c *Control) ListContainerInstances(ctx context.Context, in *ListContainerInstancesInput) (*ListContainerInstancesOutput, error) {
	if in.Status != "" && !instanceStatuses[in.Status] {
		return nil, ecs.InvalidParameter("status: %q is not valid; valid: ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED", in.Status)
	}
	match, err := c.instanceFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	keep := func(inst store.Instance) bool {
		if in.Status == "" && inst.Status == ecs.InstanceInactive || in.Status != "" && inst.Status != in.Status {
			return false
		}
		return match(inst)
	}
	found, next, err := c.db.ListInstances(ctx, cluster, in.NextToken, in.MaxResults, keep)
	if err != nil {
		return nil, err
	}
	out := &ListContainerInstancesOutput{ContainerInstanceArns: []string{}, NextToken: next}
	for _, inst := range found {
		out.ContainerInstanceArns = append(out.ContainerInstanceArns, inst.ContainerInstanceArn)
	}
	return out, nil
}

// DeregisterContainerInstanceInput is DeregisterContainerInstance's request.
type DeregisterContainerInstanceInput struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Force             *bool  `json:"force"`
}

// DeregisterContainerInstance removes an instance from its cluster.
func (c *Control) DeregisterContainerInstance(ctx context.Context, in *DeregisterContainerInstanceInput) (*ContainerInstanceOutput, error) {
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	id, err := ecs.ScopedID("container-instance", "containerInstance", cluster, in.ContainerInstance)
	if err != nil {
		return nil, err
	}
	inst, err := c.db.DeregisterInstance(ctx, cluster, id, in.Force != nil && *in.Force)
	if err != nil {
		return nil, err
	}
	return &ContainerInstanceOutput{ContainerInstance: inst.ContainerInstance}, nil
}

// UpdateContainerInstancesStateInput is UpdateContainerInstancesState's request.
type UpdateContainerInstancesStateInput struct {
	Cluster            string   `json:"cluster"`
	ContainerInstances []string `json:"containerInstances"`
	Status             string   `json:"status"`
}

// UpdateContainerInstancesState sets up to 10 instances ACTIVE or DRAINING;
// instances that cannot change come back as failures.
func (c *Control) UpdateContainerInstancesState(ctx context.Context, in *UpdateContainerInstancesStateInput) (*DescribeContainerInstancesOutput, error) {
	if in.Status != ecs.InstanceActive && in.Status != ecs.InstanceDraining {
		return nil, ecs.InvalidParameter("status: %q is not valid; valid: ACTIVE, DRAINING", in.Status)
	}
	found, out, err := c.namedInstances(ctx, in.Cluster, in.ContainerInstances, 10)
	if err != nil {
		return nil, err
	}
	for _, inst := range found {
		if inst.Status != ecs.InstanceActive && inst.Status != ecs.InstanceDraining {
			out.Failures = append(out.Failures, ecs.Failure{Arn: inst.ContainerInstanceArn, Reason: inst.Status,
				Detail: "only ACTIVE and DRAINING container instances can change state"})
			continue
		}
		updated, err := c.db.UpdateInstance(ctx, inst.Berth.Cluster, inst.ID(), func(inst *store.Instance) error {
			if inst.Status == in.Status {
				return store.ErrUnchanged
			}
			if inst.Status != ecs.InstanceActive && inst.Status != ecs.InstanceDraining {
				return ecs.InvalidParameter("containerInstances: %s is %s; only ACTIVE and DRAINING instances can change state", inst.ID(), inst.Status)
			}
			inst.Status = in.Status
			return nil
		})
		if err != nil {
			return nil, err
		}
		out.ContainerInstances = append(out.ContainerInstances, updated.ContainerInstance)
	}
	return out, nil
}
