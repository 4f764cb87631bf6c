package control

import (
	"context"

	"github.com/berth-run/berth/shared/ecs"
)

// CreateClusterInput is CreateCluster's request.
type CreateClusterInput struct {
	ClusterName                     string                             `json:"clusterName"`
	Tags                            []ecs.Tag                          `json:"tags"`
	Settings                        []ecs.ClusterSetting               `json:"settings"`
	Configuration                   ecs.Raw                            `json:"configuration"`
	CapacityProviders               []string                           `json:"capacityProviders"`
	DefaultCapacityProviderStrategy []ecs.CapacityProviderStrategyItem `json:"defaultCapacityProviderStrategy"`
	ServiceConnectDefaults          ecs.Raw                            `json:"serviceConnectDefaults"`
}

// ClusterOutput is the response of actions returning one cluster.
type ClusterOutput struct {
	Cluster ecs.Cluster `json:"cluster"`
}

// CreateCluster creates a cluster (default name "default"); creating an
// existing ACTIVE cluster returns it.
func (c *Control) CreateCluster(ctx context.Context, in *CreateClusterInput) (*ClusterOutput, error) {
	name := in.ClusterName
	if name == "" {
		name = ecs.DefaultCluster
	}
	if !ecs.ValidName(name) {
		return nil, ecs.InvalidParameter("clusterName: %q must be 1-255 letters, numbers, hyphens and underscores", name)
	}
	if err := ecs.ValidateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.ValidateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	cl, err := c.db.CreateCluster(ctx, ecs.Cluster{
		ClusterName:                     name,
		Tags:                            in.Tags,
		Settings:                        settingsOrDefault(in.Settings),
		Configuration:                   in.Configuration,
		CapacityProviders:               in.CapacityProviders,
		DefaultCapacityProviderStrategy: in.DefaultCapacityProviderStrategy,
		ServiceConnectDefaults:          in.ServiceConnectDefaults,
	})
	if err != nil {
		return nil, err
	}
	if err := c.db.ClusterCounts(ctx, &cl); err != nil {
		return nil, err
	}
	return &ClusterOutput{Cluster: present(cl, []string{"SETTINGS", "TAGS", "CONFIGURATIONS"})}, nil
}

func settingsOrDefault(s []ecs.ClusterSetting) []ecs.ClusterSetting {
	if len(s) == 0 {
		return []ecs.ClusterSetting{{Name: "containerInsights", Value: "disabled"}}
	}
	return s
}

// present keeps the optional parts of a cluster that include asks for.
func present(cl ecs.Cluster, include []string) ecs.Cluster {
	if !includes(include, "TAGS") {
		cl.Tags = nil
	}
	if !includes(include, "SETTINGS") {
		cl.Settings = nil
	}
	if !includes(include, "CONFIGURATIONS") {
		cl.Configuration = nil
	}
	if includes(include, "STATISTICS") {
		cl.Statistics = []ecs.KeyValuePair{}
	}
	return cl
}

// DescribeClustersInput is DescribeClusters' request.
type DescribeClustersInput struct {
	Clusters []string `json:"clusters"`
	Include  []string `json:"include"`
}

// DescribeClustersOutput is DescribeClusters' response.
type DescribeClustersOutput struct {
	Clusters []ecs.Cluster `json:"clusters"`
	Failures []ecs.Failure `json:"failures"`
}

// DescribeClusters describes up to 100 clusters (the default one when none
// is named); unknown ones come back as failures with reason MISSING.
func (c *Control) DescribeClusters(ctx context.Context, in *DescribeClustersInput) (*DescribeClustersOutput, error) {
	if err := maxItems("clusters", len(in.Clusters), 100); err != nil {
		return nil, err
	}
	if err := checkInclude("include", in.Include, "ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"); err != nil {
		return nil, err
	}
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{ecs.DefaultCluster}
	}
	out := &DescribeClustersOutput{Clusters: []ecs.Cluster{}, Failures: []ecs.Failure{}}
	for _, ref := range refs {
		name, err := ecs.ClusterName(ref)
		if err != nil {
			return nil, err
		}
		cl, _, ok, err := c.db.Cluster(ctx, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			out.Failures = append(out.Failures, ecs.Failure{Arn: c.acct.ClusterARN(name), Reason: ecs.ReasonMissing})
			continue
		}
		if err := c.db.ClusterCounts(ctx, &cl); err != nil {
			return nil, err
		}
		out.Clusters = append(out.Clusters, present(cl, in.Include))
	}
	return out, nil
}

