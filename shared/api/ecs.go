package api

import (
	"context"

	"github.com/berth-run/berth/shared/control"
)

// add serves a typed use case under prefix.name.
func add[In, Out any](s *Server, prefix, name string, fn func(context.Context, *In) (*Out, error)) {
	s.register(prefix+"."+name, action(name, fn))
}

// RegisterECS serves the ECS actions Berth implements.
func (s *Server) RegisterECS(c *control.Control) {
	p := ECSPrefix
	add(s, p, "CreateCluster", c.CreateCluster)
	add(s, p, "DescribeClusters", c.DescribeClusters)
	add(s, p, "ListClusters", c.ListClusters)
	add(s, p, "DeleteCluster", c.DeleteCluster)
	add(s, p, "UpdateCluster", c.UpdateCluster)
	add(s, p, "UpdateClusterSettings", c.UpdateClusterSettings)
	add(s, p, "RegisterTaskDefinition", c.RegisterTaskDefinition)
	add(s, p, "DescribeTaskDefinition", c.DescribeTaskDefinition)
	add(s, p, "ListTaskDefinitions", c.ListTaskDefinitions)
	add(s, p, "ListTaskDefinitionFamilies", c.ListTaskDefinitionFamilies)
	add(s, p, "DeregisterTaskDefinition", c.DeregisterTaskDefinition)
	add(s, p, "DeleteTaskDefinitions", c.DeleteTaskDefinitions)
	add(s, p, "RegisterContainerInstance", c.RegisterContainerInstance)
	add(s, p, "DescribeContainerInstances", c.DescribeContainerInstances)
	add(s, p, "ListContainerInstances", c.ListContainerInstances)
	add(s, p, "DeregisterContainerInstance", c.DeregisterContainerInstance)
	add(s, p, "UpdateContainerInstancesState", c.UpdateContainerInstancesState)
	add(s, p, "PutAttributes", c.PutAttributes)
	add(s, p, "DeleteAttributes", c.DeleteAttributes)
	add(s, p, "ListAttributes", c.ListAttributes)
	add(s, p, "TagResource", c.TagResource)
	add(s, p, "UntagResource", c.UntagResource)
	add(s, p, "ListTagsForResource", c.ListTagsForResource)
	add(s, p, "RunTask", c.RunTask)
	add(s, p, "StartTask", c.StartTask)
	add(s, p, "StopTask", c.StopTask)
	add(s, p, "DescribeTasks", c.DescribeTasks)
	add(s, p, "ListTasks", c.ListTasks)
	add(s, p, "CreateService", c.CreateService)
	add(s, p, "UpdateService", c.UpdateService)
	add(s, p, "DeleteService", c.DeleteService)
	add(s, p, "DescribeServices", c.DescribeServices)
	add(s, p, "ListServices", c.ListServices)
}
