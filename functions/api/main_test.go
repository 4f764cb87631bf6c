package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/functions/internal/runtimetest"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { runtimetest.Main(m) }

// TestFunctionAgainstMoto runs the api function's binary on the Function
// URL samples, over a DynamoDB table in moto_server.
func TestFunctionAgainstMoto(t *testing.T) {
	srv := dynamotest.Shared(t)
	table := dynamotest.NewStore(t, srv).Table()
	fn := runtimetest.Start(t, runtimetest.Build(t, "."), runtimetest.MotoEnv(srv, "123456789012", table)...)

	steps := []struct {
		sample string
		status int
		want   []string
	}{
		{"functionurl-create-cluster.json", http.StatusOK, []string{`"clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/web"`}},
		{"functionurl-register-task-definition.json", http.StatusOK, []string{`"taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"`}},
		// A later invocation reads what an earlier one wrote to the table.
		{"functionurl-describe-clusters.json", http.StatusOK, []string{`"clusterName":"web"`, `"reason":"MISSING"`}},
		{"functionurl-malformed-body.json", http.StatusBadRequest, []string{`"__type":"SerializationException"`}},
	}
	for _, step := range steps {
		res := fn.Invoke(t, runtimetest.Sample(t, step.sample))
		if res.Error != nil {
			t.Fatalf("%s: the function failed: %+v\n%s", step.sample, res.Error, fn.Output())
		}
		var resp events.LambdaFunctionURLResponse
		if err := json.Unmarshal(res.Response, &resp); err != nil {
			t.Fatalf("%s: response %s: %v", step.sample, res.Response, err)
		}
		if resp.StatusCode != step.status {
			t.Errorf("%s: status %d, want %d: %s", step.sample, resp.StatusCode, step.status, resp.Body)
		}
		for _, want := range step.want {
			if !strings.Contains(resp.Body, want) {
				t.Errorf("%s: body %s lacks %s", step.sample, resp.Body, want)
			}
		}
	}
}

func TestFunctionWithoutConfiguration(t *testing.T) {
	fn := runtimetest.Start(t, runtimetest.Build(t, "."), "AWS_REGION=us-east-1", "BERTH_ACCOUNT_ID=123456789012")
	if !fn.Exited(time.Minute) {
		t.Fatal("the function should stop at init without TABLE_NAME")
	}
	if out := fn.Output(); !strings.Contains(out, "TABLE_NAME must be set") {
		t.Errorf("init failure does not name the variable: %s", out)
	}
}
