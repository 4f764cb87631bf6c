package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/fn"
	"github.com/berth-run/berth/shared/store/dynamo"
)

// StackProps are the stack's names and sizes; zero values take the
// defaults noted on each field.
type StackProps struct {
	awscdk.StackProps
	// Functions declares the control plane; default DefaultFunctions().
	Functions []Function
	// AssetDir holds each function's build, <AssetDir>/<name>/bootstrap;
	// default dist/functions (relative to the working directory, the
	// repository root when cdk.json runs the app).
	AssetDir string
	// LogRetention is how long function logs are kept; default one month.
	LogRetention awslogs.RetentionDays
	// ArchiveRetention is how long the bus archive keeps events for
	// replay; default 30 days.
	ArchiveRetention time.Duration
	// TableName and EventBusName fix the physical names; "" lets
	// CloudFormation name them, so several stacks fit in one account.
	TableName    string
	EventBusName string
	// Fleet, when set, adds an Auto Scaling group of hosts running the
	// agent (see FleetProps); nil adds none.
	Fleet *FleetProps
	// AlarmEmail, when set, is subscribed to an SNS topic that the
	// stack's alarms (and the fleet's scaling events) notify; "" leaves
	// the alarms without actions.
	AlarmEmail string
}

// BerthStack is the control plane, the role agents' hosts run under, an
// alarm on every dead-letter queue and, when asked for, a fleet of hosts.
type BerthStack struct {
	awscdk.Stack
	Table     awsdynamodb.Table
	Bus       awsevents.EventBus
	Functions map[string]awslambda.Function
	// AgentRole and AgentInstanceProfile let a host call the api URL.
	AgentRole            awsiam.Role
	AgentInstanceProfile awsiam.InstanceProfile
	// Alarms watch the dead-letter queues; Notifications, nil without an
	// alarm email, is the topic they notify.
	Alarms        []awscloudwatch.Alarm
	Notifications awssns.Topic
	// FleetGroup is the fleet's Auto Scaling group; nil without a fleet.
	FleetGroup awsautoscaling.AutoScalingGroup

	props       StackProps
	queues      map[string]awssqs.Queue
	urls        map[string]awslambda.FunctionUrl
	deadLetters []deadLetterQueue
}

// The environment variables the functions read (shared/fn.LoadConfig).
// The endpoint variables are declared empty (the SDK's default endpoint):
// `sam local invoke --env-vars` only overrides variables the template
// declares, and that is how a local run points a function at DynamoDB
// Local or moto.
const (
	EnvTableName        = fn.EnvTableName
	EnvEventBusName     = fn.EnvEventBusName
	EnvAccountID        = fn.EnvAccountID
	EnvDynamoDBEndpoint = "AWS_ENDPOINT_URL_DYNAMODB"
	EnvEventsEndpoint   = "AWS_ENDPOINT_URL_EVENTBRIDGE"
)

// NewBerthStack builds the stack, or says which declaration is wrong.
func NewBerthStack(scope constructs.Construct, id string, props StackProps) (*BerthStack, error) {
	props = withDefaults(props)
	if err := validateFunctions(props.Functions, props.AssetDir); err != nil {
		return nil, err
	}
	if err := validateAlarmEmail(props.AlarmEmail); err != nil {
		return nil, err
	}
	if props.Fleet != nil {
		if err := props.Fleet.validate(); err != nil {
			return nil, err
		}
	}
	s := &BerthStack{
		Stack:     awscdk.NewStack(scope, jsii.String(id), &props.StackProps),
		Functions: map[string]awslambda.Function{},
		props:     props,
		queues:    map[string]awssqs.Queue{},
		urls:      map[string]awslambda.FunctionUrl{},
	}
	s.Table = s.addTable()
	s.Bus = s.addBus()
	for _, f := range props.Functions {
		s.addFunction(f)
	}
	if err := s.addRules(); err != nil {
		return nil, err
	}
	s.addOutputs()
	if err := s.addAgentRole(); err != nil {
		return nil, err
	}
	s.addNotifications()
	s.addDeadLetterAlarms()
	if props.Fleet != nil {
		s.addFleet()
	}
	return s, nil
}

