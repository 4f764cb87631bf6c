package ecs

// Cluster is an ECS cluster.
type Cluster struct {
	ClusterArn                        string                         `json:"clusterArn,omitempty"`
	ClusterName                       string                         `json:"clusterName,omitempty"`
	Status                            string                         `json:"status,omitempty"`
	RegisteredContainerInstancesCount int                            `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int                            `json:"runningTasksCount"`
	PendingTasksCount                 int                            `json:"pendingTasksCount"`
	ActiveServicesCount               int                            `json:"activeServicesCount"`
	Statistics                        []KeyValuePair                 `json:"statistics,omitempty"`
	Tags                              []Tag                          `json:"tags,omitempty"`
	Settings                          []ClusterSetting               `json:"settings,omitempty"`
	Configuration                     Raw                            `json:"configuration,omitempty"`
	CapacityProviders                 []string                       `json:"capacityProviders,omitempty"`
	DefaultCapacityProviderStrategy   []CapacityProviderStrategyItem `json:"defaultCapacityProviderStrategy,omitempty"`
	Attachments                       []Attachment                   `json:"attachments,omitempty"`
	AttachmentsStatus                 string                         `json:"attachmentsStatus,omitempty"`
	ServiceConnectDefaults            Raw                            `json:"serviceConnectDefaults,omitempty"`
}

// ClusterSetting is a cluster setting; the only name ECS defines is containerInsights.
type ClusterSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Container insights values accepted for the containerInsights setting.
var containerInsightsValues = map[string]bool{"enabled": true, "disabled": true, "enhanced": true}

// ValidateClusterSettings applies ECS's rules to a settings list.
func ValidateClusterSettings(settings []ClusterSetting) error {
	for i, s := range settings {
		if s.Name != "containerInsights" {
			return InvalidParameter("settings[%d].name: %q is not a cluster setting; valid: containerInsights", i, s.Name)
		}
		if !containerInsightsValues[s.Value] {
			return InvalidParameter("settings[%d].value: %q is not valid for containerInsights; valid: enabled, disabled, enhanced", i, s.Value)
		}
	}
	return nil
}
