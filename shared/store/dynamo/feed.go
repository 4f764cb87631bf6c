package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/berth-run/berth/shared/store"
)

var _ store.ChangeFeed = (*Feed)(nil)

// streamsAPI is the part of the DynamoDB Streams client the feed calls.
type streamsAPI interface {
	DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Feed is the store's change feed read from the table's DynamoDB stream,
// for `berth up --store dynamodb`. In AWS a Lambda event source mapping
// reads the stream instead and hands the publisher its records
// (ChangesFromStreamRecords).
//
// The feed reads every shard, a parent before its children so that each
// key's changes arrive in commit order, and hands the handler one
// GetRecords batch at a time. When the handler succeeds, the shard's
// position is saved as a checkpoint item in the table itself (partition
// "FEED#<consumer>", one item per shard), so a restarted feed resumes where
// it stopped; when it fails, the batch is read and offered again after a
// back-off. Delivery is therefore at least once. One consumer name must be
// read by one running feed at a time.
type Feed struct {
	s        *Store
	streams  streamsAPI
	consumer string
	opts     feedOptions
	running  atomic.Bool
}

type feedOptions struct {
	batch      int
	poll       time.Duration
	refresh    time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration
}

// FeedOption configures NewFeed.
type FeedOption func(*feedOptions)

// WithBatch caps the records one GetRecords call returns, and so the
// changes handed over at once (default 100, at most 1000).
func WithBatch(n int) FeedOption { return func(o *feedOptions) { o.batch = n } }

// WithPollInterval sets the wait before reading again when every shard is
// caught up (default 250ms; DynamoDB Streams allows about five reads per
// second per shard).
func WithPollInterval(d time.Duration) FeedOption { return func(o *feedOptions) { o.poll = d } }

// WithShardRefresh sets how often the feed looks for new shards (default
// 30s); it also looks whenever a shard ends.
func WithShardRefresh(d time.Duration) FeedOption { return func(o *feedOptions) { o.refresh = d } }

// WithFeedBackoff sets the wait after a failed batch or a failed read: it
// starts at min and doubles up to max (defaults 100ms and 10s).
func WithFeedBackoff(min, max time.Duration) FeedOption {
	return func(o *feedOptions) { o.minBackoff, o.maxBackoff = min, max }
}

// NewFeed returns the change feed of s's table, read through client under
// the name consumer, which keys its checkpoints.
func NewFeed(s *Store, client *dynamodbstreams.Client, consumer string, opts ...FeedOption) *Feed {
	return newFeed(s, client, consumer, opts...)
}

func newFeed(s *Store, client streamsAPI, consumer string, opts ...FeedOption) *Feed {
	o := feedOptions{
		batch:      100,
		poll:       250 * time.Millisecond,
		refresh:    30 * time.Second,
		minBackoff: 100 * time.Millisecond,
		maxBackoff: 10 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	o.batch = min(max(o.batch, 1), 1000)
	o.poll = max(o.poll, time.Millisecond)
	o.refresh = max(o.refresh, o.poll)
	o.minBackoff = max(o.minBackoff, time.Millisecond)
	o.maxBackoff = max(o.maxBackoff, o.minBackoff)
	return &Feed{s: s, streams: client, consumer: consumer, opts: o}
}

// checkpointPK is the partition of this feed's checkpoints.
func (f *Feed) checkpointPK() string { return reservedPrefix + f.consumer }

// shard is the feed's state of one stream shard.
type shard struct {
	id, parent string
	// position is the sequence number of the last record handled or
	// skipped; "" before the first. The next read starts after it.
	position string
	// saved is the position last written as a checkpoint.
	saved    string
	done     bool // closed and read to its end
	iterator string
}

// feedRun is one Run's state.
type feedRun struct {
	f         *Feed
	stream    string
	handle    func(ctx context.Context, changes []store.Change) error
	shards    map[string]*shard
	refreshAt time.Time
	failures  int
}

// Run reads the stream and hands its changes to handle until ctx ends, then
// returns ctx's error. Failed reads and failed batches are retried after a
// back-off; only a missing table or stream at the start ends Run early.
func (f *Feed) Run(ctx context.Context, handle func(ctx context.Context, changes []store.Change) error) error {
	if f.consumer == "" {
		return fmt.Errorf("change feed: %w: empty consumer name", store.ErrInvalid)
	}
	if !f.running.CompareAndSwap(false, true) {
		return fmt.Errorf("change feed %s: %w: already running", f.consumer, store.ErrInvalid)
	}
	defer f.running.Store(false)
	arn, err := f.s.streamARN(ctx)
	if err != nil {
		return fmt.Errorf("change feed %s: %w", f.consumer, err)
	}
	r := &feedRun{f: f, stream: arn, handle: handle, shards: map[string]*shard{}}
	if err := r.loadCheckpoints(ctx); err != nil {
		return fmt.Errorf("change feed %s: %w", f.consumer, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		progressed, err := r.step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := f.opts.poll
		if err != nil {
			r.failures++
			wait = min(f.opts.minBackoff<<min(r.failures-1, 16), f.opts.maxBackoff)
			f.s.log.Warn("change feed: retrying after back-off", "consumer", f.consumer, "backoff", wait, "err", err)
		} else {
			r.failures = 0
			if progressed {
				continue
			}
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// step refreshes the shard list when due and reads each shard whose parent
// is done once. progressed reports whether anything was read or finished.
func (r *feedRun) step(ctx context.Context) (progressed bool, err error) {
	if !time.Now().Before(r.refreshAt) {
		if err := r.refresh(ctx); err != nil {
			return false, err
		}
		r.refreshAt = time.Now().Add(r.f.opts.refresh)
	}
	for _, sh := range r.ready() {
		p, err := r.poll(ctx, sh)
		if err != nil {
			return progressed, fmt.Errorf("shard %s: %w", sh.id, err)
		}
		progressed = progressed || p
		if sh.done {
			r.refreshAt = time.Time{} // its children may be new
		}
	}
	return progressed, nil
}

// ready lists the shards to read now: not done, and whose parent is done
// or gone from the stream (trimmed after 24 hours). Sorted by ID, which in
// DynamoDB Streams begins with the shard's creation time.
func (r *feedRun) ready() []*shard {
	var out []*shard
	for _, sh := range r.shards {
		if sh.done {
			continue
		}
		if p, ok := r.shards[sh.parent]; ok && !p.done {
			continue
		}
		out = append(out, sh)
	}
	slices.SortFunc(out, func(a, b *shard) int { return compareStrings(a.id, b.id) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// refresh reads the stream's shards, adds the new ones, and forgets (and
// deletes the checkpoints of) shards the stream no longer lists.
func (r *feedRun) refresh(ctx context.Context) error {
	listed := map[string]streamtypes.Shard{}
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.stream)}
	for {
		out, err := r.f.streams.DescribeStream(ctx, in)
		if err != nil {
			return fmt.Errorf("describe stream: %w", err)
		}
		d := out.StreamDescription
		if d == nil {
			return errors.New("describe stream: empty description")
		}
		if d.StreamViewType != streamtypes.StreamViewTypeNewAndOldImages {
			return fmt.Errorf("stream view type %s: the change feed needs NEW_AND_OLD_IMAGES", d.StreamViewType)
		}
		for _, s := range d.Shards {
			listed[aws.ToString(s.ShardId)] = s
		}
		if d.LastEvaluatedShardId == nil {
			break
		}
		in.ExclusiveStartShardId = d.LastEvaluatedShardId
	}
	for id, s := range listed {
		if _, ok := r.shards[id]; !ok {
			r.shards[id] = &shard{id: id, parent: aws.ToString(s.ParentShardId)}
		}
	}
	for id, sh := range r.shards {
		if _, ok := listed[id]; ok {
			continue
		}
		if !sh.done && sh.saved != "" {
			r.f.s.log.Warn("change feed: shard trimmed from the stream before it was read to its end",
				"consumer", r.f.consumer, "shard", id, "position", sh.position)
		}
		delete(r.shards, id)
		if err := r.deleteCheckpoint(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// poll reads one batch of a shard and hands its changes over.
func (r *feedRun) poll(ctx context.Context, sh *shard) (bool, error) {
	if sh.iterator == "" {
		it, err := r.iterator(ctx, sh)
		if err != nil {
			return false, err
		}
		sh.iterator = it
	}
	out, err := r.f.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
		ShardIterator: aws.String(sh.iterator),
		Limit:         aws.Int32(int32(r.f.opts.batch)),
	})
	if isCode(err, "ExpiredIteratorException") {
		sh.iterator = "" // iterators last 15 minutes; take a new one from the position
		return true, nil
	}
	if err != nil {
		sh.iterator = ""
		return false, fmt.Errorf("get records: %w", err)
	}
	next := aws.ToString(out.NextShardIterator)
	if len(out.Records) > 0 {
		changes := r.decode(sh, out.Records)
		if len(changes) > 0 {
			if err := r.handle(ctx, changes); err != nil {
				sh.iterator = "" // read the batch again from the position
				return false, fmt.Errorf("handler refused %d changes: %w", len(changes), err)
			}
		}
		if last := lastSequence(out.Records); last != "" {
			sh.position = last
		}
		if len(changes) > 0 {
			// Saving a checkpoint writes to the table, which the stream
			// announces in turn; saving only after real changes keeps that
			// from feeding itself.
			r.saveCheckpoint(ctx, sh)
		}
	}
	sh.iterator = next
	if next == "" {
		sh.done = true // a closed shard read to its end
		r.saveCheckpoint(ctx, sh)
		return true, nil
	}
	return len(out.Records) > 0, nil
}

// lastSequence is the sequence number of the last record that has one.
func lastSequence(records []streamtypes.Record) string {
	for i := len(records) - 1; i >= 0; i-- {
		if r := records[i].Dynamodb; r != nil && aws.ToString(r.SequenceNumber) != "" {
			return aws.ToString(r.SequenceNumber)
		}
	}
	return ""
}

// decode turns a batch into changes, skipping (and logging) a record that
// does not decode: the adapter never writes such an item, and a record that
// can never be handled must not stop the feed.
func (r *feedRun) decode(sh *shard, records []streamtypes.Record) []store.Change {
	changes := make([]store.Change, 0, len(records))
	for i := range records {
		c, err := ChangesFromGetRecords(records[i : i+1])
		if err != nil {
			r.f.s.log.Error("change feed: skipping a stream record that is not a store change",
				"consumer", r.f.consumer, "shard", sh.id, "err", err)
			continue
		}
		changes = append(changes, c...)
	}
	return changes
}

func (r *feedRun) iterator(ctx context.Context, sh *shard) (string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn:         aws.String(r.stream),
		ShardId:           aws.String(sh.id),
		ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
	}
	if sh.position != "" {
		in.ShardIteratorType = streamtypes.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(sh.position)
	}
	out, err := r.f.streams.GetShardIterator(ctx, in)
	if isCode(err, "TrimmedDataAccessException") && sh.position != "" {
		r.f.s.log.Warn("change feed: records after the checkpoint were trimmed (older than 24 hours); resuming from the oldest record",
			"consumer", r.f.consumer, "shard", sh.id, "position", sh.position)
		sh.position = ""
		return r.iterator(ctx, sh)
	}
	if err != nil {
		return "", fmt.Errorf("get shard iterator: %w", err)
	}
	return aws.ToString(out.ShardIterator), nil
}

// Checkpoint items: PK "FEED#<consumer>", SK the shard ID, "seq" the last
// handled sequence number, "done" once a closed shard was read to its end.
const (
	attrSeq  = "seq"
	attrDone = "done"
	attrAt   = "at"
)

func (r *feedRun) loadCheckpoints(ctx context.Context) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(r.f.s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attrS(r.f.checkpointPK())},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := r.f.s.client.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("load checkpoints: %w", r.f.s.apiError(ctx, err))
		}
		for _, it := range out.Items {
			sh := checkpointShard(it)
			r.shards[sh.id] = sh
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// checkpointShard reads a checkpoint item. The parent is unknown until the
// shard list is read; a checkpointed shard was ready once, so that is fine.
func checkpointShard(it map[string]types.AttributeValue) *shard {
	str := func(name string) string {
		v, _ := it[name].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	done, _ := it[attrDone].(*types.AttributeValueMemberBOOL)
	sh := &shard{id: str(AttrSK), position: str(attrSeq)}
	sh.saved = sh.position
	sh.done = done != nil && done.Value
	return sh
}

// saveCheckpoint records the shard's position. A failure only costs
// redelivery after a restart, so it is logged and the next batch tries again.
func (r *feedRun) saveCheckpoint(ctx context.Context, sh *shard) {
	item := map[string]types.AttributeValue{
		AttrPK:   attrS(r.f.checkpointPK()),
		AttrSK:   attrS(sh.id),
		attrDone: &types.AttributeValueMemberBOOL{Value: sh.done},
		attrAt:   attrS(time.Now().UTC().Format(time.RFC3339)),
	}
	if sh.position != "" {
		item[attrSeq] = attrS(sh.position)
	}
	_, err := r.f.s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.f.s.table), Item: item})
	if err != nil && ctx.Err() != nil {
		return // shutting down: the next run redelivers from the last checkpoint
	}
	if err != nil {
		r.f.s.log.Warn("change feed: could not save checkpoint; a restart will deliver some changes again",
			"consumer", r.f.consumer, "shard", sh.id, "err", r.f.s.apiError(ctx, err))
		return
	}
	sh.saved = sh.position
}

func (r *feedRun) deleteCheckpoint(ctx context.Context, id string) error {
	_, err := r.f.s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(r.f.s.table),
		Key:       keyAttrs(store.Key{PK: r.f.checkpointPK(), SK: id}),
	})
	if err != nil {
		return fmt.Errorf("delete checkpoint of trimmed shard %s: %w", id, r.f.s.apiError(ctx, err))
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
