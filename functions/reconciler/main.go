// Command reconciler is the reconciler Lambda function: EventBridge rules
// send task, container instance and service changes to an SQS queue, and
// each batch it drains becomes one reconcile per service concerned
// (shared/control's ReconcileEvents, the handler `berth up` installs on
// the in-process bus).
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
	lambda.Start(fn.QueueHandler(c.ReconcileEvents, cfg.Log))
}
