package ecs

import "testing"

var acct = Account{Region: "us-east-1", ID: "000000000000"}

func TestARNFormats(t *testing.T) {
	cases := map[string]string{
		acct.ClusterARN("web"):                  "arn:aws:ecs:us-east-1:000000000000:cluster/web",
		acct.TaskDefinitionARN("app", 3):        "arn:aws:ecs:us-east-1:000000000000:task-definition/app:3",
		acct.ContainerInstanceARN("web", "abc"): "arn:aws:ecs:us-east-1:000000000000:container-instance/web/abc",
		acct.TaskARN("web", "f00"):              "arn:aws:ecs:us-east-1:000000000000:task/web/f00",
		acct.ServiceARN("web", "api"):           "arn:aws:ecs:us-east-1:000000000000:service/web/api",
		acct.ContainerARN("web", "f00", "c1"):   "arn:aws:ecs:us-east-1:000000000000:container/web/f00/c1",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestClusterName(t *testing.T) {
	ok := map[string]string{
		"":    DefaultCluster,
		"web": "web",
		"arn:aws:ecs:us-east-1:000000000000:cluster/web": "web",
	}
	for in, want := range ok {
		if got, err := ClusterName(in); err != nil || got != want {
			t.Errorf("ClusterName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"has space", "arn:aws:ecs:us-east-1:0:task/web/x", "arn:aws:ecs:us-east-1:0:cluster/", "a/b"} {
		if _, err := ClusterName(bad); !IsCode(err, InvalidParameterException) {
			t.Errorf("ClusterName(%q) error = %v, want InvalidParameterException", bad, err)
		}
	}
}

func TestScopedID(t *testing.T) {
	id, err := ScopedID("task", "task", "web", acct.TaskARN("web", "abc123"))
	if err != nil || id != "abc123" {
		t.Fatalf("ScopedID = %q, %v", id, err)
	}
	if id, err := ScopedID("task", "task", "web", "abc123"); err != nil || id != "abc123" {
		t.Fatalf("bare ID = %q, %v", id, err)
	}
	if _, err := ScopedID("task", "task", "web", acct.TaskARN("other", "abc")); !IsCode(err, InvalidParameterException) {
		t.Errorf("ARN of another cluster: %v", err)
	}
	if _, err := ScopedID("task", "task", "web", acct.ContainerInstanceARN("web", "abc")); !IsCode(err, InvalidParameterException) {
		t.Errorf("ARN of another kind: %v", err)
	}
}

func TestParseTaskDefinitionRef(t *testing.T) {
	cases := map[string]TaskDefinitionRef{
		"app":   {Family: "app"},
		"app:7": {Family: "app", Revision: 7},
		"arn:aws:ecs:us-east-1:000000000000:task-definition/app:2": {Family: "app", Revision: 2},
	}
	for in, want := range cases {
		if got, err := ParseTaskDefinitionRef("taskDefinition", in); err != nil || got != want {
			t.Errorf("ParseTaskDefinitionRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "app:0", "app:x", "app:01", "bad name", "arn:aws:ecs:us-east-1:0:task-definition/app"} {
		if _, err := ParseTaskDefinitionRef("taskDefinition", bad); !IsCode(err, InvalidParameterException) {
			t.Errorf("ParseTaskDefinitionRef(%q) error = %v", bad, err)
		}
	}
}
