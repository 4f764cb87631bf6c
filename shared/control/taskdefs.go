package control

import (
	"context"

	"github.com/berth-run/berth/shared/ecs"
)

// RegisterTaskDefinitionInput is RegisterTaskDefinition's request.
type RegisterTaskDefinitionInput struct {
	Family                  string                                  `json:"family"`
	TaskRoleArn             string                                  `json:"taskRoleArn"`
	ExecutionRoleArn        string                                  `json:"executionRoleArn"`
	NetworkMode             string                                  `json:"networkMode"`
	ContainerDefinitions    []ecs.ContainerDefinition               `json:"containerDefinitions"`
	Volumes                 []ecs.Raw                               `json:"volumes"`
	PlacementConstraints    []ecs.TaskDefinitionPlacementConstraint `json:"placementConstraints"`
	RequiresCompatibilities []string                                `json:"requiresCompatibilities"`
	CPU                     string                                  `json:"cpu"`
	Memory                  string                                  `json:"memory"`
	Tags                    []ecs.Tag                               `json:"tags"`
	PidMode                 string                                  `json:"pidMode"`
	IpcMode                 string                                  `json:"ipcMode"`
	ProxyConfiguration      ecs.Raw                                 `json:"proxyConfiguration"`
	InferenceAccelerators   []ecs.Raw                               `json:"inferenceAccelerators"`
	EphemeralStorage        ecs.Raw                                 `json:"ephemeralStorage"`
	RuntimePlatform         ecs.Raw                                 `json:"runtimePlatform"`
	EnableFaultInjection    *bool                                   `json:"enableFaultInjection"`
}

// TaskDefinitionOutput is the response of actions returning one task definition.
type TaskDefinitionOutput struct {
	TaskDefinition ecs.TaskDefinition `json:"taskDefinition"`
	Tags           []ecs.Tag          `json:"tags,omitempty"`
}

// RegisterTaskDefinition registers the family's next revision.
func (c *Control) RegisterTaskDefinition(ctx context.Context, in *RegisterTaskDefinitionInput) (*TaskDefinitionOutput, error) {
	td := ecs.TaskDefinition{
		Family:                  in.Family,
		TaskRoleArn:             in.TaskRoleArn,
		ExecutionRoleArn:        in.ExecutionRoleArn,
		NetworkMode:             in.NetworkMode,
		ContainerDefinitions:    in.ContainerDefinitions,
		Volumes:                 in.Volumes,
		PlacementConstraints:    in.PlacementConstraints,
		RequiresCompatibilities: in.RequiresCompatibilities,
		CPU:                     in.CPU,
		Memory:                  in.Memory,
		PidMode:                 in.PidMode,
		IpcMode:                 in.IpcMode,
		ProxyConfiguration:      in.ProxyConfiguration,
		InferenceAccelerators:   in.InferenceAccelerators,
		EphemeralStorage:        in.EphemeralStorage,
		RuntimePlatform:         in.RuntimePlatform,
		EnableFaultInjection:    in.EnableFaultInjection,
		RegisteredBy:            "arn:aws:iam::" + c.acct.ID + ":root",
	}
	if err := ecs.PrepareTaskDefinition(&td); err != nil {
		return nil, err
	}
	if err := c.checkExpressions(td.PlacementConstraints); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	out, err := c.db.RegisterTaskDefinition(ctx, td, in.Tags)
	if err != nil {
		return nil, err
	}
	return &TaskDefinitionOutput{TaskDefinition: out, Tags: in.Tags}, nil
}

func (c *Control) checkExpressions(pcs []ecs.TaskDefinitionPlacementConstraint) error {
	for i, pc := range pcs {
		if _, err := compileExpression("placementConstraints["+itoa(i)+"].expression", pc.Expression); err != nil {
			e, _ := ecs.AsError(err)
			return ecs.Client("%s", e.Message)
		}
	}
	return nil
}

// DescribeTaskDefinitionInput is DescribeTaskDefinition's request.
type DescribeTaskDefinitionInput struct {
	TaskDefinition string   `json:"taskDefinition"`
	Include        []string `json:"include"`
}

