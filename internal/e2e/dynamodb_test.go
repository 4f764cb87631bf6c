package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/local"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

// TestDynamoDBStoreWorkflow runs `berth up --store dynamodb` against a real
// DynamoDB-compatible server (moto_server): the spine's aws CLI workflow
// works, and a restart on the same table finds everything again.
func TestDynamoDBStoreWorkflow(t *testing.T) {
	moto := dynamotest.Shared(t)
	awsCfg := moto.Config()
	cfg := local.Config{Store: local.StoreDynamoDB, Table: dynamotest.TableName(t), AWS: &awsCfg, Logger: testenv.Logger(t)}
	cfg.DataDir = t.TempDir()
	first, err := local.Start(cfg)
	check(t, err)
	spineThroughCLI(t, first.Endpoint())
	check(t, first.Shutdown(context.Background()))

	second := testenv.Plane(t, cfg)
	c := testenv.ECS(second.Endpoint())
	ctx := context.Background()
	cl, err := c.DescribeClusters(ctx, &sdkecs.DescribeClustersInput{Clusters: []string{"web"}})
	check(t, err)
	if len(cl.Clusters) != 1 || cl.Clusters[0].RegisteredContainerInstancesCount != 1 {
		t.Errorf("cluster after restart = %+v", cl.Clusters)
	}
	td, err := c.DescribeTaskDefinition(ctx, &sdkecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	check(t, err)
	if td.TaskDefinition.Revision != 2 {
		t.Errorf("latest revision after restart = %d", td.TaskDefinition.Revision)
	}
}
