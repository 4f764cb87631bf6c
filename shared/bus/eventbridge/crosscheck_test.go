package eventbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/bus/bustest"
	"github.com/berth-run/berth/shared/bus/eventbridge"
	"github.com/berth-run/berth/shared/bus/local"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dynamotest.StopShared()
	os.Exit(code)
}

// probe is a pattern beyond Berth's rules, installed beside them to compare
// moto's matching with the in-process bus's on constructs Berth's rules do
// not use yet.
type probe struct {
	name    string
	pattern string
	// motoMisses documents a construct moto 5.2 does not match although
	// EventBridge does (and the in-process bus, following EventBridge,
	// does): the test expects moto to miss exactly there, so it notices if
	// moto changes.
	motoMisses string
}

var probes = []probe{
	{name: "probe-anything-but", pattern: `{"source":["berth"],"detail-type":[{"anything-but":["ECS Task State Change","Berth Service Change"]}]}`},
	{name: "probe-exists-false", pattern: `{"source":["berth"],"detail":{"stoppedReason":[{"exists":false}]}}`},
	{name: "probe-exists-true", pattern: `{"detail":{"state":{"value":[{"exists":true}]}}}`},
	{name: "probe-wildcard", pattern: `{"resources":[{"wildcard":"arn:aws:ecs:us-east-1:000000000000:service/default/*"}]}`},
	{name: "probe-equals-ignore-case", pattern: `{"detail-type":[{"equals-ignore-case":"ecs task state change"}]}`},
	{name: "probe-prefix-in-string-array", pattern: `{"detail":{"containerInstanceArns":[{"prefix":"arn:aws:ecs:us-east-1:"}]}}`},
	{
		name:    "probe-field-in-array-of-objects",
		pattern: `{"detail":{"containers":{"name":["log-router"]}}}`,
		motoMisses: "EventBridge matches a field inside an array of objects (detail.containers[].name); " +
			"moto flattens only nested objects, never arrays, so the field is absent for it",
	},
}

const probeTarget = "probe"

// TestRulesMatchOnEventBridgeAsInProcess is the cross-check of the rule
// definitions: every rule of bus.Rules() is created in moto's EventBridge
// with its exact pattern and an SQS queue of its own as target, every
// sample event is put on the bus, and each must reach exactly the queues of
// the rules the in-process bus's Match names.
//
// Berth's events go through the adapter. Samples with an "aws." source
// (CloudWatch alarms, schedules) are put directly with the SDK: AWS services
// deliver those to the bus themselves, and EventBridge would refuse them
// from PutEvents (moto does not check).
//
// moto delivers to SQS targets inside PutEvents, so once Put returns every
// queue holds what it will get; against AWS, delivery is asynchronous and
// the absence of a message could not be judged so.
func TestRulesMatchOnEventBridgeAsInProcess(t *testing.T) {
	srv := dynamotest.Shared(t)
	cfg := srv.Config()
	eb, q := awseb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := t.Context()

	const busName = "berth-crosscheck"
	if _, err := eb.CreateEventBus(ctx, &awseb.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatalf("create event bus: %v", err)
	}
	t.Cleanup(func() {
		_, _ = eb.DeleteEventBus(context.Background(), &awseb.DeleteEventBusInput{Name: aws.String(busName)})
	})

	inProcess := inProcessBus(t)
	queues := map[string]string{} // rule name → queue URL
	for _, r := range bus.Rules() {
		queues[r.Name] = installRule(t, eb, q, busName, r.Name, string(r.Pattern))
	}
	for _, p := range probes {
		queues[p.name] = installRule(t, eb, q, busName, p.name, p.pattern)
		if err := inProcess.AddRuleJSON(p.name, probeTarget, p.pattern); err != nil {
			t.Fatalf("in-process bus refuses probe %s: %v", p.name, err)
		}
	}

	samples, err := bustest.Samples()
	if err != nil {
		t.Fatal(err)
	}
	adapter := eventbridge.New(eb, busName)
	matchedSomewhere := map[string]bool{}
	for _, s := range samples {
		t.Run(s.File, func(t *testing.T) {
			want, err := inProcess.Match(s.Event)
			if err != nil {
				t.Fatalf("in-process Match: %v", err)
			}
			berthRules := slices.DeleteFunc(slices.Clone(want), isProbe)
			if !slices.Equal(berthRules, slices.Sorted(slices.Values(s.Matches))) {
				t.Fatalf("in-process bus matches Berth's rules %v; the sample says %v", berthRules, s.Matches)
			}
			for _, name := range want {
				matchedSomewhere[name] = true
			}
			wantMoto := slices.DeleteFunc(slices.Clone(want), func(name string) bool { return motoMisses(name) != "" })

			putOnBus(t, adapter, eb, busName, s.Event)
			got := drain(t, q, queues, s.Event)
			if !slices.Equal(got, wantMoto) {
				t.Fatalf("reached the queues of %v on moto's EventBridge; the in-process bus matches %v (moto's documented misses removed: %v)",
					got, want, wantMoto)
			}
			for _, name := range want {
				if why := motoMisses(name); why != "" {
					t.Logf("moto deviation, expected: %s does not match on moto: %s", name, why)
				}
			}
		})
	}
	// A rule or probe no sample matches would make its comparison vacuous.
	for name := range queues {
		if !matchedSomewhere[name] {
			t.Errorf("no sample matches %s, so the cross-check says nothing about it", name)
		}
	}
}

