// Command scaler is the scaler Lambda function: Berth's rule sends it every
// CloudWatch Alarm State Change entering ALARM, and it runs the scaling
// policies the alarm names (shared/control's ScalerHandler, the handler
// `berth up` installs on the in-process bus), reading alarms from
// CloudWatch.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	a := control.NewCloudWatchAutoscaling(c, cloudwatch.NewFromConfig(cfg.AWS), cfg.Log)
	lambda.Start(fn.EventHandler(a.ScalerHandler()))
}
