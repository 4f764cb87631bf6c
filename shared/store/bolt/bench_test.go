package bolt_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

// benchDoc is about the size of a task item's document.
var benchDoc = []byte(`{"taskArn":"arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef","lastStatus":"RUNNING","desiredStatus":"RUNNING","cpu":"256","memory":"512","containers":[{"name":"app","lastStatus":"RUNNING"}]}`)

// BenchmarkPutConditional is one caller updating one item under its version.
func BenchmarkPutConditional(b *testing.B) {
	s := openTemp(b)
	it := store.Item{Key: store.Key{PK: "svc", SK: "task"}, Data: benchDoc, GSI1: store.Key{PK: "inst", SK: "task"}}
	ctx := context.Background()
	b.ResetTimer()
	for v := range int64(b.N) {
		if err := s.Transact(ctx, []store.Write{put(it, v)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutConditionalParallel is 16 callers, each updating its own item
// under its version, with and without group commit.
func BenchmarkPutConditionalParallel(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []bolt.Option
	}{{"group", nil}, {"direct", []bolt.Option{bolt.WithDirectCommit()}}} {
		b.Run(mode.name, func(b *testing.B) {
			s := openTemp(b, mode.opts...)
			var next atomic.Int64
			ctx := context.Background()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				it := store.Item{Key: store.Key{PK: "svc", SK: fmt.Sprint(next.Add(1))}, Data: benchDoc}
				for v := int64(0); pb.Next(); v++ {
					if err := s.Transact(ctx, []store.Write{put(it, v)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkTransact30 updates 30 indexed items in one transaction, as a
// placement commit of a few tasks and their instances would.
func BenchmarkTransact30(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	writes := make([]store.Write, 30)
	for i := range writes {
		it := store.Item{Key: store.Key{PK: "svc", SK: fmt.Sprintf("task%02d", i)}, Data: benchDoc,
			GSI1: store.Key{PK: fmt.Sprintf("inst%d", i%4), SK: fmt.Sprintf("task%02d", i)}, GSI2: store.Key{PK: "cluster", SK: "RUNNING"}}
		writes[i] = put(it, 0)
	}
	b.ResetTimer()
	for v := range int64(b.N) {
		for i := range writes {
			writes[i].Expect = v
		}
		if err := s.Transact(ctx, writes); err != nil {
			b.Fatal(err)
		}
	}
}

func fillPartition(b *testing.B, s *bolt.Store, n int) {
	ctx := context.Background()
	for start := 0; start < n; start += store.MaxTransactItems {
		var writes []store.Write
		for i := start; i < min(start+store.MaxTransactItems, n); i++ {
			writes = append(writes, put(store.Item{Key: store.Key{PK: "svc", SK: fmt.Sprintf("task%05d", i)}, Data: benchDoc,
				GSI1: store.Key{PK: "inst", SK: fmt.Sprintf("task%05d", i)}}, 0))
		}
		if err := s.Transact(ctx, writes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuery1000 reads a 1,000-item partition in one page, from the
// table and from an index.
func BenchmarkQuery1000(b *testing.B) {
	s := openTemp(b)
	fillPartition(b, s, 1000)
	ctx := context.Background()
	for _, q := range []store.Query{{PK: "svc"}, {Index: store.GSI1, PK: "inst"}} {
		name := "base"
		if q.Index != store.Base {
			name = string(q.Index)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				items, next, err := s.Query(ctx, q)
				if err != nil || len(items) != 1000 || next != "" {
					b.Fatalf("query: %d items, cursor %q, %v", len(items), next, err)
				}
			}
		})
	}
}

// BenchmarkFeedDelivery measures how fast the feed hands over and
// acknowledges committed changes (reported per change).
func BenchmarkFeedDelivery(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	for start := 0; start < b.N; start += store.MaxTransactItems {
		var writes []store.Write
		for i := start; i < min(start+store.MaxTransactItems, b.N); i++ {
			writes = append(writes, put(store.Item{Key: store.Key{PK: "svc", SK: fmt.Sprintf("task%09d", i)}, Data: benchDoc}, 0))
		}
		if err := s.Transact(ctx, writes); err != nil {
			b.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	all := make(chan struct{})
	delivered := 0
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- s.Feed().Run(runCtx, func(_ context.Context, cs []store.Change) error {
			delivered += len(cs)
			if delivered >= b.N {
				once.Do(func() { close(all) })
			}
			return nil
		})
	}()
	<-all
	// Wait for the last acknowledgement too: it is part of delivering.
	for {
		n, err := s.Feed().Pending()
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
	cancel()
	<-done
}
