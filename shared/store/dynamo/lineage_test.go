package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
)

// fakeShard is one shard of fakeStreams: its records in order, and whether
// DynamoDB closed it (then reading past its end yields no next iterator).
type fakeShard struct {
	id, parent string
	closed     bool
	records    []streamtypes.Record
}

// fakeStreams is a DynamoDB stream with shards a test lays out, which moto
// cannot (its stream is one shard that never closes). Iterators are
// "<shard>|<index of the next record>".
type fakeStreams struct {
	mu        sync.Mutex
	shards    []*fakeShard // in DescribeStream's order
	iterators []string     // "<shard> <type> <sequence>" per GetShardIterator
}

func (f *fakeStreams) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (f *fakeStreams) DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := &streamtypes.StreamDescription{StreamViewType: streamtypes.StreamViewTypeNewAndOldImages}
	for _, s := range f.shards {
		sh := streamtypes.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &streamtypes.SequenceNumberRange{StartingSequenceNumber: aws.String("100")}}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		if s.closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("999")
		}
		d.Shards = append(d.Shards, sh)
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: d}, nil
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, seq := aws.ToString(in.ShardId), aws.ToString(in.SequenceNumber)
	f.iterators = append(f.iterators, fmt.Sprintf("%s %s %s", id, in.ShardIteratorType, seq))
	s := f.shard(id)
	if s == nil {
		return nil, fmt.Errorf("no shard %s", id)
	}
	next := 0
	if in.ShardIteratorType == streamtypes.ShardIteratorTypeAfterSequenceNumber {
		next = slices.IndexFunc(s.records, func(r streamtypes.Record) bool { return aws.ToString(r.Dynamodb.SequenceNumber) == seq }) + 1
		if next == 0 {
			return nil, fmt.Errorf("shard %s has no sequence number %s", id, seq)
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", id, next))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, at, _ := strings.Cut(aws.ToString(in.ShardIterator), "|")
	var next int
	fmt.Sscan(at, &next)
	s := f.shard(id)
	end := min(next+int(aws.ToInt32(in.Limit)), len(s.records))
	out := &dynamodbstreams.GetRecordsOutput{Records: slices.Clone(s.records[next:end])}
	if !s.closed || end < len(s.records) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", id, end))
	}
	return out, nil
}

func (f *fakeStreams) append(shard string, r streamtypes.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(shard)
	s.records = append(s.records, r)
}

// record is a stream record of item p|<sk> moving from version old to
// version new (0: absent).
func record(seq, sk string, old, new int) streamtypes.Record {
	image := func(v int) map[string]streamtypes.AttributeValue {
		if v == 0 {
			return nil
		}
		return map[string]streamtypes.AttributeValue{
			dynamo.AttrPK: &streamtypes.AttributeValueMemberS{Value: "p"}, dynamo.AttrSK: &streamtypes.AttributeValueMemberS{Value: sk},
			dynamo.AttrVersion: &streamtypes.AttributeValueMemberN{Value: fmt.Sprint(v)},
			dynamo.AttrData:    &streamtypes.AttributeValueMemberS{Value: fmt.Sprintf(`{"v":%d}`, v)},
		}
	}
	name := streamtypes.OperationTypeModify
	switch {
	case old == 0:
		name = streamtypes.OperationTypeInsert
	case new == 0:
		name = streamtypes.OperationTypeRemove
	}
	return streamtypes.Record{
		EventID:   aws.String("ev-" + seq),
		EventName: name,
		Dynamodb: &streamtypes.StreamRecord{
			Keys: map[string]streamtypes.AttributeValue{
				dynamo.AttrPK: &streamtypes.AttributeValueMemberS{Value: "p"}, dynamo.AttrSK: &streamtypes.AttributeValueMemberS{Value: sk},
			},
			OldImage:       image(old),
			NewImage:       image(new),
			SequenceNumber: aws.String(seq),
			StreamViewType: streamtypes.StreamViewTypeNewAndOldImages,
		},
	}
}

// delivered records each change a feed hands over as "<sk> v<new>".
type delivered struct {
	mu  sync.Mutex
	got []string
}

