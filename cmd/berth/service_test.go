package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func deployment(id, status string, rollout types.DeploymentRolloutState, desired, running int32) types.Deployment {
	return types.Deployment{Id: aws.String(id), Status: aws.String(status), RolloutState: rollout, DesiredCount: desired, RunningCount: running}
}

func TestWatchDecides(t *testing.T) {
	rolling := &types.Service{ServiceName: aws.String("web"), DesiredCount: 4, RunningCount: 4, Deployments: []types.Deployment{
		deployment("ecs-svc/2", "PRIMARY", types.DeploymentRolloutStateInProgress, 4, 2),
		deployment("ecs-svc/1", "ACTIVE", types.DeploymentRolloutStateCompleted, 0, 2),
	}}
	if v := decide(rolling, "ecs-svc/2"); v != nil {
		t.Errorf("rolling out: verdict %+v", v)
	}
	steady := &types.Service{DesiredCount: 4, RunningCount: 4, Deployments: []types.Deployment{
		deployment("ecs-svc/2", "PRIMARY", types.DeploymentRolloutStateCompleted, 4, 4)}}
	if v := decide(steady, "ecs-svc/2"); v == nil || v.code != exitSteady {
		t.Errorf("steady: verdict %+v", v)
	}
	failed := &types.Service{Deployments: []types.Deployment{
		{Id: aws.String("ecs-svc/2"), Status: aws.String("ACTIVE"), RolloutState: types.DeploymentRolloutStateFailed, RolloutStateReason: aws.String("ECS deployment circuit breaker: task failed to start.")},
		deployment("ecs-svc/3", "PRIMARY", types.DeploymentRolloutStateInProgress, 4, 0)}}
	if v := decide(failed, "ecs-svc/2"); v == nil || v.code != exitFailed || !strings.Contains(v.msg, "circuit breaker") {
		t.Errorf("failed: verdict %+v", v)
	}
	replaced := &types.Service{Deployments: []types.Deployment{deployment("ecs-svc/3", "PRIMARY", types.DeploymentRolloutStateInProgress, 4, 0)}}
	if v := decide(replaced, "ecs-svc/2"); v == nil || v.code != exitFailed {
		t.Errorf("replaced deployment: verdict %+v", v)
	}
}

func TestWatchPrintsNewEventsOnceOldestFirst(t *testing.T) {
	var out strings.Builder
	w := &watcher{out: &out, seenEvents: map[string]bool{}}
	at := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	s := &types.Service{ServiceName: aws.String("web"), DesiredCount: 2, Deployments: []types.Deployment{
		deployment("ecs-svc/1", "PRIMARY", types.DeploymentRolloutStateInProgress, 2, 1)},
		Events: []types.ServiceEvent{
			{Id: aws.String("e2"), CreatedAt: aws.Time(at.Add(time.Second)), Message: aws.String("service web has started 1 tasks: task b.")},
			{Id: aws.String("e1"), CreatedAt: aws.Time(at), Message: aws.String("service web has started 1 tasks: task a.")},
		}}
	w.observe(s)
	w.observe(s)
	text := out.String()
	if strings.Count(text, "task a") != 1 || strings.Count(text, "task b") != 1 || strings.Index(text, "task a") > strings.Index(text, "task b") {
		t.Errorf("events printed wrongly:\n%s", text)
	}
	if strings.Count(text, "[##########----------]") != 1 {
		t.Errorf("the unchanged status should print once, with a half-full bar:\n%s", text)
	}
}
