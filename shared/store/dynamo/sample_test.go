package dynamo_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/berth-run/berth/shared/bus/bustest"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
)

var update = flag.Bool("update", false, "rewrite events/"+streamSample+" from the stream moto records")

// streamSample is a DynamoDB Streams batch as Lambda hands it to the
// publisher: one task's life on one instance, recorded from the adapter's
// own writes.
const streamSample = "dynamodb-stream-task-and-instance.json"

var sampleAccount = ecs.Account{Region: "us-east-1", ID: "000000000000"}

// sampleClock is the domain layer's clock: each step of the script moves it.
type sampleClock struct{ now time.Time }

func (c *sampleClock) Now() time.Time { return c.now }

// sampleIDs are the resource IDs the domain layer draws, stable per run.
func sampleIDs() func() string {
	n := 0
	return func() string {
		n++
		sum := sha256.Sum256([]byte(fmt.Sprint("berth-sample-", n)))
		return hex.EncodeToString(sum[:16])
	}
}

// recorder reads what the stream gained since its last look and turns it
// into Lambda's record shape, stamped with the step's time.
type recorder struct {
	t        *testing.T
	streams  *dynamodbstreams.Client
	arn      string
	iterator string
	records  []events.DynamoDBEventRecord
}

func newRecorder(t *testing.T, client *dynamodb.Client, streams *dynamodbstreams.Client, table string) *recorder {
	desc, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	stream, err := streams.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	it, err := streams.GetShardIterator(t.Context(), &dynamodbstreams.GetShardIteratorInput{
		StreamArn:         aws.String(arn),
		ShardId:           stream.StreamDescription.Shards[0].ShardId,
		ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &recorder{t: t, streams: streams, arn: arn, iterator: aws.ToString(it.ShardIterator)}
}

// step records the stream's new task and instance records at time at;
// ttl marks them as deletions by DynamoDB's TTL process.
func (r *recorder) step(at time.Time, ttl bool) {
	r.t.Helper()
	for {
		out, err := r.streams.GetRecords(r.t.Context(), &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(r.iterator)})
		if err != nil {
			r.t.Fatal(err)
		}
		r.iterator = aws.ToString(out.NextShardIterator)
		if len(out.Records) == 0 {
			return
		}
		for _, rec := range out.Records {
			keys := lambdaAttrs(rec.Dynamodb.Keys)
			kind := store.KindOf(store.Key{PK: keys[dynamo.AttrPK].String(), SK: keys[dynamo.AttrSK].String()})
			if kind != store.KindTask && kind != store.KindInstance {
				continue
			}
			r.records = append(r.records, r.lambdaRecord(rec, at, ttl))
		}
	}
}

func (r *recorder) lambdaRecord(rec streamtypes.Record, at time.Time, ttl bool) events.DynamoDBEventRecord {
	n := len(r.records)
	sum := sha256.Sum256([]byte(fmt.Sprint("record-", n)))
	change := events.DynamoDBStreamRecord{
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: at},
		Keys:                        lambdaAttrs(rec.Dynamodb.Keys),
		NewImage:                    lambdaAttrs(rec.Dynamodb.NewImage),
		OldImage:                    lambdaAttrs(rec.Dynamodb.OldImage),
		SequenceNumber:              fmt.Sprintf("44215845000000000174504%05d", 39100+n),
		StreamViewType:              string(streamtypes.StreamViewTypeNewAndOldImages),
	}
	size, _ := json.Marshal([]any{change.Keys, change.NewImage, change.OldImage})
	change.SizeBytes = int64(len(size))
	out := events.DynamoDBEventRecord{
		AWSRegion:      sampleAccount.Region,
		Change:         change,
		EventID:        hex.EncodeToString(sum[:16]),
		EventName:      string(rec.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/berth/stream/2025-06-02T13:58:41.123",
	}
	if ttl {
		out.UserIdentity = &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	}
	return out
}

func lambdaAttrs(attrs map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if attrs == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(attrs))
	for name, v := range attrs {
		switch v := v.(type) {
		case *streamtypes.AttributeValueMemberS:
			out[name] = events.NewStringAttribute(v.Value)
		case *streamtypes.AttributeValueMemberN:
			out[name] = events.NewNumberAttribute(v.Value)
		default:
			panic(fmt.Sprintf("attribute %s of type %T: the adapter writes only S and N", name, v))
		}
	}
	return out
}