func (d *delivered) handle(_ context.Context, cs []store.Change) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range cs {
		v := int64(0)
		if c.New != nil {
			v = c.New.Version
		}
		d.got = append(d.got, fmt.Sprintf("%s v%d", c.Key.SK, v))
	}
	return nil
}

func (d *delivered) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.got)
}

func runFeed(t *testing.T, f *dynamo.Feed, d *delivered) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, d.handle) }()
	return func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}
}

// checkpoint reads the feed's checkpoint of a shard: its sequence number
// and done flag; ok is false when there is none.
func checkpoint(t *testing.T, client *dynamodb.Client, table, shard string) (seq string, done, ok bool) {
	t.Helper()
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			dynamo.AttrPK: &types.AttributeValueMemberS{Value: dynamo.CheckpointPK("publisher")},
			dynamo.AttrSK: &types.AttributeValueMemberS{Value: shard},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return "", false, false
	}
	if s, ok := out.Item["seq"].(*types.AttributeValueMemberS); ok {
		seq = s.Value
	}
	if b, ok := out.Item["done"].(*types.AttributeValueMemberBOOL); ok {
		done = b.Value
	}
	return seq, done, true
}

// TestFeedReadsParentsBeforeChildrenAndResumes lays out a closed parent
// shard and its open child, listed child first: the feed must hand over the
// parent's changes of a key before the child's, mark the parent done, and
// after a restart (the parent trimmed meanwhile) resume the child after its
// checkpoint, delivering nothing twice.
func TestFeedReadsParentsBeforeChildrenAndResumes(t *testing.T) {
	srv, s := newStore(t)
	client := srv.DynamoDB()
	streams := &fakeStreams{shards: []*fakeShard{
		{id: "shardId-2-child", parent: "shardId-1-parent", records: []streamtypes.Record{record("300", "a", 2, 3), record("301", "b", 0, 1)}},
		{id: "shardId-1-parent", closed: true, records: []streamtypes.Record{record("100", "a", 0, 1), record("101", "a", 1, 2)}},
	}}
	first := &delivered{}
	stop := runFeed(t, dynamo.NewFeedWithAPI(s, streams, "publisher", fastFeed...), first)
	eventually(t, "both shards are delivered and checkpointed", func() bool {
		seq, _, _ := checkpoint(t, client, s.Table(), "shardId-2-child")
		return len(first.list()) == 4 && seq == "301"
	})
	stop()
	if got, want := first.list(), []string{"a v1", "a v2", "a v3", "b v1"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v; want %v: the parent's changes of a before the child's", got, want)
	}
	if seq, done, ok := checkpoint(t, client, s.Table(), "shardId-1-parent"); !ok || !done || seq != "101" {
		t.Fatalf("parent checkpoint seq %q done %v (exists %v); want 101, done", seq, done, ok)
	}

	// The parent ages out of the stream; the child gains a record.
	streams.mu.Lock()
	streams.shards = streams.shards[:1]
	streams.iterators = nil
	streams.mu.Unlock()
	streams.append("shardId-2-child", record("302", "b", 1, 2))

	second := &delivered{}
	restarted := dynamo.New(client, s.Table(), quiet()...)
	stop = runFeed(t, dynamo.NewFeedWithAPI(restarted, streams, "publisher", fastFeed...), second)
	eventually(t, "the new record is delivered", func() bool {
		seq, _, _ := checkpoint(t, client, s.Table(), "shardId-2-child")
		return len(second.list()) >= 1 && seq == "302"
	})
	stop()
	if got := second.list(); !slices.Equal(got, []string{"b v2"}) {
		t.Fatalf("after the restart delivered %v; want only b v2", got)
	}
	streams.mu.Lock()
	firstIterator := streams.iterators[0]
	streams.mu.Unlock()
	if firstIterator != "shardId-2-child AFTER_SEQUENCE_NUMBER 301" {
		t.Fatalf("the restarted feed first asked for %q; want the child after its checkpoint 301", firstIterator)
	}
	if _, _, ok := checkpoint(t, client, s.Table(), "shardId-1-parent"); ok {
		t.Fatal("the trimmed parent's checkpoint was kept")
	}
}
