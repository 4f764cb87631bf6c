package bus

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

var testAccount = ecs.Account{Region: "us-east-1", ID: "000000000000"}

func testFactory() Factory { return Factory{Account: testAccount, NewID: SeededIDs(42)} }

var base = time.Date(2025, 6, 2, 14, 3, 11, 482_000_000, time.UTC)

func stamp(d time.Duration) ecs.Timestamp { return ecs.At(base.Add(d)) }

// fullTask sets every field of ecs.Task, so the round trip covers them all.
func fullTask() ecs.Task {
	exit := 137
	return ecs.Task{
		Attachments:          []ecs.Attachment{{ID: "att-1", Type: "ElasticNetworkInterface", Status: "ATTACHED", Details: []ecs.KeyValuePair{{Name: "subnetId", Value: "subnet-1"}}}},
		Attributes:           []ecs.Attribute{{Name: "ecs.cpu-architecture", Value: "x86_64"}},
		AvailabilityZone:     "us-east-1a",
		CapacityProviderName: "fleet",
		ClusterArn:           testAccount.ClusterARN("default"),
		Connectivity:         "CONNECTED",
		ConnectivityAt:       stamp(1 * time.Millisecond),
		ContainerInstanceArn: testAccount.ContainerInstanceARN("default", "ci1"),
		Containers: []ecs.Container{{
			ContainerArn: testAccount.ContainerARN("default", "t1", "c1"), TaskArn: testAccount.TaskARN("default", "t1"),
			Name: "app", Image: "web:1", ImageDigest: "sha256:ab", RuntimeID: "rid", LastStatus: "STOPPED",
			ExitCode: &exit, Reason: "killed", HealthStatus: ecs.HealthUnhealthy,
			NetworkBindings:   []ecs.NetworkBinding{{BindIP: "0.0.0.0", ContainerPort: 80, HostPort: 32768, Protocol: "tcp"}},
			NetworkInterfaces: []ecs.Raw{ecs.Raw(`{"attachmentId":"att-1","privateIpv4Address":"10.0.0.7"}`)},
			ManagedAgents:     []ecs.Raw{ecs.Raw(`{"name":"ExecuteCommandAgent","lastStatus":"STOPPED"}`)},
			CPU:               "128", Memory: "256", MemoryReservation: "128", GpuIDs: []string{"gpu-0"},
		}},
		CPU:                  "256",
		CreatedAt:            stamp(0),
		DesiredStatus:        ecs.TaskStopped,
		EnableExecuteCommand: true,
		ExecutionStoppedAt:   stamp(10 * time.Second),
		Group:                "service:web",
		HealthStatus:         ecs.HealthUnhealthy,
		LastStatus:           ecs.TaskStopped,
		LaunchType:           ecs.LaunchEC2,
		Memory:               "512",
		Overrides:            &ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{Name: "app"}}},
		PlatformVersion:      "1.4.0",
		PlatformFamily:       "Linux",
		PullStartedAt:        stamp(2 * time.Second),
		PullStoppedAt:        stamp(3*time.Second + 400*time.Millisecond),
		StartedAt:            stamp(4 * time.Second),
		StartedBy:            "ecs-svc/123",
		StopCode:             ecs.StopEssentialContainerExited,
		StoppedAt:            stamp(11 * time.Second),
		StoppedReason:        "Essential container in task exited",
		StoppingAt:           stamp(9 * time.Second),
		Tags:                 []ecs.Tag{{Key: "team", Value: "web"}},
		TaskArn:              testAccount.TaskARN("default", "t1"),
		TaskDefinitionArn:    testAccount.TaskDefinitionARN("web", 3),
		Version:              6,
		EphemeralStorage:     ecs.Raw(`{"sizeInGiB":20}`),
	}
}

func assertEveryFieldSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		if rv.Field(i).IsZero() {
			t.Errorf("fixture leaves %s.%s unset; set it so the round trip covers it", rv.Type().Name(), rv.Type().Field(i).Name)
		}
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

var isoPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$`)

func TestTaskEventRoundTripsEveryField(t *testing.T) {
	task := fullTask()
	assertEveryFieldSet(t, task)
	assertEveryFieldSet(t, task.Containers[0])
	at := base.Add(11*time.Second + 20*time.Millisecond)

	e, err := testFactory().TaskEvent(at, &task)
	if err != nil {
		t.Fatal(err)
	}
	if e.DetailType != DetailTypeTaskStateChange || e.Source != SourceBerth || len(e.Resources) != 1 || e.Resources[0] != task.TaskArn {
		t.Errorf("envelope: %+v", e)
	}
	var members map[string]any
	if err := json.Unmarshal(e.Detail, &members); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(ecs.Task{})
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name := jsonName(f)
		v, present := members[name]
		switch {
		case name == "healthStatus":
			if present {
				t.Errorf("detail has task-level healthStatus; ECS events leave it out")
			}
		case !present:
			t.Errorf("detail lacks %s", name)
		case f.Type == reflect.TypeOf(ecs.Timestamp{}):
			if s, ok := v.(string); !ok || !isoPattern.MatchString(s) {
				t.Errorf("%s = %v, want an ISO-8601 string", name, v)
			}
		}
	}
	if got := members["updatedAt"]; got != "2025-06-02T14:03:22.502Z" {
		t.Errorf("updatedAt = %v, want 2025-06-02T14:03:22.502Z", got)
	}
	if got := members["version"]; got != float64(6) {
		t.Errorf("version = %v, want 6", got)
	}
	if got := members["pullStoppedAt"]; got != "2025-06-02T14:03:14.882Z" {
		t.Errorf("pullStoppedAt = %v", got)
	}

	d, err := Decode[TaskStateChange](e)
	if err != nil {
		t.Fatal(err)
	}
	want := fullTask()
	want.HealthStatus = ""
	if !reflect.DeepEqual(d.Task, want) {
		t.Errorf("decoded task differs:\n got %+v\nwant %+v", d.Task, want)
	}
	if !d.UpdatedAt.Equal(at) {
		t.Errorf("UpdatedAt = %v, want %v", d.UpdatedAt, at)
	}
}

// TestTaskDetailShadowsEveryTimestamp guards against a timestamp added to
// ecs.Task later reaching events as epoch seconds.
func TestTaskDetailShadowsEveryTimestamp(t *testing.T) {
	shadows := map[string]bool{}
	w := reflect.TypeOf(taskWire{})
	for i := 0; i < w.NumField(); i++ {
		if f := w.Field(i); !f.Anonymous && f.Type == reflect.TypeOf(ISOTime{}) {
			shadows[jsonName(f)] = true
		}
	}
	typ := reflect.TypeOf(ecs.Task{})
	for i := 0; i < typ.NumField(); i++ {
		if f := typ.Field(i); f.Type == reflect.TypeOf(ecs.Timestamp{}) && !shadows[jsonName(f)] {
			t.Errorf("ecs.Task.%s is a timestamp but taskWire has no ISO field for %q", f.Name, jsonName(f))
		}
	}
}

func TestTaskEventWritesEmptyListsNotNull(t *testing.T) {
	task := ecs.Task{TaskArn: testAccount.TaskARN("default", "t"), ClusterArn: testAccount.ClusterARN("default"),
		Containers: []ecs.Container{{Name: "app"}}}
	e, err := testFactory().TaskEvent(base, &task)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"networkBindings":[]`, `"networkInterfaces":[]`} {
		if !strings.Contains(string(e.Detail), frag) {
			t.Errorf("detail %s lacks %s", e.Detail, frag)
		}
	}
	if task.Containers[0].NetworkBindings != nil {
		t.Errorf("TaskEvent changed the caller's task")
	}
	none := ecs.Task{TaskArn: task.TaskArn, ClusterArn: task.ClusterArn}
	e, err = testFactory().TaskEvent(base, &none)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Detail), `"containers":[]`) {
		t.Errorf("detail %s: want containers []", e.Detail)
	}
}

