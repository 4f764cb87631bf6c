package fn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/fn"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

func sample(t *testing.T, name string) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// monitorPlane is the monitor function as functions/monitor wires it, over
// a bolt store, with a clock the test moves.
type monitorPlane struct {
	control *control.Control
	now     atomic.Int64
	handler func(context.Context, json.RawMessage) error
}

func newMonitorPlane(t *testing.T) *monitorPlane {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m := &monitorPlane{}
	m.now.Store(time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC).Unix())
	now := func() time.Time { return time.Unix(m.now.Load(), 0).UTC() }
	var ids atomic.Int64
	db := store.NewDB(st, ecs.Account{Region: "us-east-1", ID: "123456789012"}, now, func() string { return fmt.Sprintf("%032x", ids.Add(1)) })
	m.control = control.New(db, control.Options{Now: now, Seed: func() int64 { return 1 }})
	m.handler = fn.EventHandler(fn.Tick(m.control.Tick))
	return m
}

func (m *monitorPlane) advance(d time.Duration) { m.now.Add(int64(d / time.Second)) }

// connected registers an instance and reports whether its agent counts as
// connected after the monitor ran on a sample.
func (m *monitorPlane) instanceConnected(t *testing.T, arn string) bool {
	t.Helper()
	out, err := m.control.DescribeContainerInstances(context.Background(), &control.DescribeContainerInstancesInput{Cluster: "web", ContainerInstances: []string{arn}})
	if err != nil || len(out.ContainerInstances) != 1 {
		t.Fatalf("describe: %v %+v", err, out)
	}
	return out.ContainerInstances[0].AgentConnected
}

func (m *monitorPlane) register(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	if _, err := m.control.CreateCluster(ctx, &control.CreateClusterInput{ClusterName: "web"}); err != nil {
		t.Fatal(err)
	}
	out, err := m.control.RegisterContainerInstance(ctx, &control.RegisterContainerInstanceInput{
		Cluster:                  "web",
		InstanceIdentityDocument: `{"instanceId":"i-0abc123def4567890"}`,
		TotalResources: []ecs.Resource{
			{Name: "CPU", Type: "INTEGER", IntegerValue: 2048},
			{Name: "MEMORY", Type: "INTEGER", IntegerValue: 4096},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.ContainerInstance.ContainerInstanceArn
}

// TestMonitorSamples plays every events/monitor-*.json sample, and the bus
// package's scheduled-event sample, through the monitor's real handler.
func TestMonitorSamples(t *testing.T) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "events", "monitor-*.json"))
	good := []string{"monitor-scheduled-event.json", "scheduled-event-monitor.json"}
	bad := map[string]string{"monitor-malformed-event.json": `time: "Mon, 02 Jun 2025 14:06:00 GMT" is not an ISO-8601 time`}
	for _, path := range samples {
		name := filepath.Base(path)
		if _, ok := bad[name]; !ok && !slices.Contains(good, name) {
			t.Errorf("sample %s is not played by this test", name)
		}
	}
	for _, name := range good {
		t.Run(name, func(t *testing.T) {
			m := newMonitorPlane(t)
			arn := m.register(t)
			if !m.instanceConnected(t, arn) {
				t.Fatal("a freshly registered agent should count as connected")
			}
			m.advance(2 * time.Minute)
			if err := m.handler(context.Background(), sample(t, name)); err != nil {
				t.Fatal(err)
			}
			if m.instanceConnected(t, arn) {
				t.Error("after two silent minutes the tick should mark the agent disconnected")
			}
		})
	}
	for name, want := range bad {
		t.Run(name, func(t *testing.T) {
			m := newMonitorPlane(t)
			arn := m.register(t)
			m.advance(2 * time.Minute)
			err := m.handler(context.Background(), sample(t, name))
			if !errors.Is(err, bus.ErrInvalidEvent) || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want one saying %q", err, want)
			}
			if !m.instanceConnected(t, arn) {
				t.Error("a malformed event must not run the tick")
			}
		})
	}
}

func TestTickRefusesOtherEvents(t *testing.T) {
	ticks := 0
	h := fn.EventHandler(fn.Tick(func(context.Context) error { ticks++; return nil }))
	err := h(context.Background(), sample(t, "ecs-task-state-change-running.json"))
	if !errors.Is(err, bus.ErrInvalidEvent) || !strings.Contains(err.Error(), `got "ECS Task State Change" from "berth"`) || ticks != 0 {
		t.Errorf("error %v after %d ticks", err, ticks)
	}
	failing := fn.EventHandler(fn.Tick(func(context.Context) error { return errors.New("table throttled") }))
	if err := failing(context.Background(), sample(t, "monitor-scheduled-event.json")); err == nil || !strings.Contains(err.Error(), "monitor tick: table throttled") {
		t.Errorf("a failed tick: %v", err)
	}
}

func TestTickCoalescesABatch(t *testing.T) {
	ticks := 0
	h := fn.Tick(func(context.Context) error { ticks++; return nil })
	e, err := bus.ParseEvent(sample(t, "monitor-scheduled-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h(context.Background(), []bus.Event{e, e, e}); err != nil || ticks != 1 {
		t.Errorf("three scheduled events: %v, %d ticks; want one", err, ticks)
	}
	if err := h(context.Background(), nil); err != nil || ticks != 1 {
		t.Errorf("no events: %v, %d ticks", err, ticks)
	}
}

func sqsBatch(t *testing.T, bodies ...string) events.SQSEvent {
	t.Helper()
	var b events.SQSEvent
	for i, body := range bodies {
		b.Records = append(b.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: body, EventSource: "aws:sqs"})
	}
	return b
}

func TestQueueHandler(t *testing.T) {
	var log bytes.Buffer
	var got [][]string
	var fail error
	h := fn.QueueHandler(func(_ context.Context, evs []bus.Event) error {
		var ids []string
		for _, e := range evs {
			ids = append(ids, e.DetailType)
		}
		got = append(got, ids)
		return fail
	}, slog.New(slog.NewTextHandler(&log, nil)))
	batch := sqsBatch(t,
		string(sample(t, "ecs-task-state-change-running.json")),
		string(sample(t, "malformed-event.json")),
		string(sample(t, "ecs-container-instance-state-change-connected.json")),
	)

	resp, err := h(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !slices.Equal(got[0], []string{bus.DetailTypeTaskStateChange, bus.DetailTypeContainerInstanceStateChange}) {
		t.Errorf("handler saw %v, want the two readable events in one call", got)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Errorf("failures %+v, want only the unreadable message", resp.BatchItemFailures)
	}
	if !strings.Contains(log.String(), "messageId=m1") {
		t.Errorf("log does not name the unreadable message: %s", log.String())
	}

	fail = errors.New("conflict retries exhausted")
	resp, _ = h(context.Background(), batch)
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"m0", "m1", "m2"}) {
		t.Errorf("after a handler failure: failures %v, want every message", ids)
	}

	resp, _ = h(context.Background(), events.SQSEvent{})
	if resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("empty batch: %+v", resp)
	}
}
