package control

import (
	"context"
	"strconv"
	"strings"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
)

// TagResourceInput is TagResource's request.
type TagResourceInput struct {
	ResourceArn string    `json:"resourceArn"`
	Tags        []ecs.Tag `json:"tags"`
}

// UntagResourceInput is UntagResource's request.
type UntagResourceInput struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

// ListTagsForResourceInput is ListTagsForResource's request.
type ListTagsForResourceInput struct {
	ResourceArn string `json:"resourceArn"`
}

// ListTagsForResourceOutput is ListTagsForResource's response.
type ListTagsForResourceOutput struct {
	Tags []ecs.Tag `json:"tags"`
}

// Empty is the response of actions that return nothing.
type Empty struct{}

// TagResource adds or updates tags on a cluster, task definition,
// container instance, task or service.
func (c *Control) TagResource(ctx context.Context, in *TagResourceInput) (*Empty, error) {
	if len(in.Tags) == 0 {
		return nil, ecs.InvalidParameter("tags: is required")
	}
	if err := ecs.ValidateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	err := c.changeTags(ctx, in.ResourceArn, func(tags []ecs.Tag) ([]ecs.Tag, error) {
		merged := ecs.MergeTags(tags, in.Tags)
		return merged, ecs.ValidateTags("tags", merged)
	})
	return &Empty{}, err
}

// UntagResource removes tags by key.
func (c *Control) UntagResource(ctx context.Context, in *UntagResourceInput) (*Empty, error) {
	if len(in.TagKeys) == 0 {
		return nil, ecs.InvalidParameter("tagKeys: is required")
	}
	err := c.changeTags(ctx, in.ResourceArn, func(tags []ecs.Tag) ([]ecs.Tag, error) {
		return ecs.RemoveTags(tags, in.TagKeys), nil
	})
	return &Empty{}, err
}

// ListTagsForResource returns a resource's tags.
func (c *Control) ListTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	var out []ecs.Tag
	err := c.readTags(ctx, in.ResourceArn, &out)
	if err != nil {
		return nil, err
	}
	return &ListTagsForResourceOutput{Tags: orEmpty(out)}, nil
}

// readTags finds the resource and copies its tags out, writing nothing.
func (c *Control) readTags(ctx context.Context, arn string, out *[]ecs.Tag) error {
	return c.changeTags(ctx, arn, func(tags []ecs.Tag) ([]ecs.Tag, error) {
		*out = tags
		return nil, store.ErrUnchanged
	})
}

// changeTags applies change to the tags of the resource arn names. change
// returning store.ErrUnchanged leaves the resource untouched.
func (c *Control) changeTags(ctx context.Context, arn string, change func([]ecs.Tag) ([]ecs.Tag, error)) error {
	if err := required("resourceArn", arn); err != nil {
		return err
	}
	a, ok := ecs.ParseARN(arn)
	if !ok {
		return ecs.InvalidParameter("resourceArn: %q is not a valid ECS resource ARN", arn)
	}
	switch {
	case a.Type == "cluster" && len(a.Path) == 1:
		return c.tagCluster(ctx, a.Path[0], change)
	case a.Type == "task-definition" && len(a.Path) == 1:
		return c.tagTaskDefinition(ctx, arn, a.Path[0], change)
	case a.Type == "container-instance" && len(a.Path) == 2:
		return c.tagInstance(ctx, a.Path[0], a.Path[1], change)
	case a.Type == "task" && len(a.Path) == 2:
		return c.tagTask(ctx, a.Path[0], a.Path[1], change)
	case a.Type == "service" && len(a.Path) == 2:
		return c.tagService(ctx, a.Path[0], a.Path[1], change)
	}
	return ecs.InvalidParameter("resourceArn: %q is not a taggable resource (cluster, task-definition, container-instance, task or service)", arn)
}

func (c *Control) tagCluster(ctx context.Context, name string, change func([]ecs.Tag) ([]ecs.Tag, error)) error {
	_, err := c.db.UpdateCluster(ctx, name, func(cl *ecs.Cluster) error {
		tags, err := change(cl.Tags)
		cl.Tags = tags
		return err
	})
	return err
}

func (c *Control) tagTaskDefinition(ctx context.Context, arn, path string, change func([]ecs.Tag) ([]ecs.Tag, error)) error {
	family, rev, _ := strings.Cut(path, ":")
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 {
		return ecs.InvalidParameter("resourceArn: %q must name a task definition revision", arn)
	}
	return c.db.SetTaskDefinitionTags(ctx, family, n, change)
}

func (c *Control) tagInstance(ctx context.Context, cluster, id string, change func([]ecs.Tag) ([]ecs.Tag, error)) error {
	if _, _, err := c.db.ActiveCluster(ctx, cluster); err != nil {
		return err
	}
	_, err := c.db.UpdateInstance(ctx, cluster, id, func(inst *store.Instance) error {
		tags, err := change(inst.Tags)
		inst.Tags = tags
		return err
	})
	if ecs.IsCode(err, ecs.InvalidParameterException) {
		return ecs.Errorf(ecs.ResourceNotFoundException, "The specified container instance %s does not exist.", id)
	}
	return err
}

func (c *Control) tagTask(ctx context.Context, cluster, id string, change func([]ecs.Tag) ([]ecs.Tag, error)) error {
	_, err := c.db.UpdateTask(ctx, cluster, id, func(t *store.Task) error {
		tags, err := change(t.Tags)
		t.Tags = tags
		return err
	})
	if store.IsTaskNotFound(err) {
		return ecs.Errorf(ecs.ResourceNotFoundException, "The specified task %s does not exist.", id)
	}
	return err
}

func (c *Control) tagService(ctx context.Context, cluster, name string, change func([]ecs.Tag) ([]ecs.Tag, error)) error {
	_, err := c.db.UpdateService(ctx, cluster, name, func(s *store.Service) error {
		if s.Status == ecs.ServiceInactive {
			return ecs.Errorf(ecs.ResourceNotFoundException, "The specified service %s does not exist.", name)
		}
		tags, err := change(s.Tags)
		s.Tags = tags
		return err
	})
	if ecs.IsCode(err, ecs.ServiceNotFoundException) {
		return ecs.Errorf(ecs.ResourceNotFoundException, "The specified service %s does not exist.", name)
	}
	return err
}