func withDefaults(p StackProps) StackProps {
	if p.Functions == nil {
		p.Functions = DefaultFunctions()
	}
	if p.AssetDir == "" {
		p.AssetDir = filepath.Join("dist", "functions")
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if p.ArchiveRetention == 0 {
		p.ArchiveRetention = 30 * 24 * time.Hour
	}
	if p.Fleet != nil {
		fleet := p.Fleet.withDefaults()
		p.Fleet = &fleet
	}
	return p
}

// validateFunctions checks the declarations before any resource is made:
// each entry, unique names, a rule or schedule for every events-triggered
// function, and a built bootstrap for each.
func validateFunctions(fns []Function, assetDir string) error {
	targets := map[string]bool{}
	for _, r := range bus.Rules() {
		targets[r.Target] = true
	}
	for _, sch := range bus.Schedules() {
		targets[sch.Target] = true
	}
	seen := map[string]bool{}
	for _, f := range fns {
		if err := f.validate(); err != nil {
			return err
		}
		if seen[f.Name] {
			return fmt.Errorf("function %s is declared twice", f.Name)
		}
		seen[f.Name] = true
		if f.Trigger == TriggerEvents && !targets[f.Name] {
			return fmt.Errorf("function %s is triggered by events, but no rule or schedule in shared/bus targets %q", f.Name, f.Name)
		}
		bootstrap := filepath.Join(assetDir, f.Name, "bootstrap")
		if info, err := os.Stat(bootstrap); err != nil || !info.Mode().IsRegular() {
			return fmt.Errorf("function %s: %s is not built; run `make build` first", f.Name, bootstrap)
		}
	}
	return nil
}

// addTable declares the table exactly as the DynamoDB store adapter uses it
// (shared/store/dynamo): string keys PK/SK, two sparse GSIs projecting
// everything, TTL on ttl, and a stream with both images for the publisher.
func (s *BerthStack) addTable() awsdynamodb.Table {
	str := awsdynamodb.AttributeType_STRING
	t := awsdynamodb.NewTable(s.Stack, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:                        optional(s.props.TableName),
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(dynamo.AttrPK), Type: str},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String(dynamo.AttrSK), Type: str},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		TimeToLiveAttribute:              jsii.String(dynamo.AttrTTL),
		Stream:                           awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
	for _, ix := range []struct{ name, pk, sk string }{
		{dynamo.IndexGSI1, dynamo.AttrGSI1PK, dynamo.AttrGSI1SK},
		{dynamo.IndexGSI2, dynamo.AttrGSI2PK, dynamo.AttrGSI2SK},
	} {
		t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(ix.pk), Type: str},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ix.sk), Type: str},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return t
}

// addBus declares Berth's event bus and an archive of everything on it, so
// any stretch of events can be replayed to the rules.
func (s *BerthStack) addBus() awsevents.EventBus {
	b := awsevents.NewEventBus(s.Stack, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: optional(s.props.EventBusName),
		Description:  jsii.String("Berth: ECS-shaped task, container instance, service and deployment events"),
	})
	b.Archive(jsii.String("Archive"), &awsevents.BaseArchiveProps{
		Description:  jsii.String("Every event on Berth's bus, for replay"),
		EventPattern: &awsevents.EventPattern{Account: jsii.Strings(*awscdk.Aws_ACCOUNT_ID())},
		Retention:    awscdk.Duration_Days(jsii.Number(s.props.ArchiveRetention.Hours() / 24)),
	})
	return b
}

// addFunction declares one function: its log group, a role holding only
// what the entry asks for, the function, and its non-rule trigger.
func (s *BerthStack) addFunction(f Function) {
	id := constructID(f.Name)
	logs := awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     s.props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Berth " + f.Name + " function: its own logs and what its entry grants"),
	})
	logs.GrantWrite(role)
	env := map[string]*string{EnvAccountID: awscdk.Aws_ACCOUNT_ID()}
	if f.Access&TableReadWrite != 0 {
		s.grantTable(role)
		env[EnvTableName] = s.Table.TableName()
		env[EnvDynamoDBEndpoint] = jsii.String("")
	}
	if f.Access&PutEvents != 0 {
		s.Bus.GrantPutEventsTo(role, nil)
		env[EnvEventBusName] = s.Bus.EventBusName()
		env[EnvEventsEndpoint] = jsii.String("")
	}
	if f.Access&AlarmsRead != 0 {
		s.grantAlarmsRead(role)
	}
	if f.Access&AlarmsManage != 0 {
		s.grantAlarmsManage(role)
	}
	if f.Access&MetricsPublish != 0 {
		grantMetricsPublish(role)
	}
	props := &awslambda.FunctionProps{
		Description:  jsii.String(f.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(s.props.AssetDir, f.Name)), nil),
		MemorySize:   jsii.Number(float64(f.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(f.Timeout.Seconds())),
		Role:         role,
		LogGroup:     logs,
		Environment:  &env,
	}
	if f.Trigger == TriggerEvents && !f.Queued {
		// Lambda retries a failed asynchronous invocation at most twice.
		props.RetryAttempts = jsii.Number(float64(min(f.RetryAttempts, 2)))
	}
	function := awslambda.NewFunction(s.Stack, jsii.String(id), props)
	s.Functions[f.Name] = function
	switch f.Trigger {
	case TriggerURL:
		url := function.AddFunctionUrl(&awslambda.FunctionUrlOptions{AuthType: awslambda.FunctionUrlAuthType_AWS_IAM})
		s.urls[f.Name] = url
		awscdk.NewCfnOutput(s.Stack, jsii.String(id+"Endpoint"), &awscdk.CfnOutputProps{
			Value:       url.Url(),
			Description: jsii.String("The " + f.Name + " function's URL (SigV4, service lambda); `berth proxy --endpoint` it for the aws CLI"),
		})
		awscdk.NewCfnOutput(s.Stack, jsii.String(id+"FunctionArn"), &awscdk.CfnOutputProps{
			Value:       function.FunctionArn(),
			Description: jsii.String("Callers of the " + f.Name + " URL need lambda:InvokeFunctionUrl and lambda:InvokeFunction on this ARN"),
		})
	case TriggerStream:
		s.addStreamSource(id, function, role)
	case TriggerEvents:
		if f.Queued {
			s.addQueue(id, f, function)
		}
	}
}

