package local

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/berth-run/berth/shared/bus"
)

// Shapes of user rules, each naming one service or cluster.
var (
	dfaShapes = []string{
		`{"source":["berth"],"detail-type":["ECS Task State Change"],"detail":{"group":["service:svc-%d"],"lastStatus":["STOPPED"]}}`,
		`{"source":["berth"],"detail":{"clusterArn":[{"prefix":"arn:aws:ecs:us-east-1:000000000000:cluster/c%d"}]}}`,
		`{"detail-type":["ECS Task State Change"],"detail":{"group":["service:svc-%d"],"stopCode":[{"anything-but":["UserInitiated"]}]}}`,
		`{"detail":{"startedBy":["ecs-svc/%d"],"stoppedReason":[{"exists":true}]}}`,
	}
	wildcardShapes = []string{`{"resources":[{"wildcard":"arn:aws:ecs:*:service/default/svc-%d"}]}`}
)

// benchRules makes Berth's rules plus n user rules cycling through shapes.
func benchRules(n int, shapes []string) []bus.Rule {
	rules := bus.Rules()
	for i := range n {
		rules = append(rules, bus.Rule{
			Name:    fmt.Sprintf("user-%d", i),
			Pattern: []byte(fmt.Sprintf(shapes[i%len(shapes)], i)),
			Target:  "user",
		})
	}
	return rules
}

func benchBus(b *testing.B, rules []bus.Rule, h bus.Handler) *Bus {
	b.Helper()
	bb, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NewID: bus.SeededIDs(1), QueueSize: 4096})
	if err != nil {
		b.Fatal(err)
	}
	for _, target := range []string{bus.TargetReconciler, bus.TargetScaler, bus.TargetMonitor, "user"} {
		if err := bb.Subscribe(target, h); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range rules {
		if err := bb.AddRule(r); err != nil {
			b.Fatal(err)
		}
	}
	return bb
}

// BenchmarkMatch measures matching alone: one realistic task event (3.4
// KB) against Berth's rules plus N user rules of exact, prefix,
// anything-but and exists tests.
func BenchmarkMatch(b *testing.B) { benchMatch(b, dfaShapes) }

// BenchmarkMatchWildcards is BenchmarkMatch with N wildcard rules on one
// field, the costly case for quamina's NFA.
func BenchmarkMatchWildcards(b *testing.B) { benchMatch(b, wildcardShapes) }

func benchMatch(b *testing.B, shapes []string) {
	raw, err := readSample("ecs-task-state-change-stopped.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{0, 10, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", len(bus.Rules())+n), func(b *testing.B) {
			bb := benchBus(b, benchRules(n, shapes), func(context.Context, []bus.Event) error { return nil })
			defer bb.Close(context.Background())
			r := bb.routes.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := r.matcher.match(raw); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPut measures the whole path: validate, encode, match, queue and
// deliver (batched) to a handler that does nothing, with 100 user rules.
func BenchmarkPut(b *testing.B) {
	raw, err := readSample("ecs-task-state-change-stopped.json")
	if err != nil {
		b.Fatal(err)
	}
	e, err := bus.ParseEvent(raw)
	if err != nil {
		b.Fatal(err)
	}
	delivered := make(chan int, 4096)
	bb := benchBus(b, benchRules(100, dfaShapes), func(_ context.Context, events []bus.Event) error {
		delivered <- len(events)
		return nil
	})
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for range b.N {
			if err := bb.Put(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	for got := 0; got < b.N; {
		got += <-delivered
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if err := bb.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
}
