package control

import (
	"context"
	"slices"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
)

// targetContainerInstance is the only attribute target type ECS has.
const targetContainerInstance = "container-instance"

// AttributesInput is PutAttributes' and DeleteAttributes' request.
type AttributesInput struct {
	Cluster    string          `json:"cluster"`
	Attributes []ecs.Attribute `json:"attributes"`
}

// AttributesOutput is PutAttributes' and DeleteAttributes' response.
type AttributesOutput struct {
	Attributes []ecs.Attribute `json:"attributes"`
}

// PutAttributes sets up to 10 attributes on container instances.
func (c *Control) PutAttributes(ctx context.Context, in *AttributesInput) (*AttributesOutput, error) {
	return c.changeAttributes(ctx, in, true, func(inst *store.Instance, attrs []ecs.Attribute) error {
		for _, a := range attrs {
			inst.Attributes = setAttribute(inst.Attributes, a)
		}
		if n := ecs.CountCustomAttributes(inst.Attributes); n > ecs.MaxCustomAttributes {
			return ecs.Errorf(ecs.AttributeLimitExceededException, "attributes: container instance %s would have %d custom attributes; the limit is %d", inst.ID(), n, ecs.MaxCustomAttributes)
		}
		return nil
	})
}

// DeleteAttributes removes up to 10 attributes from container instances.
func (c *Control) DeleteAttributes(ctx context.Context, in *AttributesInput) (*AttributesOutput, error) {
	return c.changeAttributes(ctx, in, false, func(inst *store.Instance, attrs []ecs.Attribute) error {
		inst.Attributes = slices.DeleteFunc(inst.Attributes, func(have ecs.Attribute) bool {
			return slices.ContainsFunc(attrs, func(a ecs.Attribute) bool { return a.Name == have.Name })
		})
		return nil
	})
}

// changeAttributes validates the attributes, groups them by target
// instance and applies change to each instance in one write.
func (c *Control) changeAttributes(ctx context.Context, in *AttributesInput, put bool, change func(*store.Instance, []ecs.Attribute) error) (*AttributesOutput, error) {
	if len(in.Attributes) == 0 {
		return nil, ecs.InvalidParameter("attributes: is required")
	}
	if err := maxItems("attributes", len(in.Attributes), 10); err != nil {
		return nil, err
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	byTarget := map[string][]ecs.Attribute{}
	var order []string
	for i, a := range in.Attributes {
		field := "attributes[" + itoa(i) + "]"
		if put {
			if err := ecs.ValidateAttribute(field, a); err != nil {
				return nil, err
			}
		} else if a.Name == "" {
			return nil, ecs.InvalidParameter("%s.name: is required", field)
		}
		if a.TargetType != "" && a.TargetType != targetContainerInstance {
			return nil, ecs.InvalidParameter("%s.targetType: %q is not valid; valid: container-instance", field, a.TargetType)
		}
		if a.TargetID == "" {
			return nil, ecs.InvalidParameter("%s.targetId: is required", field)
		}
		id, err := ecs.ScopedID("container-instance", field+".targetId", cluster, a.TargetID)
		if err != nil {
			return nil, err
		}
		if _, seen := byTarget[id]; !seen {
			order = append(order, id)
		}
		byTarget[id] = append(byTarget[id], a)
	}
	for _, id := range order {
		_, err := c.db.UpdateInstance(ctx, cluster, id, func(inst *store.Instance) error {
			if inst.Status == ecs.InstanceInactive {
				return targetNotFound(id)
			}
			return change(inst, byTarget[id])
		})
		if ecs.IsCode(err, ecs.InvalidParameterException) {
			return nil, targetNotFound(id)
		}
		if err != nil {
			return nil, err
		}
	}
	return &AttributesOutput{Attributes: in.Attributes}, nil
}

func targetNotFound(id string) error {
	return ecs.Errorf(ecs.TargetNotFoundException, "Could not find container instance %s in the cluster.", id)
}

func setAttribute(attrs []ecs.Attribute, a ecs.Attribute) []ecs.Attribute {
	a.TargetID, a.TargetType = "", ""
	if i := slices.IndexFunc(attrs, func(b ecs.Attribute) bool { return b.Name == a.Name }); i >= 0 {
		attrs[i] = a
		return attrs
	}
	return append(attrs, a)
}

// ListAttributesInput is ListAttributes' request.
type ListAttributesInput struct {
	Cluster        string `json:"cluster"`
	TargetType     string `json:"targetType"`
	AttributeName  string `json:"attributeName"`
	AttributeValue string `json:"attributeValue"`
	NextToken      string `json:"nextToken"`
	MaxResults     *int   `json:"maxResults"`
}

// ListAttributesOutput is ListAttributes' response.
type ListAttributesOutput struct {
	Attributes []ecs.Attribute `json:"attributes"`
	NextToken  string          `json:"nextToken,omitempty"`
}

// ListAttributes lists the attributes of a cluster's registered instances,
// optionally those with a given name (and value).
func (c *Control) ListAttributes(ctx context.Context, in *ListAttributesInput) (*ListAttributesOutput, error) {
	if in.TargetType != targetContainerInstance {
		return nil, ecs.InvalidParameter("targetType: %q is not valid; valid: container-instance", in.TargetType)
	}
	if in.AttributeValue != "" && in.AttributeName == "" {
		return nil, ecs.InvalidParameter("attributeValue: requires attributeName")
	}
	cluster, err := c.activeCluster(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	instances, err := c.db.Instances(ctx, cluster)
	if err != nil {
		return nil, err
	}
	var all []ecs.Attribute
	for _, inst := range instances {
		if inst.Status == ecs.InstanceInactive {
			continue
		}
		for _, a := range inst.Attributes {
			if in.AttributeName != "" && a.Name != in.AttributeName || in.AttributeValue != "" && a.Value != in.AttributeValue {
				continue
			}
			a.TargetID = inst.ContainerInstanceArn
			all = append(all, a)
		}
	}
	items, next, err := offsetPage(all, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	return &ListAttributesOutput{Attributes: orEmpty(items), NextToken: next}, nil
}
