package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/local"
)

// TestRestartKeepsState stops the control plane and starts it again on the
// same data directory: everything is still there.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := local.Start(local.Config{DataDir: dir, Logger: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.ECS(first.Endpoint())
	_, err = c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("web"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	check(t, err)
	for range 2 {
		_, err = c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("x"), Memory: aws.Int32(64)}}})
		check(t, err)
	}
	reg, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("web"),
		TotalResources: []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024}},
		Attributes:     []types.Attribute{{Name: aws.String("stack"), Value: aws.String("prod")}}})
	check(t, err)
	check(t, first.Shutdown(ctx))

	second := testenv.Plane(t, local.Config{DataDir: dir})
	c = testenv.ECS(second.Endpoint())
	cl, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"web"}, Include: []types.ClusterField{types.ClusterFieldTags}})
	check(t, err)
	if len(cl.Clusters) != 1 || cl.Clusters[0].RegisteredContainerInstancesCount != 1 || len(cl.Clusters[0].Tags) != 1 {
		t.Errorf("cluster after restart = %+v", cl.Clusters)
	}
	td, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	check(t, err)
	if td.TaskDefinition.Revision != 2 {
		t.Errorf("latest revision after restart = %d", td.TaskDefinition.Revision)
	}
	next, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("x"), Memory: aws.Int32(64)}}})
	check(t, err)
	if next.TaskDefinition.Revision != 3 {
		t.Errorf("revision after restart = %d, want 3", next.TaskDefinition.Revision)
	}
	ci, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("web"),
		ContainerInstances: []string{aws.ToString(reg.ContainerInstance.ContainerInstanceArn)}})
	check(t, err)
	if len(ci.ContainerInstances) != 1 || len(ci.ContainerInstances[0].Attributes) != 1 {
		t.Errorf("instance after restart = %+v", ci)
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
