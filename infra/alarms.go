package main

import (
	"fmt"
	"net/mail"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// deadLetterQueue is a queue where work that failed every retry ends up,
// and what that work was.
type deadLetterQueue struct {
	id    string
	queue awssqs.Queue
	holds string
}

// validateAlarmEmail accepts "" (no notifications) or one bare address.
func validateAlarmEmail(email string) error {
	if email == "" {
		return nil
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return fmt.Errorf("alarm email %q: want one address such as ops@example.com", email)
	}
	return nil
}

// addNotifications declares the SNS topic alarms and the fleet's scaling
// events notify, with the address to mail, when one is configured.
// Without one there is no topic and alarms only change state.
func (s *BerthStack) addNotifications() {
	if s.props.AlarmEmail == "" {
		return
	}
	s.Notifications = awssns.NewTopic(s.Stack, jsii.String("Notifications"), &awssns.TopicProps{
		DisplayName: jsii.String("Berth alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	s.Notifications.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.props.AlarmEmail), nil))
	// No server-side encryption: CloudWatch cannot publish to a topic
	// under the AWS managed key aws/sns, and the notifications carry only
	// alarm names, states and queue depths.
	awscdk.NewCfnOutput(s.Stack, jsii.String("NotificationsTopicArn"), &awscdk.CfnOutputProps{
		Value:       s.Notifications.TopicArn(),
		Description: jsii.String("The SNS topic Berth's alarms notify; subscribe more endpoints to it"),
	})
}

// addDeadLetterAlarms raises an alarm as soon as any dead-letter queue
// holds a message: each one is work Berth gave up on (an event the
// reconciler never handled, a change the publisher never published), so
// one is enough. SQS reports queue depth every five minutes; an empty,
// idle queue reports nothing, which counts as not breaching.
func (s *BerthStack) addDeadLetterAlarms() {
	for _, dlq := range s.deadLetters {
		alarm := awscloudwatch.NewAlarm(s.Stack, jsii.String(dlq.id+"Alarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("Berth: " + dlq.holds + " are in a dead-letter queue; read them from the queue, fix the cause, then redrive or delete them"),
			Metric: dlq.queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(5)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			DatapointsToAlarm:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if s.Notifications != nil {
			action := awscloudwatchactions.NewSnsAction(s.Notifications)
			alarm.AddAlarmAction(action)
			alarm.AddOkAction(action)
		}
		s.Alarms = append(s.Alarms, alarm)
	}
}
