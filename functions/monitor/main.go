// Command monitor is the monitor Lambda function: a schedule rule invokes
// it every minute to mark silent agents disconnected, stop the tasks of lost
// hosts and reconcile every service (shared/control's Tick), and to re-run
// the scaling policies of alarms still in ALARM, as `berth up` does on a
// ticker.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/fn"
)

func main() {
	cfg := fn.MustLoadConfig(fn.EnvTableName)
	c := fn.NewControl(cfg)
	scaling := control.NewCloudWatchAutoscaling(c, cloudwatch.NewFromConfig(cfg.AWS), cfg.Log)
	lambda.Start(fn.EventHandler(fn.Tick(func(ctx context.Context) error {
		return errors.Join(c.Tick(ctx), scaling.Tick(ctx))
	})))
}
