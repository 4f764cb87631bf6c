package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/berth-run/berth/functions/internal/runtimetest"
	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { runtimetest.Main(m) }

// busWithQueue creates an event bus in moto_server whose one rule sends
// every Berth event to an SQS queue (moto delivers inside PutEvents).
func busWithQueue(t *testing.T, srv *dynamotest.Server) (busName, queueURL string, q *sqs.Client) {
	t.Helper()
	ctx := t.Context()
	eb, q := awseb.NewFromConfig(srv.Config()), sqs.NewFromConfig(srv.Config())
	busName = dynamotest.TableName(t)
	if _, err := eb.CreateEventBus(ctx, &awseb.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatal(err)
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(busName)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &awseb.PutRuleInput{Name: aws.String("all-berth"), EventBusName: aws.String(busName),
		EventPattern: aws.String(`{"source":["berth"]}`), State: ebtypes.RuleStateEnabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &awseb.PutTargetsInput{Rule: aws.String("all-berth"), EventBusName: aws.String(busName),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}}}); err != nil {
		t.Fatal(err)
	}
	return busName, aws.ToString(queue.QueueUrl), q
}

// received drains the queue and returns the detail-types of its events.
func received(t *testing.T, q *sqs.Client, url string) []string {
	t.Helper()
	var types []string
	for {
		out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return types
		}
		for _, m := range out.Messages {
			var e struct {
				DetailType string `json:"detail-type"`
				Account    string `json:"account"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
			}
			types = append(types, e.DetailType)
			if _, err := q.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestFunctionAgainstMoto runs the publisher function's binary on the
// stream samples, publishing to an EventBridge bus in moto_server.
func TestFunctionAgainstMoto(t *testing.T) {
	srv := dynamotest.Shared(t)
	busName, queue, q := busWithQueue(t, srv)
	fn := runtimetest.Start(t, runtimetest.Build(t, "."), runtimetest.MotoEnv(srv, "123456789012", "", "EVENT_BUS_NAME="+busName, "AWS_ENDPOINT_URL_EVENTBRIDGE="+srv.Endpoint)...)
	invoke := func(sample string) events.DynamoDBEventResponse {
		t.Helper()
		res := fn.Invoke(t, runtimetest.Sample(t, sample))
		if res.Error != nil {
			t.Fatalf("%s: %+v\n%s", sample, res.Error, fn.Output())
		}
		var resp events.DynamoDBEventResponse
		if err := json.Unmarshal(res.Response, &resp); err != nil {
			t.Fatalf("%s: response %s: %v", sample, res.Response, err)
		}
		return resp
	}

	if resp := invoke("publisher-stream-batch.json"); len(resp.BatchItemFailures) != 0 {
		t.Errorf("batch: failures %+v\n%s", resp.BatchItemFailures, fn.Output())
	}
	got := received(t, q, queue)
	slices.Sort(got)
	want := []string{bus.DetailTypeContainerInstanceStateChange, bus.DetailTypeContainerInstanceStateChange,
		bus.DetailTypeTaskStateChange, bus.DetailTypeTaskStateChange}
	if !slices.Equal(got, want) {
		t.Errorf("events on the bus %v, want %v", got, want)
	}

	resp := invoke("publisher-stream-malformed.json")
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "4421584500000000017450439200" {
		t.Errorf("malformed: failures %+v", resp.BatchItemFailures)
	}
	if got := received(t, q, queue); len(got) != 0 {
		t.Errorf("a malformed record put %v on the bus", got)
	}
	if out := fn.Output(); !strings.Contains(out, "attribute v is of type S, not N") {
		t.Errorf("the function's log does not say what is wrong:\n%s", out)
	}
}