func TestTaskEventNeedsArns(t *testing.T) {
	for _, task := range []ecs.Task{{ClusterArn: "c"}, {TaskArn: "t"}} {
		if _, err := testFactory().TaskEvent(base, &task); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("TaskEvent(%+v) = %v, want ErrInvalidEvent", task, err)
		}
	}
}

func fullInstance() ecs.ContainerInstance {
	c := ecs.Capacity{CPU: 2048, Memory: 7680, Ports: []int{22, 2375}, PortsUDP: []int{}}
	return ecs.ContainerInstance{
		ContainerInstanceArn: testAccount.ContainerInstanceARN("prod", "ci1"),
		Ec2InstanceID:        "i-0123",
		Version:              14,
		VersionInfo:          &ecs.VersionInfo{AgentVersion: "1.0.0", AgentHash: "abc", DockerVersion: "DockerVersion: 28.5.2"},
		RegisteredResources:  c.Resources(),
		RemainingResources:   c.Resources(),
		Status:               ecs.InstanceDraining,
		AgentConnected:       true,
		Attributes:           []ecs.Attribute{{Name: "ecs.os-type", Value: "linux"}, {Name: "ecs.capability.privileged-container"}},
	}
}

func TestInstanceEventRoundTrip(t *testing.T) {
	ci := fullInstance()
	at := base.Add(time.Second)
	e, err := testFactory().InstanceEvent(at, &ci)
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]any
	if err := json.Unmarshal(e.Detail, &members); err != nil {
		t.Fatal(err)
	}
	want := []string{"agentConnected", "attributes", "clusterArn", "containerInstanceArn", "ec2InstanceId",
		"registeredResources", "remainingResources", "status", "updatedAt", "version", "versionInfo"}
	var got []string
	for k := range members {
		got = append(got, k)
	}
	if strings.Join(sorted(got), ",") != strings.Join(want, ",") {
		t.Errorf("detail members %v, want exactly %v", sorted(got), want)
	}
	if members["clusterArn"] != testAccount.ClusterARN("prod") {
		t.Errorf("clusterArn = %v, want the instance's cluster", members["clusterArn"])
	}
	if members["updatedAt"] != "2025-06-02T14:03:12.482Z" {
		t.Errorf("updatedAt = %v", members["updatedAt"])
	}
	if e.Resources[0] != ci.ContainerInstanceArn {
		t.Errorf("resources = %v", e.Resources)
	}
	d, err := Decode[ContainerInstanceStateChange](e)
	if err != nil {
		t.Fatal(err)
	}
	// Compare as JSON: an empty list and nil are the same on the wire.
	back, _ := json.Marshal(d.ContainerInstance())
	orig, _ := json.Marshal(ci)
	if string(back) != string(orig) {
		t.Errorf("round trip:\n got %s\nwant %s", back, orig)
	}
}

func TestInstanceEventNeedsALongARN(t *testing.T) {
	for _, arn := range []string{"", "ci1", "arn:aws:ecs:us-east-1:000000000000:container-instance/ci1", testAccount.TaskARN("default", "t")} {
		ci := fullInstance()
		ci.ContainerInstanceArn = arn
		if _, err := testFactory().InstanceEvent(base, &ci); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("InstanceEvent(arn %q) = %v, want ErrInvalidEvent", arn, err)
		}
	}
}

