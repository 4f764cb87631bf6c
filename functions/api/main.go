// Command api is the api Lambda function: the ECS API, Application Auto
// Scaling and the agent protocol behind a Function URL (AWS_IAM auth), over
// the DynamoDB store, with target-tracking alarms and agents' metrics in
// CloudWatch.
// It only wires; the behaviour is shared/api's and shared/control's, the
// same `berth up` serves.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/berth-run/berth/shared/api"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/fn"
)

func main() {
	cfg := fn.MustLoadConfig(fn.EnvTableName)
	c := fn.NewControl(cfg)
	srv := api.NewServer(cfg.Log)
	srv.RegisterECS(c)
	srv.RegisterAgent(c)
	srv.RegisterAutoscaling(control.NewCloudWatchAutoscaling(c, cloudwatch.NewFromConfig(cfg.AWS), cfg.Log))
	lambda.Start(srv.HandleFunctionURL)
}