// DescribeTaskDefinition resolves family, family:revision or ARN; a bare
// family means its latest ACTIVE revision.
func (c *Control) DescribeTaskDefinition(ctx context.Context, in *DescribeTaskDefinitionInput) (*TaskDefinitionOutput, error) {
	if err := checkInclude("include", in.Include, "TAGS"); err != nil {
		return nil, err
	}
	ref, err := ecs.ParseTaskDefinitionRef("taskDefinition", in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	td, tags, err := c.db.TaskDefinition(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := &TaskDefinitionOutput{TaskDefinition: td}
	if includes(in.Include, "TAGS") {
		out.Tags = orEmpty(tags)
	}
	return out, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ListTaskDefinitionsInput is ListTaskDefinitions' request.
type ListTaskDefinitionsInput struct {
	FamilyPrefix string `json:"familyPrefix"`
	Status       string `json:"status"`
	Sort         string `json:"sort"`
	NextToken    string `json:"nextToken"`
	MaxResults   *int   `json:"maxResults"`
}

// ListTaskDefinitionsOutput is ListTaskDefinitions' response.
type ListTaskDefinitionsOutput struct {
	TaskDefinitionArns []string `json:"taskDefinitionArns"`
	NextToken          string   `json:"nextToken,omitempty"`
}

// ListTaskDefinitions lists revisions by family and revision. As in ECS,
// familyPrefix names one whole family.
func (c *Control) ListTaskDefinitions(ctx context.Context, in *ListTaskDefinitionsInput) (*ListTaskDefinitionsOutput, error) {
	status := in.Status
	switch status {
	case "":
		status = ecs.TaskDefinitionActive
	case ecs.TaskDefinitionActive, ecs.TaskDefinitionInactive, ecs.TaskDefinitionDeleteInProgress:
	default:
		return nil, ecs.InvalidParameter("status: %q is not valid; valid: ACTIVE, INACTIVE, DELETE_IN_PROGRESS", in.Status)
	}
	if in.Sort != "" && in.Sort != "ASC" && in.Sort != "DESC" {
		return nil, ecs.InvalidParameter("sort: %q is not valid; valid: ASC, DESC", in.Sort)
	}
	if in.FamilyPrefix != "" && !ecs.ValidName(in.FamilyPrefix) {
		return nil, ecs.InvalidParameter("familyPrefix: %q is not a valid family name", in.FamilyPrefix)
	}
	page, err := c.db.ListTaskDefinitions(ctx, in.FamilyPrefix, status, in.Sort == "DESC", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ListTaskDefinitionsOutput{TaskDefinitionArns: page.Items, NextToken: page.NextToken}, nil
}

// ListTaskDefinitionFamiliesInput is ListTaskDefinitionFamilies' request.
type ListTaskDefinitionFamiliesInput struct {
	FamilyPrefix string `json:"familyPrefix"`
	Status       string `json:"status"`
	NextToken    string `json:"nextToken"`
	MaxResults   *int   `json:"maxResults"`
}

// ListTaskDefinitionFamiliesOutput is ListTaskDefinitionFamilies' response.
type ListTaskDefinitionFamiliesOutput struct {
	Families  []string `json:"families"`
	NextToken string   `json:"nextToken,omitempty"`
}

// ListTaskDefinitionFamilies lists families by name prefix and status
// (ACTIVE, INACTIVE or ALL, the default).
func (c *Control) ListTaskDefinitionFamilies(ctx context.Context, in *ListTaskDefinitionFamiliesInput) (*ListTaskDefinitionFamiliesOutput, error) {
	if in.FamilyPrefix != "" && !ecs.ValidName(in.FamilyPrefix) {
		return nil, ecs.InvalidParameter("familyPrefix: %q must be up to 255 letters, numbers, hyphens and underscores", in.FamilyPrefix)
	}
	switch in.Status {
	case "", "ALL", ecs.TaskDefinitionActive, ecs.TaskDefinitionInactive:
	default:
		return nil, ecs.InvalidParameter("status: %q is not valid; valid: ACTIVE, INACTIVE, ALL", in.Status)
	}
	page, err := c.db.ListTaskDefinitionFamilies(ctx, in.FamilyPrefix, in.Status, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ListTaskDefinitionFamiliesOutput{Families: page.Items, NextToken: page.NextToken}, nil
}

// DeregisterTaskDefinitionInput is DeregisterTaskDefinition's request.
type DeregisterTaskDefinitionInput struct {
	TaskDefinition string `json:"taskDefinition"`
}

// DeregisterTaskDefinition marks a revision INACTIVE; the revision must be named.
func (c *Control) DeregisterTaskDefinition(ctx context.Context, in *DeregisterTaskDefinitionInput) (*TaskDefinitionOutput, error) {
	ref, err := revisionRef("taskDefinition", in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	td, err := c.db.DeregisterTaskDefinition(ctx, ref.Family, ref.Revision)
	if err != nil {
		return nil, err
	}
	return &TaskDefinitionOutput{TaskDefinition: td}, nil
}

func revisionRef(field, s string) (ecs.TaskDefinitionRef, error) {
	ref, err := ecs.ParseTaskDefinitionRef(field, s)
	if err == nil && ref.Revision == 0 {
		err = ecs.InvalidParameter("%s: %q must name a revision (family:revision or ARN)", field, s)
	}
	return ref, err
}

// DeleteTaskDefinitionsInput is DeleteTaskDefinitions' request.
type DeleteTaskDefinitionsInput struct {
	TaskDefinitions []string `json:"taskDefinitions"`
}

// DeleteTaskDefinitionsOutput is DeleteTaskDefinitions' response.
type DeleteTaskDefinitionsOutput struct {
	TaskDefinitions []ecs.TaskDefinition `json:"taskDefinitions"`
	Failures        []ecs.Failure        `json:"failures"`
}

// DeleteTaskDefinitions requests deletion of up to 10 INACTIVE revisions;
// per-revision problems come back as failures.
func (c *Control) DeleteTaskDefinitions(ctx context.Context, in *DeleteTaskDefinitionsInput) (*DeleteTaskDefinitionsOutput, error) {
	if len(in.TaskDefinitions) == 0 {
		return nil, ecs.InvalidParameter("taskDefinitions: is required")
	}
	if err := maxItems("taskDefinitions", len(in.TaskDefinitions), 10); err != nil {
		return nil, err
	}
	out := &DeleteTaskDefinitionsOutput{TaskDefinitions: []ecs.TaskDefinition{}, Failures: []ecs.Failure{}}
	for i, s := range in.TaskDefinitions {
		ref, err := revisionRef("taskDefinitions["+itoa(i)+"]", s)
		if err != nil {
			return nil, err
		}
		td, err := c.db.DeleteTaskDefinition(ctx, ref.Family, ref.Revision)
		if e, ok := ecs.AsError(err); ok && !e.Fault {
			out.Failures = append(out.Failures, ecs.Failure{Arn: c.acct.TaskDefinitionARN(ref.Family, ref.Revision), Reason: e.Message})
			continue
		}
		if err != nil {
			return nil, err
		}
		out.TaskDefinitions = append(out.TaskDefinitions, td)
	}
	return out, nil
}
