package dynamo_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

// The benchmarks run against moto_server, not DynamoDB: they measure the
// adapter plus moto on this machine (one request at a time, see
// dynamotest's fidelity transport), a floor for regressions rather than a
// forecast of DynamoDB latency. moto copies the whole table on every
// transaction, so each benchmark keeps its table small.

// benchStore is a table without a stream (see
// dynamotest.NewStoreWithoutStream): with one, moto's cost per write grows
// with every write before it, and the figures would measure that.
func benchStore(b *testing.B) *dynamo.Store {
	return dynamotest.NewStoreWithoutStream(b, dynamotest.Shared(b), quiet()...)
}

func benchDoc(i int) []byte {
	return fmt.Appendf(nil, `{"taskArn":"arn:aws:ecs:us-east-1:000000000000:task/default/%032d","lastStatus":"RUNNING","cpu":"256","memory":"512"}`, i)
}

// BenchmarkConditionalPut replaces one item under its version.
func BenchmarkConditionalPut(b *testing.B) {
	s := benchStore(b)
	k := store.Key{PK: "C#default#G#service:web", SK: "task"}
	version := int64(0)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		w := store.Write{Op: store.Put, Item: store.Item{Key: k, Data: benchDoc(i), GSI1: store.Key{PK: "C#default#CI#i1", SK: "task"}}, Expect: version}
		if err := s.Transact(b.Context(), []store.Write{w}); err != nil {
			b.Fatal(err)
		}
		version++
	}
}

// BenchmarkTransact30 commits 30 conditional replacements at once, the
// size of a placement plan for a few tasks with their instances.
func BenchmarkTransact30(b *testing.B) {
	s := benchStore(b)
	const n = 30
	writes := make([]store.Write, n)
	for i := range writes {
		writes[i] = store.Write{Op: store.Put, Item: store.Item{
			Key:  store.Key{PK: "C#default#G#service:web", SK: fmt.Sprintf("task-%02d", i)},
			Data: benchDoc(i), GSI1: store.Key{PK: "C#default#CI#i1", SK: fmt.Sprintf("task-%02d", i)},
			GSI2: store.Key{PK: "C#default#T", SK: fmt.Sprintf("RUNNING#task-%02d", i)},
		}}
	}
	if err := s.Transact(b.Context(), writes); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for round := int64(1); b.Loop(); round++ {
		for i := range writes {
			writes[i].Expect = round
		}
		if err := s.Transact(b.Context(), writes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuery1000 reads a partition of 1,000 items, following cursors.
func BenchmarkQuery1000(b *testing.B) {
	s := benchStore(b)
	const n = 1000
	for start := 0; start < n; start += store.MaxTransactItems {
		var writes []store.Write
		for i := start; i < start+store.MaxTransactItems; i++ {
			writes = append(writes, store.Write{Op: store.Put, Item: store.Item{
				Key: store.Key{PK: "C#default#CI", SK: fmt.Sprintf("%032d", i)}, Data: benchDoc(i),
			}})
		}
		if err := s.Transact(b.Context(), writes); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		got, q := 0, store.Query{PK: "C#default#CI"}
		for {
			items, next, err := s.Query(b.Context(), q)
			if err != nil {
				b.Fatal(err)
			}
			got += len(items)
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if got != n {
			b.Fatalf("read %d items; want %d", got, n)
		}
	}
}

// The same work without a server: what the adapter itself costs, building
// requests and decoding responses (the SDK's HTTP and JSON excluded).

func BenchmarkTransact30NoServer(b *testing.B) {
	s := fakeStore(&fakeDynamo{transact: func(int, *dynamodb.TransactWriteItemsInput) error { return nil }})
	writes := make([]store.Write, 30)
	for i := range writes {
		writes[i] = store.Write{Op: store.Put, Item: store.Item{
			Key:  store.Key{PK: "C#default#G#service:web", SK: fmt.Sprintf("task-%02d", i)},
			Data: benchDoc(i), GSI1: store.Key{PK: "C#default#CI#i1", SK: fmt.Sprintf("task-%02d", i)},
		}, Expect: 3}
	}
	for b.Loop() {
		if err := s.Transact(b.Context(), writes); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQuery1000NoServer(b *testing.B) {
	out := &dynamodb.QueryOutput{}
	for i := range 1000 {
		out.Items = append(out.Items, map[string]types.AttributeValue{
			dynamo.AttrPK:      &types.AttributeValueMemberS{Value: "C#default#CI"},
			dynamo.AttrSK:      &types.AttributeValueMemberS{Value: fmt.Sprintf("%032d", i)},
			dynamo.AttrVersion: &types.AttributeValueMemberN{Value: "7"},
			dynamo.AttrData:    &types.AttributeValueMemberS{Value: string(benchDoc(i))},
		})
	}
	s := fakeStore(&fakeDynamo{query: out})
	for b.Loop() {
		items, _, err := s.Query(b.Context(), store.Query{PK: "C#default#CI"})
		if err != nil || len(items) != 1000 {
			b.Fatalf("%d items, %v", len(items), err)
		}
	}
}
