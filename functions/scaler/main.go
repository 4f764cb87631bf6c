// Command scaler is the scaler Lambda function: Berth's rule sends it every
// CloudWatch Alarm State Change entering ALARM, and it runs the scaling
// policies the alarm names (shared/control's ScalerHandler, the handler
// `berth up` installs on the in-process bus), reading alarms from
// CloudWatch.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/fn"
)

func main() {
	cfg := fn.MustLoadConfig(fn.EnvTableName)
	c := fn.NewControl(cfg)
	a := control.NewCloudWatchAutoscaling(c, cloudwatch.NewFromConfig(cfg.AWS), cfg.Log)
	lambda.Start(fn.EventHandler(a.ScalerHandler()))
}