func TestServiceActionEvent(t *testing.T) {
	svc := testAccount.ServiceARN("default", "web")
	e, err := testFactory().ServiceActionEvent(base, svc, ServiceAction{
		EventType: EventTypeError, EventName: ServiceTaskPlacementFailure, ClusterArn: testAccount.ClusterARN("default"),
		CapacityProviderArns: []string{"arn:cp"}, ContainerInstanceArns: []string{"arn:ci"}, Reason: ecs.ReasonResourceMem,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"eventType":"ERROR","eventName":"SERVICE_TASK_PLACEMENT_FAILURE","clusterArn":"arn:aws:ecs:us-east-1:000000000000:cluster/default",` +
		`"createdAt":"2025-06-02T14:03:11.482Z","capacityProviderArns":["arn:cp"],"containerInstanceArns":["arn:ci"],"reason":"RESOURCE:MEMORY"}`
	if string(e.Detail) != want {
		t.Errorf("detail\n got %s\nwant %s", e.Detail, want)
	}
	if len(e.Resources) != 1 || e.Resources[0] != svc || e.Time != base.Truncate(time.Second) {
		t.Errorf("envelope %+v", e)
	}
	d, err := Decode[ServiceAction](e)
	if err != nil || d.Reason != ecs.ReasonResourceMem || !d.CreatedAt.Equal(base) {
		t.Errorf("Decode = %+v, %v", d, err)
	}
	if _, err := Decode[DeploymentStateChange](e); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("decoding a service action as a deployment change: %v, want ErrInvalidEvent", err)
	}
}

func TestDeploymentEvent(t *testing.T) {
	svc := testAccount.ServiceARN("default", "web")
	e, err := testFactory().DeploymentEvent(base.Add(-488*time.Millisecond), svc, DeploymentStateChange{
		EventType: EventTypeInfo, EventName: DeploymentCompleted, DeploymentID: "ecs-svc/1", Reason: "ECS deployment ecs-svc/1 completed.",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"eventType":"INFO","eventName":"SERVICE_DEPLOYMENT_COMPLETED","deploymentId":"ecs-svc/1",` +
		`"updatedAt":"2025-06-02T14:03:10.994Z","reason":"ECS deployment ecs-svc/1 completed."}`
	if string(e.Detail) != want {
		t.Errorf("detail\n got %s\nwant %s", e.Detail, want)
	}
}

func TestDetailBuildersRefuseBadInput(t *testing.T) {
	f := testFactory()
	svc := testAccount.ServiceARN("default", "web")
	cluster := testAccount.ClusterARN("default")
	tests := map[string]error{}
	_, tests["service action without type"] = f.ServiceActionEvent(base, svc, ServiceAction{EventName: "X", ClusterArn: cluster})
	_, tests["service action without name"] = f.ServiceActionEvent(base, svc, ServiceAction{EventType: "INFO", ClusterArn: cluster})
	_, tests["service action without cluster"] = f.ServiceActionEvent(base, svc, ServiceAction{EventType: "INFO", EventName: "X"})
	_, tests["service action without service"] = f.ServiceActionEvent(base, "", ServiceAction{EventType: "INFO", EventName: "X", ClusterArn: cluster})
	_, tests["deployment WARN"] = f.DeploymentEvent(base, svc, DeploymentStateChange{EventType: "WARN", EventName: DeploymentFailed, DeploymentID: "d"})
	_, tests["deployment unknown name"] = f.DeploymentEvent(base, svc, DeploymentStateChange{EventType: "INFO", EventName: "SERVICE_STEADY_STATE", DeploymentID: "d"})
	_, tests["deployment without id"] = f.DeploymentEvent(base, svc, DeploymentStateChange{EventType: "INFO", EventName: DeploymentCompleted})
	_, tests["service change without name"] = f.ServiceChangeEvent(base, ServiceChange{ClusterArn: cluster, ServiceArn: svc})
	_, tests["alarm without name"] = f.AlarmEvent(base, AlarmStateChange{State: AlarmState{Value: AlarmAlarm}, PreviousState: AlarmState{Value: AlarmOK}})
	_, tests["alarm bad state"] = f.AlarmEvent(base, AlarmStateChange{AlarmName: "a", State: AlarmState{Value: "RED"}, PreviousState: AlarmState{Value: AlarmOK}})
	_, tests["schedule without rule"] = f.ScheduledEvent(base, "")
	for name, err := range tests {
		if !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
	}
	if _, err := (Factory{Account: testAccount}).ServiceChangeEvent(base, ServiceChange{ClusterArn: cluster, ServiceArn: svc, ServiceName: "web"}); err == nil {
		t.Errorf("a Factory without NewID built an event")
	}
}

func TestServiceChangeAndScheduledEvents(t *testing.T) {
	f := testFactory()
	svc := testAccount.ServiceARN("default", "web")
	e, err := f.ServiceChangeEvent(base, ServiceChange{ClusterArn: testAccount.ClusterARN("default"), ServiceArn: svc, ServiceName: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Detail) != `{"clusterArn":"arn:aws:ecs:us-east-1:000000000000:cluster/default","serviceArn":"`+svc+`","serviceName":"web"}` {
		t.Errorf("service change detail %s (version 0 must be left out)", e.Detail)
	}
	s, err := f.ScheduledEvent(base, "berth-monitor-tick")
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != SourceEvents || s.DetailType != DetailTypeScheduled || string(s.Detail) != "{}" ||
		s.Resources[0] != "arn:aws:events:us-east-1:000000000000:rule/berth-monitor-tick" {
		t.Errorf("scheduled event %+v", s)
	}
}

func TestAlarmEventDecodes(t *testing.T) {
	d := AlarmStateChange{
		AlarmName:     "high-cpu",
		State:         AlarmState{Value: AlarmAlarm, Reason: "Threshold Crossed", ReasonData: `{"threshold":75.0}`, Timestamp: AlarmTimestamp(base)},
		PreviousState: AlarmState{Value: AlarmOK, Reason: "Unchecked: Initial alarm creation", Timestamp: AlarmTimestamp(base)},
		Configuration: AlarmConfiguration{Metrics: []AlarmMetric{{ID: "m1", ReturnData: true, MetricStat: &MetricStat{
			Metric: Metric{Namespace: "AWS/ECS", Name: "CPUUtilization", Dimensions: map[string]string{"ServiceName": "web"}}, Period: 60, Stat: "Average"}}}},
	}
	e, err := testFactory().AlarmEvent(base, d)
	if err != nil {
		t.Fatal(err)
	}
	if e.Source != SourceCloudWatch || e.Resources[0] != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:high-cpu" {
		t.Errorf("envelope %+v", e)
	}
	if AlarmTimestamp(base) != "2025-06-02T14:03:11.482+0000" {
		t.Errorf("AlarmTimestamp = %s", AlarmTimestamp(base))
	}
	back, err := Decode[AlarmStateChange](e)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, d)
	}
}

