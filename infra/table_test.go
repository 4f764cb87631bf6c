package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/berth-run/berth/shared/store/dynamo"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

// createTableInput is the CreateTable request for the table the template
// declares (CloudFormation's property names are the API's).
func createTableInput(t *testing.T, props map[string]any, name string) *dynamodb.CreateTableInput {
	t.Helper()
	subset := map[string]any{}
	for _, k := range []string{"AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"} {
		subset[k] = props[k]
	}
	raw, err := json.Marshal(subset)
	if err != nil {
		t.Fatal(err)
	}
	in := &dynamodb.CreateTableInput{}
	if err := json.Unmarshal(raw, in); err != nil {
		t.Fatal(err)
	}
	view := props["StreamSpecification"].(map[string]any)["StreamViewType"].(string)
	in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(view)}
	in.TableName = aws.String(name)
	return in
}

// TestTableIsTheAdaptersLayout creates the table exactly as the template
// declares it in moto_server and has the DynamoDB adapter check it: its
// EnsureTable refuses a table whose keys, indexes or stream differ from
// the layout it needs. A deliberately wrong copy shows the check bites.
func TestTableIsTheAdaptersLayout(t *testing.T) {
	srv := dynamotest.Shared(t)
	_, table := synthConfig(t, "default").only(t, "AWS::DynamoDB::Table")
	client := srv.DynamoDB()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	create := func(in *dynamodb.CreateTableInput) *dynamo.Store {
		t.Helper()
		if _, err := client.CreateTable(ctx, in); err != nil {
			t.Fatalf("create the template's table: %v", err)
		}
		t.Cleanup(func() {
			_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: in.TableName})
		})
		return dynamo.New(client, aws.ToString(in.TableName), dynamo.WithTablePoll(20*time.Millisecond))
	}

	if err := create(createTableInput(t, table.Properties, dynamotest.TableName(t))).EnsureTable(ctx); err != nil {
		t.Errorf("the DynamoDB adapter refuses the stack's table: %v", err)
	}

	wrong := createTableInput(t, table.Properties, dynamotest.TableName(t)+"-wrong")
	swapped := wrong.GlobalSecondaryIndexes[1].KeySchema
	swapped[0].AttributeName, swapped[1].AttributeName = swapped[1].AttributeName, swapped[0].AttributeName
	err := create(wrong).EnsureTable(ctx)
	if err == nil || !strings.Contains(err.Error(), "index "+dynamo.IndexGSI2) {
		t.Errorf("a table with a wrong index: %v", err)
	}
}
