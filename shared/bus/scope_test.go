package bus

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func scopeEvent(detailType, detail string) Event {
	e := validEvent()
	e.DetailType = detailType
	e.Detail = json.RawMessage(detail)
	return e
}

func TestScopesOfCoalescesABurst(t *testing.T) {
	const a, b = "arn:aws:ecs:us-east-1:000000000000:cluster/a", "arn:aws:ecs:us-east-1:000000000000:cluster/b"
	events := []Event{
		scopeEvent(DetailTypeTaskStateChange, `{"clusterArn":"`+a+`","group":"service:web"}`),
		scopeEvent(DetailTypeTaskStateChange, `{"clusterArn":"`+a+`","group":"service:web"}`),
		scopeEvent(DetailTypeTaskStateChange, `{"clusterArn":"`+a+`","group":"family:batch"}`),
		scopeEvent(DetailTypeServiceChange, `{"clusterArn":"`+b+`","serviceArn":"x","serviceName":"api"}`),
		scopeEvent(DetailTypeTaskStateChange, `{"clusterArn":"`+b+`","group":"service:web"}`),
		scopeEvent(DetailTypeServiceAction, `{"clusterArn":"`+a+`","eventType":"INFO"}`),
		scopeEvent(DetailTypeContainerInstanceStateChange, `{"clusterArn":"`+a+`"}`),
		scopeEvent(DetailTypeTaskStateChange, `{"clusterArn":"`+a+`","group":"service:api"}`),
		scopeEvent(DetailTypeServiceChange, `{"clusterArn":"`+b+`","serviceName":"api"}`),
	}
	got, err := ScopesOf(events)
	if err != nil {
		t.Fatal(err)
	}
	want := []Scope{{ClusterArn: b, ServiceName: "api"}, {ClusterArn: b, ServiceName: "web"}, {ClusterArn: a}}
	if !slices.Equal(got, want) {
		t.Errorf("ScopesOf = %v, want %v", got, want)
	}
}

func TestScopesOfReportsUnreadableEvents(t *testing.T) {
	events := []Event{
		scopeEvent(DetailTypeTaskStateChange, `{"clusterArn":7}`),
		scopeEvent(DetailTypeServiceChange, `{"clusterArn":"c"}`),
		scopeEvent(DetailTypeContainerInstanceStateChange, `{"status":"ACTIVE"}`),
		scopeEvent(DetailTypeServiceChange, `{"clusterArn":"c","serviceName":"web"}`),
	}
	got, err := ScopesOf(events)
	if !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("err = %v, want ErrInvalidEvent", err)
	}
	if !slices.Equal(got, []Scope{{ClusterArn: "c", ServiceName: "web"}}) {
		t.Errorf("ScopesOf = %v; the readable event's scope must survive", got)
	}
}
