// Command monitor is the monitor Lambda function: a schedule rule invokes
// it every minute to mark silent agents disconnected, stop the tasks of lost
// hosts and reconcile every service (shared/control's Tick), and to re-run
// the scaling policies of alarms still in ALARM, as `berth up` does on a
// ticker.
package main

import (
	"context"
	"errors"
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
	scaling := control.NewCloudWatchAutoscaling(c, cloudwatch.NewFromConfig(cfg.AWS), cfg.Log)
	lambda.Start(fn.EventHandler(fn.Tick(func(ctx context.Context) error {
		return errors.Join(c.Tick(ctx), scaling.Tick(ctx))
	})))
}