// The DynamoDB actions the store adapter performs (a transaction needs the
// action of each of its writes), on the table and, for Query, its indexes.
var (
	tableActions = []string{
		"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
		"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem",
	}
	indexActions = []string{"dynamodb:Query"}
)

// grantTable lets role read and write items, naming each index rather than
// index/*, so no wildcard is needed.
func (s *BerthStack) grantTable(role awsiam.Role) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(tableActions...),
		Resources: jsii.Strings(*s.Table.TableArn()),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(indexActions...),
		Resources: jsii.Strings(*s.Table.TableArn()+"/index/"+dynamo.IndexGSI1, *s.Table.TableArn()+"/index/"+dynamo.IndexGSI2),
	}))
}

// grantAlarmsRead lets role describe the account's alarms in the stack's
// region: the alarms a scaling policy is bound to are users' own, named as
// they like.
func (s *BerthStack) grantAlarmsRead(role awsiam.Role) {
	alarms := awscdk.Arn_Format(&awscdk.ArnComponents{Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"),
		ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME}, s.Stack)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("cloudwatch:DescribeAlarms"),
		Resources: jsii.Strings(*alarms),
	}))
	accept(role, "AwsSolutions-IAM5", "The scaler reads the alarms whose state changes reach it, which users name freely, so DescribeAlarms is granted on every alarm of the account and region (read only).",
		"Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*")
}

// grantAlarmsManage lets role create and delete the target-tracking alarms
// Berth owns, which are all named TargetTracking-*.
func (s *BerthStack) grantAlarmsManage(role awsiam.Role) {
	alarms := awscdk.Arn_Format(&awscdk.ArnComponents{Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"),
		ResourceName: jsii.String("TargetTracking-*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME}, s.Stack)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"),
		Resources: jsii.Strings(*alarms),
	}))
	accept(role, "AwsSolutions-IAM5", "Target-tracking policies create and delete their own alarms, named TargetTracking-<resource>-AlarmHigh/Low-<uuid> as Application Auto Scaling names them; the grant is limited to that name prefix.",
		"Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:TargetTracking-*")
}

// grantMetricsPublish lets role publish metrics in Berth's namespace only:
// PutMetricData has no resource-level permissions, so the namespace
// condition is what scopes it.
func grantMetricsPublish(role awsiam.Role) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("cloudwatch:PutMetricData"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": control.MetricNamespace}},
	}))
	accept(role, "AwsSolutions-IAM5", "cloudwatch:PutMetricData supports no resource-level permissions; a condition limits it to Berth's namespace ("+control.MetricNamespace+").", "Resource::*")
}

// addStreamSource feeds the table's stream to fn. A batch that fails is
// retried from the first record fn reports (bisecting on function errors);
// a record still failing after the retries goes to an encrypted
// dead-letter queue, and the stream moves on.
func (s *BerthStack) addStreamSource(id string, fn awslambda.Function, role awsiam.Role) {
	dlq := s.newQueue(id+"StreamFailures", nil, nil)
	s.deadLetters = append(s.deadLetters, deadLetterQueue{id: id + "StreamFailures", queue: dlq, holds: "table stream records that " + id + " failed to handle"})
	accept(dlq, "AwsSolutions-SQS3", "This queue is itself a dead-letter queue: the on-failure destination of the stream event source, receiving the records the publisher could not handle after its retries.")
	accept(role, "AwsSolutions-IAM5", "dynamodb:ListStreams supports no resource-level permissions, so Lambda's stream poller needs it on *; the stream-reading actions are granted on the table's stream ARN only.", "Resource::*")
	fn.AddEventSource(awslambdaeventsources.NewDynamoEventSource(s.Table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(100),
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           jsii.Number(10),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(24)),
		OnFailure:               awslambdaeventsources.NewSqsDlq(dlq),
	}))
}