func isProbe(name string) bool {
	return slices.ContainsFunc(probes, func(p probe) bool { return p.name == name })
}

func motoMisses(name string) string {
	for _, p := range probes {
		if p.name == name {
			return p.motoMisses
		}
	}
	return ""
}

// inProcessBus is the in-process bus with Berth's rules and handlers that
// ignore what they get: only its Match is used.
func inProcessBus(t *testing.T) *local.Bus {
	b, err := local.New(local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ignore := func(context.Context, []bus.Event) error { return nil }
	if err := b.Install(map[string]bus.Handler{
		bus.TargetReconciler: ignore, bus.TargetScaler: ignore, bus.TargetMonitor: ignore, probeTarget: ignore,
	}); err != nil {
		t.Fatalf("install Berth's rules in the in-process bus: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("close in-process bus: %v", err)
		}
	})
	return b
}

// installRule creates the rule on the bus with an SQS queue of its own as
// its target and returns the queue's URL.
func installRule(t *testing.T, eb *awseb.Client, q *sqs.Client, busName, name, pattern string) string {
	t.Helper()
	ctx := t.Context()
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("create queue for %s: %v", name, err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("queue ARN of %s: %v", name, err)
	}
	if _, err := eb.PutRule(ctx, &awseb.PutRuleInput{
		Name:         aws.String(name),
		EventBusName: aws.String(busName),
		EventPattern: aws.String(pattern),
		State:        ebtypes.RuleStateEnabled,
	}); err != nil {
		t.Fatalf("put rule %s with pattern %s: %v", name, pattern, err)
	}
	out, err := eb.PutTargets(ctx, &awseb.PutTargetsInput{
		Rule:         aws.String(name),
		EventBusName: aws.String(busName),
		Targets:      []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}},
	})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("put target of %s: %v %+v", name, err, out)
	}
	return aws.ToString(queue.QueueUrl)
}

func putOnBus(t *testing.T, adapter *eventbridge.Bus, eb *awseb.Client, busName string, e bus.Event) {
	t.Helper()
	if !bus.IsAWSSource(e.Source) {
		if err := adapter.Put(t.Context(), e); err != nil {
			t.Fatalf("adapter Put: %v", err)
		}
		return
	}
	out, err := eb.PutEvents(t.Context(), &awseb.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(busName),
		Source:       aws.String(e.Source),
		DetailType:   aws.String(e.DetailType),
		Detail:       aws.String(string(e.Detail)),
		Resources:    e.Resources,
		Time:         aws.Time(e.Time),
	}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents of an %s event: %v %+v", e.Source, err, out)
	}
}

// drain empties every queue and returns the names of the rules whose queue
// held a message, sorted; each message must be the event that was put.
func drain(t *testing.T, q *sqs.Client, queues map[string]string, sent bus.Event) []string {
	t.Helper()
	var reached []string
	for name, url := range queues {
		for {
			out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatalf("receive from the queue of %s: %v", name, err)
			}
			if len(out.Messages) == 0 {
				break
			}
			if len(out.Messages) > 1 {
				t.Fatalf("the queue of %s got %d messages for one event", name, len(out.Messages))
			}
			m := out.Messages[0]
			assertDelivered(t, name, aws.ToString(m.Body), sent)
			if _, err := q.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete message: %v", err)
			}
			reached = append(reached, name)
		}
	}
	slices.Sort(reached)
	return reached
}

// assertDelivered checks that a target received the event that was put.
// EventBridge assigns id, account, region and ingestion metadata itself,
// and moto passes the request's time through as a number rather than
// EventBridge's ISO-8601 string, so those are not compared.
func assertDelivered(t *testing.T, rule, body string, sent bus.Event) {
	t.Helper()
	var got struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("the queue of %s got a message that is not an event: %v: %s", rule, err, body)
	}
	var gotDetail, sentDetail any
	if err := json.Unmarshal(got.Detail, &gotDetail); err != nil {
		t.Fatalf("delivered detail: %v", err)
	}
	if err := json.Unmarshal(sent.Detail, &sentDetail); err != nil {
		t.Fatalf("sent detail: %v", err)
	}
	sentResources := sent.Resources
	if sentResources == nil {
		sentResources = []string{}
	}
	if got.Resources == nil {
		got.Resources = []string{}
	}
	if got.Source != sent.Source || got.DetailType != sent.DetailType ||
		!slices.Equal(got.Resources, sentResources) || !reflect.DeepEqual(gotDetail, sentDetail) {
		t.Fatalf("the queue of %s got %s\nwant the event that was put: %s", rule, body, fmt.Sprint(sent))
	}
}
