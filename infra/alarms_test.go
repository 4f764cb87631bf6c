package main

import (
	"slices"
	"testing"
)

// deadLetterQueueIDs are the queues the template sends failed work to: a
// queue's redrive target or a stream mapping's on-failure destination.
func (s *synthesized) deadLetterQueueIDs() []string {
	var ids []string
	for _, id := range s.ofType("AWS::SQS::Queue") {
		if redrive, ok := s.resources[id].Properties["RedrivePolicy"].(map[string]any); ok {
			ids = append(ids, redrive["deadLetterTargetArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string))
		}
	}
	for _, id := range s.ofType("AWS::Lambda::EventSourceMapping") {
		dest, ok := s.resources[id].Properties["DestinationConfig"].(map[string]any)
		if ok {
			ids = append(ids, dest["OnFailure"].(map[string]any)["Destination"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string))
		}
	}
	slices.Sort(ids)
	return ids
}

// checkDeadLetterAlarms: one alarm per dead-letter queue, in ALARM as soon
// as a message is visible in it (one five-minute datapoint of the
// maximum), notifying the topic exactly when an email is configured.
func (s *synthesized) checkDeadLetterAlarms(t *testing.T) {
	dlqs := s.deadLetterQueueIDs()
	// The default control plane has the publisher's stream failures and
	// the reconciler's dead letters.
	if len(dlqs) < 2 {
		t.Fatalf("dead-letter queues %v, want at least the publisher's and the reconciler's", dlqs)
	}
	var topic any
	if s.config.email != "" {
		topicID, _ := s.only(t, "AWS::SNS::Topic")
		topic = ref(topicID)
		_, sub := s.only(t, "AWS::SNS::Subscription")
		if sub.Properties["Protocol"] != "email" || sub.Properties["Endpoint"] != s.config.email || !jsonEqual(sub.Properties["TopicArn"], topic) {
			t.Errorf("subscription %v, want %s by email", sub.Properties, s.config.email)
		}
		s.checkOutput(t, "NotificationsTopicArn", topic)
	} else if ids := s.ofType("AWS::SNS::Topic"); len(ids) > 0 {
		t.Errorf("topics %v without an alarm email", ids)
	}
	watched := map[string]int{}
	for _, id := range s.ofType("AWS::CloudWatch::Alarm") {
		p := s.resources[id].Properties
		dims, _ := p["Dimensions"].([]any)
		if len(dims) != 1 {
			t.Errorf("alarm %s dimensions %v", id, dims)
			continue
		}
		dim := dims[0].(map[string]any)
		queue, _ := dim["Value"].(map[string]any)["Fn::GetAtt"].([]any)
		if dim["Name"] != "QueueName" || len(queue) != 2 || queue[1] != "QueueName" {
			t.Errorf("alarm %s watches %v, want a queue by name", id, dim)
			continue
		}
		watched[queue[0].(string)]++
		want := map[string]any{
			"Namespace":          "AWS/SQS",
			"MetricName":         "ApproximateNumberOfMessagesVisible",
			"Statistic":          "Maximum",
			"Period":             300,
			"Threshold":          1,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"EvaluationPeriods":  1,
			"DatapointsToAlarm":  1,
			"TreatMissingData":   "notBreaching",
		}
		for k, v := range want {
			if !jsonEqual(p[k], v) {
				t.Errorf("alarm %s: %s = %v, want %v", id, k, p[k], v)
			}
		}
		for _, actions := range []string{"AlarmActions", "OKActions"} {
			if topic == nil && p[actions] != nil {
				t.Errorf("alarm %s: %s %v without an alarm email", id, actions, p[actions])
			}
			if topic != nil && !jsonEqual(p[actions], []any{topic}) {
				t.Errorf("alarm %s: %s %v, want the topic", id, actions, p[actions])
			}
		}
	}
	for _, q := range dlqs {
		if watched[q] != 1 {
			t.Errorf("dead-letter queue %s has %d alarms, want 1", q, watched[q])
		}
	}
	if len(watched) != len(dlqs) {
		t.Errorf("alarms watch %v; the dead-letter queues are %v", watched, dlqs)
	}
}