// ListClustersInput is ListClusters' request.
type ListClustersInput struct {
	NextToken  string `json:"nextToken"`
	MaxResults *int   `json:"maxResults"`
}

// ListClustersOutput is ListClusters' response.
type ListClustersOutput struct {
	ClusterArns []string `json:"clusterArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}

// ListClusters pages through the ACTIVE clusters' ARNs.
func (c *Control) ListClusters(ctx context.Context, in *ListClustersInput) (*ListClustersOutput, error) {
	page, err := c.db.ListClusters(ctx, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ListClustersOutput{ClusterArns: page.Items, NextToken: page.NextToken}, nil
}

// DeleteClusterInput is DeleteCluster's request.
type DeleteClusterInput struct {
	Cluster string `json:"cluster"`
}

// DeleteCluster deletes an empty cluster (it stays describable as INACTIVE).
func (c *Control) DeleteCluster(ctx context.Context, in *DeleteClusterInput) (*ClusterOutput, error) {
	if err := required("cluster", in.Cluster); err != nil {
		return nil, err
	}
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cl, err := c.db.DeleteCluster(ctx, name)
	if err != nil {
		return nil, err
	}
	return &ClusterOutput{Cluster: present(cl, nil)}, nil
}

// UpdateClusterInput is UpdateCluster's request.
type UpdateClusterInput struct {
	Cluster                string               `json:"cluster"`
	Settings               []ecs.ClusterSetting `json:"settings"`
	Configuration          ecs.Raw              `json:"configuration"`
	ServiceConnectDefaults ecs.Raw              `json:"serviceConnectDefaults"`
}

// UpdateCluster changes a cluster's settings and configuration.
func (c *Control) UpdateCluster(ctx context.Context, in *UpdateClusterInput) (*ClusterOutput, error) {
	return c.updateCluster(ctx, in.Cluster, in.Settings, func(cl *ecs.Cluster) {
		if in.Configuration != nil {
			cl.Configuration = in.Configuration
		}
		if in.ServiceConnectDefaults != nil {
			cl.ServiceConnectDefaults = in.ServiceConnectDefaults
		}
	})
}

// UpdateClusterSettingsInput is UpdateClusterSettings' request.
type UpdateClusterSettingsInput struct {
	Cluster  string               `json:"cluster"`
	Settings []ecs.ClusterSetting `json:"settings"`
}

// UpdateClusterSettings changes a cluster's settings.
func (c *Control) UpdateClusterSettings(ctx context.Context, in *UpdateClusterSettingsInput) (*ClusterOutput, error) {
	if len(in.Settings) == 0 {
		return nil, ecs.InvalidParameter("settings: is required")
	}
	return c.updateCluster(ctx, in.Cluster, in.Settings, func(*ecs.Cluster) {})
}

func (c *Control) updateCluster(ctx context.Context, ref string, settings []ecs.ClusterSetting, change func(*ecs.Cluster)) (*ClusterOutput, error) {
	if err := required("cluster", ref); err != nil {
		return nil, err
	}
	name, err := ecs.ClusterName(ref)
	if err != nil {
		return nil, err
	}
	if err := ecs.ValidateClusterSettings(settings); err != nil {
		return nil, err
	}
	cl, err := c.db.UpdateCluster(ctx, name, func(cl *ecs.Cluster) error {
		for _, s := range settings {
			cl.Settings = setSetting(cl.Settings, s)
		}
		change(cl)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.db.ClusterCounts(ctx, &cl); err != nil {
		return nil, err
	}
	return &ClusterOutput{Cluster: present(cl, []string{"SETTINGS", "CONFIGURATIONS"})}, nil
}

func setSetting(settings []ecs.ClusterSetting, s ecs.ClusterSetting) []ecs.ClusterSetting {
	for i := range settings {
		if settings[i].Name == s.Name {
			settings[i].Value = s.Value
			return settings
		}
	}
	return append(settings, s)
}
