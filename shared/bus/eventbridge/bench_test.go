package eventbridge_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/bus/bustest"
	"github.com/berth-run/berth/shared/bus/eventbridge"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

// BenchmarkPut10 puts ten task state changes, one PutEvents request, on a
// bus of moto_server's EventBridge without rules: it measures the adapter
// plus moto on this machine, not EventBridge's latency.
func BenchmarkPut10(b *testing.B) {
	srv := dynamotest.Shared(b)
	eb := awseb.NewFromConfig(srv.Config())
	name := dynamotest.TableName(b) // unique per run, valid as a bus name
	if _, err := eb.CreateEventBus(b.Context(), &awseb.CreateEventBusInput{Name: aws.String(name)}); err != nil {
		b.Fatal(err)
	}
	samples, err := bustest.Samples()
	if err != nil {
		b.Fatal(err)
	}
	var task bus.Event
	for _, s := range samples {
		if s.File == "ecs-task-state-change-stopped.json" {
			task = s.Event
		}
	}
	events := make([]bus.Event, eventbridge.MaxBatchEntries)
	for i := range events {
		events[i] = task
	}
	adapter := eventbridge.New(eb, name)
	b.ResetTimer()
	for b.Loop() {
		if err := adapter.Put(b.Context(), events...); err != nil {
			b.Fatal(err)
		}
	}
}