func TestISOTime(t *testing.T) {
	for _, tt := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2020, 1, 23, 17, 57, 34, 402_000_000, time.UTC), `"2020-01-23T17:57:34.402Z"`},
		{time.Date(2020, 1, 23, 17, 57, 34, 400_000_000, time.UTC), `"2020-01-23T17:57:34.400Z"`},
		{time.Date(2020, 5, 23, 11, 11, 11, 0, time.UTC), `"2020-05-23T11:11:11Z"`},
		{time.Date(2020, 5, 23, 11, 11, 11, 999_999, time.UTC), `"2020-05-23T11:11:11Z"`},
		{time.Date(2020, 5, 23, 13, 11, 11, 5_000_000, time.FixedZone("X", 2*3600)), `"2020-05-23T11:11:11.005Z"`},
		{time.Time{}, `null`},
	} {
		got, err := json.Marshal(ISO(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("ISO(%v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
		var back ISOTime
		if err := json.Unmarshal(got, &back); err != nil || !back.Equal(ISO(tt.in).Time) {
			t.Errorf("parse %s = %v, %v", got, back, err)
		}
	}
	var x ISOTime
	for _, bad := range []string{`1700000000`, `"yesterday"`, `"2020-01-23 17:57:34"`} {
		if err := json.Unmarshal([]byte(bad), &x); err == nil {
			t.Errorf("ISOTime accepted %s", bad)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
