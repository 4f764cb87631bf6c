// Command monitor is the monitor Lambda function: a schedule rule invokes
// it every minute to mark silent agents disconnected and stop the tasks of
// lost hosts (shared/control's Tick, which `berth up` runs on a ticker).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
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
	lambda.Start(fn.EventHandler(fn.Tick(c.Tick)))
}
