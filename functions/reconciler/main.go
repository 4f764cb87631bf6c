// Command reconciler is the reconciler Lambda function: EventBridge rules
// send task, container instance and service changes to an SQS queue, and
// each batch it drains becomes one reconcile per service concerned
// (shared/control's ReconcileEvents, the handler `berth up` installs on
// the in-process bus).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/berth-run/berth/shared/fn"
)

func main() {
	cfg := fn.MustLoadConfig(fn.EnvTableName)
	c := fn.NewControl(cfg)
	lambda.Start(fn.QueueHandler(c.ReconcileEvents, cfg.Log))
}
