// Command api is the api Lambda function: the ECS API, Application Auto
// Scaling and the agent protocol behind a Function URL (AWS_IAM auth), over
// the DynamoDB store, with target-tracking alarms and agents' metrics in
// CloudWatch.
// It only wires; the behaviour is shared/api's and shared/control's, the
// same `berth up` serves.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/berth-run/berth/shared/api"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/fn"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
)

func main() {
	cfg := fn.MustLoadConfig(fn.EnvTableName)
	st := dynamo.New(dynamodb.NewFromConfig(cfg.AWS), cfg.TableName, dynamo.WithLogger(cfg.Log))
	db := store.NewDB(st, cfg.Account, time.Now, fn.RandomID)
	c := control.New(db, control.Options{Now: time.Now, Seed: fn.RandomSeed})
	srv := api.NewServer(cfg.Log)
	srv.RegisterECS(c)
	srv.RegisterAgent(c)
	srv.RegisterAutoscaling(control.NewCloudWatchAutoscaling(c, cloudwatch.NewFromConfig(cfg.AWS), cfg.Log))
	lambda.Start(srv.HandleFunctionURL)
}