// recordSample runs one task's life through the domain layer on a moto
// table and returns the stream batch Lambda would deliver for it: the
// instance registered, the task placed (reserving resources on the
// instance), running, stopped (releasing them, and expiring an hour
// later), the instance deregistered and then deleted, and the stopped task
// removed by TTL.
func recordSample(t *testing.T) events.DynamoDBEvent {
	srv, s := newStore(t)
	clock := &sampleClock{now: time.Date(2025, 6, 2, 14, 3, 11, 0, time.UTC)}
	db := store.NewDB(s, sampleAccount, clock.Now, sampleIDs())
	rec := newRecorder(t, srv.DynamoDB(), srv.Streams(), s.Table())
	ctx := t.Context()
	at := func(d time.Duration) time.Time { clock.now = clock.now.Add(d); return clock.now }

	if _, err := db.CreateCluster(ctx, ecs.Cluster{ClusterName: "default"}); err != nil {
		t.Fatal(err)
	}
	in, err := db.RegisterInstance(ctx, store.Registration{
		Cluster:       "default",
		EC2InstanceID: "i-0a1b2c3d4e5f67890",
		Capacity:      ecs.Capacity{CPU: 2048, Memory: 3828, Ports: []int{22, 2375, 2376, 51678, 51679}},
		VersionInfo:   &ecs.VersionInfo{AgentVersion: "1.0.0", DockerVersion: "28.5.2"},
		Attributes:    []ecs.Attribute{{Name: "ecs.availability-zone", Value: "us-east-1a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.step(clock.now, false)

	created := at(4 * time.Second)
	task := sampleTask(in, created)
	if err := db.CommitPlacement(ctx, []store.Instance{in}, []store.Task{task}, nil); err != nil {
		t.Fatal(err)
	}
	rec.step(created, false)

	started := at(7 * time.Second)
	if _, err := db.UpdateTask(ctx, "default", task.ID(), func(t *store.Task) error {
		t.LastStatus, t.StartedAt, t.Connectivity, t.ConnectivityAt = ecs.TaskRunning, ecs.At(started), "CONNECTED", ecs.At(started)
		for i := range t.Containers {
			t.Containers[i].LastStatus = ecs.ContainerRunning
			t.Containers[i].RuntimeID = fmt.Sprintf("%064d", i+1)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rec.step(started, false)

	stopped := at(3*time.Minute + 5*time.Second)
	if _, err := db.UpdateTask(ctx, "default", task.ID(), func(t *store.Task) error {
		exit := 137
		t.LastStatus, t.DesiredStatus = ecs.TaskStopped, ecs.TaskStopped
		t.StoppingAt, t.StoppedAt, t.ExecutionStoppedAt = ecs.At(stopped), ecs.At(stopped), ecs.At(stopped)
		t.StopCode, t.StoppedReason = ecs.StopEssentialContainerExited, "Essential container in task exited"
		for i := range t.Containers {
			t.Containers[i].LastStatus, t.Containers[i].ExitCode = ecs.ContainerStopped, &exit
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rec.step(stopped, false)

	deregistered := at(10 * time.Minute)
	if _, err := db.DeregisterInstance(ctx, "default", in.ID(), false); err != nil {
		t.Fatal(err)
	}
	rec.step(deregistered, false)
	current, ok, err := db.Instance(ctx, "default", in.ID())
	if err != nil || !ok {
		t.Fatalf("read the deregistered instance: %v (found %v)", err, ok)
	}
	if err := s.Transact(ctx, []store.Write{{Op: store.Delete, Key: store.Key{PK: "C#default#CI", SK: in.ID()}, Expect: current.Version}}); err != nil {
		t.Fatal(err)
	}
	rec.step(at(time.Minute), false)

	expired := stopped.Add(store.DefaultStoppedTaskTTL + 7*time.Minute)
	if _, err := s.DeleteExpired(ctx, expired); err != nil {
		t.Fatal(err)
	}
	rec.step(expired, true)
	return events.DynamoDBEvent{Records: rec.records}
}

// sampleTask is the web service's task placed on in, as the scheduler
// builds it.
func sampleTask(in store.Instance, created time.Time) store.Task {
	id := "3f6b2c1d9e8a4b7c6d5e4f3a2b1c0d9e"
	container := func(name, image, cpu, memory string, cid string) ecs.Container {
		return ecs.Container{
			ContainerArn: sampleAccount.ContainerARN("default", id, cid),
			TaskArn:      sampleAccount.TaskARN("default", id),
			Name:         name, Image: image, LastStatus: ecs.ContainerPending, CPU: cpu, Memory: memory,
		}
	}
	return store.Task{
		Task: ecs.Task{
			AvailabilityZone:     "us-east-1a",
			ClusterArn:           sampleAccount.ClusterARN("default"),
			ContainerInstanceArn: in.ContainerInstanceArn,
			Containers: []ecs.Container{
				container("app", "000000000000.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2", "192", "384", "0b1f5e7a-3c2d-4e8f-9a6b-1c0d2e3f4a5b"),
				container("log-router", "000000000000.dkr.ecr.us-east-1.amazonaws.com/log-router:3.0", "64", "128", "6d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"),
			},
			CPU:               "256",
			CreatedAt:         ecs.At(created),
			DesiredStatus:     ecs.TaskRunning,
			Group:             "service:web",
			LastStatus:        ecs.TaskPending,
			LaunchType:        ecs.LaunchEC2,
			Memory:            "512",
			StartedBy:         "ecs-svc/4816235019327648273",
			TaskArn:           sampleAccount.TaskARN("default", id),
			TaskDefinitionArn: sampleAccount.TaskDefinitionARN("web", 3),
		},
		Berth: store.TaskState{
			Cluster:    "default",
			InstanceID: in.ID(),
			Needs:      ecs.Requirements{CPU: 256, Memory: 512},
			Service:    "web",
			Deployment: "ecs-svc/4816235019327648273",
		},
	}
}

func samplePath(t *testing.T) string {
	dir, err := bustest.EventsDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, streamSample)
}

// TestStreamSampleIsWhatTheAdapterWrites checks that the committed sample
// still decodes to exactly the changes the adapter's writes produce today;
// run with -update to rewrite it after the stored documents change.
func TestStreamSampleIsWhatTheAdapterWrites(t *testing.T) {
	live := recordSample(t)
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(live); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(samplePath(t), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed := readSample(t)
	want, err := dynamo.ChangesFromStreamRecords(live.Records)
	if err != nil {
		t.Fatalf("decode the live records: %v", err)
	}
	got, err := dynamo.ChangesFromStreamRecords(committed.Records)
	if err != nil {
		t.Fatalf("decode events/%s: %v", streamSample, err)
	}
	if len(got) != len(want) {
		t.Fatalf("events/%s holds %d changes; the adapter's writes make %d (go test ./shared/store/dynamo -run TestStreamSample -update rewrites it)",
			streamSample, len(got), len(want))
	}
	for i := range want {
		if !sameChange(got[i], want[i]) || committed.Records[i].EventName != live.Records[i].EventName {
			t.Fatalf("events/%s record %d is %s %s\nthe adapter's writes make %s %s\n(go test ./shared/store/dynamo -run TestStreamSample -update rewrites it)",
				streamSample, i, committed.Records[i].EventName, describeChange(got[i]), live.Records[i].EventName, describeChange(want[i]))
		}
	}
}

func readSample(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	raw, err := os.ReadFile(samplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	var e events.DynamoDBEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("events/%s is not a DynamoDB stream event: %v", streamSample, err)
	}
	return e
}

// TestStreamSampleDecodes decodes the committed Lambda event and checks the
// story it tells, record by record.
func TestStreamSampleDecodes(t *testing.T) {
	e := readSample(t)
	changes, err := dynamo.ChangesFromStreamRecords(e.Records)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != len(e.Records) {
		t.Fatalf("%d records decode to %d changes; every record is a task or an instance", len(e.Records), len(changes))
	}
	type step struct {
		event  string
		kind   store.Kind
		status string // the task's lastStatus or the instance's status in the new (else old) image
		ttl    bool   // removed by DynamoDB's TTL process
	}
	want := []step{
		{"INSERT", store.KindInstance, ecs.InstanceActive, false},
		{"INSERT", store.KindTask, ecs.TaskPending, false},
		{"MODIFY", store.KindInstance, ecs.InstanceActive, false},
		{"MODIFY", store.KindTask, ecs.TaskRunning, false},
		{"MODIFY", store.KindTask, ecs.TaskStopped, false},
		{"MODIFY", store.KindInstance, ecs.InstanceActive, false},
		{"MODIFY", store.KindInstance, ecs.InstanceInactive, false},
		{"REMOVE", store.KindInstance, ecs.InstanceInactive, false},
		{"REMOVE", store.KindTask, ecs.TaskStopped, true},
	}
	if len(changes) != len(want) {
		t.Fatalf("%d changes; want %d", len(changes), len(want))
	}
	var cpu []int // the instance's remaining CPU, image by image
	for i, c := range changes {
		r, w := e.Records[i], want[i]
		img := c.New
		if img == nil {
			img = c.Old
		}
		status := ""
		switch store.KindOf(c.Key) {
		case store.KindTask:
			var task store.Task
			if err := json.Unmarshal(img.Data, &task); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			status = task.LastStatus
			if task.LastStatus == ecs.TaskStopped && img.ExpiresAt != task.StoppedAt.Add(store.DefaultStoppedTaskTTL).Unix() {
				t.Errorf("record %d: the stopped task expires at %d; want stoppedAt + 1h", i, img.ExpiresAt)
			}
			if img.GSI1.PK != "C#default#CI#"+task.Berth.InstanceID || img.GSI2.SK != task.DesiredStatus+"#"+task.ID() {
				t.Errorf("record %d: task index keys %s and %s do not follow the layout", i, img.GSI1, img.GSI2)
			}
		case store.KindInstance:
			var in store.Instance
			if err := json.Unmarshal(img.Data, &in); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			status = in.Status
			if c.New != nil {
				cpu = append(cpu, in.Berth.Remaining.CPU)
			}
		}
		if r.EventName != w.event || store.KindOf(c.Key) != w.kind || status != w.status {
			t.Errorf("record %d: %s of a kind-%d item in status %s; want %s of kind %d in %s", i, r.EventName, store.KindOf(c.Key), status, w.event, w.kind, w.status)
		}
		switch r.EventName {
		case "INSERT":
			if c.Old != nil || c.New == nil || c.New.Version != 1 {
				t.Errorf("record %d: an INSERT must carry only a new image at version 1", i)
			}
		case "MODIFY":
			if c.Old == nil || c.New == nil || c.New.Version != c.Old.Version+1 {
				t.Errorf("record %d: a MODIFY must carry both images, one version apart", i)
			}
		case "REMOVE":
			if c.Old == nil || c.New != nil {
				t.Errorf("record %d: a REMOVE must carry only the old image", i)
			}
		}
		byTTL := r.UserIdentity != nil && r.UserIdentity.Type == "Service" && r.UserIdentity.PrincipalID == "dynamodb.amazonaws.com"
		if byTTL != w.ttl {
			t.Errorf("record %d: removed by TTL = %v; want %v", i, byTTL, w.ttl)
		}
	}
	if fmt.Sprint(cpu) != "[2048 1792 2048 2048]" {
		t.Errorf("the instance's remaining CPU went %v; want [2048 1792 2048 2048]: reserved by the placement, released when the task stopped", cpu)
	}
}

// sameChange compares changes as the contract does: documents by value.
func sameChange(a, b store.Change) bool {
	same := func(x, y *store.Item) bool {
		if x == nil || y == nil {
			return x == y
		}
		return x.Key == y.Key && x.Version == y.Version && x.GSI1 == y.GSI1 && x.GSI2 == y.GSI2 &&
			x.ExpiresAt == y.ExpiresAt && jsonEqual(x.Data, y.Data)
	}
	return a.Key == b.Key && same(a.Old, b.Old) && same(a.New, b.New)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func describeChange(c store.Change) string {
	img := func(it *store.Item) string {
		if it == nil {
			return "-"
		}
		return fmt.Sprintf("{v%d gsi1=%s gsi2=%s ttl=%d %s}", it.Version, it.GSI1, it.GSI2, it.ExpiresAt, it.Data)
	}
	return fmt.Sprintf("%s: %s -> %s", c.Key, img(c.Old), img(c.New))
}
