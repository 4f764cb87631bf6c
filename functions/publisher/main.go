// Command publisher is the publisher Lambda function: it reads the table's
// DynamoDB stream and puts the ECS state-change events the committed
// changes announce on Berth's EventBridge bus (shared/control's Publisher,
// which `berth up` feeds from the embedded store's commit hook).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awseventbridge "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/bus/eventbridge"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/fn"
	"github.com/berth-run/berth/shared/store/dynamo"
)

func main() {
	cfg := fn.MustLoadConfig(fn.EnvEventBusName)
	events := eventbridge.New(awseventbridge.NewFromConfig(cfg.AWS), cfg.EventBusName, eventbridge.WithLogger(cfg.Log))
	publisher := &control.Publisher{Bus: events, Factory: bus.Factory{Account: cfg.Account, NewID: bus.RandomIDs()}, Now: time.Now}
	stream := &fn.StreamPublisher{Decode: dynamo.ChangesFromStreamRecords, Publish: publisher.Handle, Log: cfg.Log}
	lambda.Start(stream.Handle)
}
