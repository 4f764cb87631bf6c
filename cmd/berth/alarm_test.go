package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/local"
	"github.com/berth-run/berth/shared/scaling"
)

// berth runs the berth command line with args and returns its output.
func berth(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := rootCommand()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAlarmPutSetStateDescribeDelete(t *testing.T) {
	p := testenv.Plane(t, local.Config{})
	ep := p.Endpoint()
	policy := "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:p:resource/ecs/service/default/web:policyName/out"
	out, err := berth(t, "alarm", "put", "--endpoint", ep, "--name", "web-high", "--action", policy,
		"--namespace", "Test", "--metric", "Load", "--dimensions", "ClusterName=default,ServiceName=web",
		"--threshold", "50", "--comparison", "GreaterThanThreshold", "--period", "60", "--evaluation-periods", "3")
	if err != nil || strings.TrimSpace(out) != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-high" {
		t.Fatalf("put: %q, %v", out, err)
	}
	if _, err := berth(t, "alarm", "set-state", "web-high", "ALARM", "--endpoint", ep, "--reason", "load test",
		"--reason-data", `{"recentDatapoints":[75.0],"threshold":50.0}`); err != nil {
		t.Fatal(err)
	}
	got := p.Alarms()
	alarms, err := got.DescribeAlarmsAction(context.Background(), &control.DescribeAlarmsInput{AlarmNames: []string{"web-high"}})
	if err != nil || len(alarms.MetricAlarms) != 1 {
		t.Fatalf("describe: %+v %v", alarms, err)
	}
	a := alarms.MetricAlarms[0]
	if a.StateValue != scaling.StateAlarm || a.StateReason != "load test" || a.Threshold != 50 || a.EvaluationPeriods != 3 ||
		len(a.Dimensions) != 2 || a.Dimensions[1].Value != "web" || a.AlarmActions[0] != policy {
		t.Fatalf("alarm = %+v", a)
	}

	out, err = berth(t, "alarm", "describe", "--endpoint", ep, "--state", "ALARM")
	var desc control.DescribeAlarmsOutput
	if err != nil || json.Unmarshal([]byte(out), &desc) != nil || len(desc.MetricAlarms) != 1 {
		t.Fatalf("describe: %q %v", out, err)
	}

	_, err = berth(t, "alarm", "set-state", "nope", "OK", "--endpoint", ep, "--reason", "x")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("set-state of a missing alarm: %v", err)
	}
	_, err = berth(t, "alarm", "set-state", "web-high", "OK", "--endpoint", ep, "--reason", "x", "--reason-data", "{broken")
	if err == nil || !strings.Contains(err.Error(), "InvalidFormat") {
		t.Fatalf("set-state with bad reason data: %v", err)
	}
	_, err = berth(t, "alarm", "put", "--endpoint", ep, "--name", "x", "--dimensions", "ClusterName")
	if err == nil || !strings.Contains(err.Error(), "Name=Value") {
		t.Fatalf("bad dimensions: %v", err)
	}
	if _, err := berth(t, "alarm", "delete", "web-high", "--endpoint", ep); err != nil {
		t.Fatal(err)
	}
	if alarms, _ := got.DescribeAlarmsAction(context.Background(), &control.DescribeAlarmsInput{}); len(alarms.MetricAlarms) != 0 {
		t.Fatalf("alarms after delete: %+v", alarms.MetricAlarms)
	}
	t.Setenv("BERTH_ENDPOINT", "")
	if _, err := berth(t, "alarm", "describe"); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Fatalf("no endpoint: %v", err)
	}
}