// addQueue buffers a queued function's events: the rules send to a queue
// the function drains in batches of up to 10 events, reporting the
// messages it failed; a message failing 5 receives moves to the
// dead-letter queue.
func (s *BerthStack) addQueue(id string, f Function, fn awslambda.Function) {
	dlq := s.newQueue(id+"DeadLetters", nil, nil)
	s.deadLetters = append(s.deadLetters, deadLetterQueue{id: id + "DeadLetters", queue: dlq, holds: "events that " + id + " failed to handle"})
	q := s.newQueue(id+"Queue", &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(5)},
		awscdk.Duration_Seconds(jsii.Number(6*f.Timeout.Seconds())))
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	s.queues[f.Name] = q
}

// newQueue is an SQS queue encrypted at rest, refusing unencrypted
// transport, keeping messages the longest SQS allows (14 days).
func (s *BerthStack) newQueue(id string, dlq *awssqs.DeadLetterQueue, visibility awscdk.Duration) awssqs.Queue {
	return awssqs.NewQueue(s.Stack, jsii.String(id), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(14)),
		DeadLetterQueue:   dlq,
		VisibilityTimeout: visibility,
	})
}

// addRules deploys every rule and schedule of shared/bus whose target is a
// declared function; the others wait for their function.
func (s *BerthStack) addRules() error {
	for _, r := range bus.Rules() {
		f, ok := s.function(r.Target)
		if !ok {
			continue
		}
		if err := s.addRule(r, f); err != nil {
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
	}
	for _, sch := range bus.Schedules() {
		f, ok := s.function(sch.Target)
		if !ok {
			continue
		}
		awsevents.NewRule(s.Stack, jsii.String(constructID(sch.Name)), &awsevents.RuleProps{
			Description: jsii.String(sch.Description),
			Schedule:    awsevents.Schedule_Expression(jsii.String(sch.Expression)),
			Targets:     &[]awsevents.IRuleTarget{s.ruleTarget(f)},
		})
	}
	return nil
}

// function is the declared function a bus target names, if it is
// triggered by events.
func (s *BerthStack) function(target string) (Function, bool) {
	for _, f := range s.props.Functions {
		if f.Name == target && f.Trigger == TriggerEvents {
			return f, true
		}
	}
	return Function{}, false
}

// addRule deploys one pattern rule: on the default bus when it matches AWS
// services' events (where AWS delivers them), else on Berth's bus.
func (s *BerthStack) addRule(r bus.Rule, f Function) error {
	pattern, err := eventPattern(r.Pattern)
	if err != nil {
		return err
	}
	aws, err := fromAWSServices(r.Pattern)
	if err != nil {
		return err
	}
	props := &awsevents.RuleProps{
		Description:  jsii.String(r.Description),
		EventPattern: pattern,
		Targets:      &[]awsevents.IRuleTarget{s.ruleTarget(f)},
	}
	if !aws {
		props.EventBus = s.Bus
	}
	awsevents.NewRule(s.Stack, jsii.String(constructID(r.Name)), props)
	return nil
}

// ruleTarget delivers to f's queue when it has one, else invokes f.
func (s *BerthStack) ruleTarget(f Function) awsevents.IRuleTarget {
	if q, ok := s.queues[f.Name]; ok {
		return awseventstargets.NewSqsQueue(q, nil)
	}
	return awseventstargets.NewLambdaFunction(s.Functions[f.Name], &awseventstargets.LambdaFunctionProps{
		RetryAttempts: jsii.Number(float64(f.RetryAttempts)),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
	})
}

func (s *BerthStack) addOutputs() {
	awscdk.NewCfnOutput(s.Stack, jsii.String("EventBusName"), &awscdk.CfnOutputProps{
		Value:       s.Bus.EventBusName(),
		Description: jsii.String("Berth's event bus: subscribe rules here to ECS-shaped events (source berth)"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("TableName"), &awscdk.CfnOutputProps{
		Value:       s.Table.TableName(),
		Description: jsii.String("The DynamoDB table holding all of Berth's state"),
	})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
