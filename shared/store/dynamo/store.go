package dynamo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/berth-run/berth/shared/store"
)

var _ store.Store = (*Store)(nil)

// dynamoAPI is the part of the DynamoDB client the adapter calls.
type dynamoAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// Store is the Store port on one DynamoDB table.
type Store struct {
	client dynamoAPI
	table  string
	opts   options
	log    *slog.Logger
}

type options struct {
	logger         *slog.Logger
	retries        int
	minBackoff     time.Duration
	maxBackoff     time.Duration
	tableReadyPoll time.Duration
}

// Option configures New.
type Option func(*options)

// WithLogger sets the logger for retries and the feed (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRetries sets how many times the adapter itself retries what the SDK's
// retryer does not: a transaction cancelled by a conflicting transaction or
// by throttling, and a batch read's unprocessed keys (default 6).
func WithRetries(n int) Option { return func(o *options) { o.retries = n } }

// WithBackoff sets the wait between those retries: it starts at min and
// doubles up to max, with jitter (defaults 25ms and 1s).
func WithBackoff(min, max time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = min, max }
}

// WithTablePoll sets how often EnsureTable looks whether a table it created
// became ACTIVE (default 1s).
func WithTablePoll(d time.Duration) Option { return func(o *options) { o.tableReadyPoll = d } }

// New returns the adapter for table, reached through client. The table must
// have Berth's layout: EnsureTable creates it, the CDK stack declares it.
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	return newStore(client, table, opts...)
}

func newStore(client dynamoAPI, table string, opts ...Option) *Store {
	o := options{
		logger:         slog.Default(),
		retries:        6,
		minBackoff:     25 * time.Millisecond,
		maxBackoff:     time.Second,
		tableReadyPoll: time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	o.retries = max(o.retries, 0)
	o.minBackoff = max(o.minBackoff, time.Millisecond)
	o.maxBackoff = max(o.maxBackoff, o.minBackoff)
	o.tableReadyPoll = max(o.tableReadyPoll, time.Millisecond)
	return &Store{client: client, table: table, opts: o, log: o.logger.With("table", table)}
}

// Table is the name of the table the store uses.
func (s *Store) Table() string { return s.table }

// Get reads one item, strongly consistently.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Item, error) {
	if err := ctx.Err(); err != nil {
		return store.Item{}, err
	}
	if err := validateKey(key); err != nil {
		return store.Item{}, fmt.Errorf("get: %w", err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyAttrs(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Item{}, fmt.Errorf("get %s: %w", key, s.apiError(ctx, err))
	}
	if out.Item == nil {
		return store.Item{}, fmt.Errorf("get %s: %w", key, store.ErrNotFound)
	}
	it, err := decodeItem(out.Item)
	if err != nil {
		return store.Item{}, fmt.Errorf("get %s: %w", key, err)
	}
	return it, nil
}

// BatchGet reads up to 100 distinct keys strongly consistently with
// BatchGetItem, retrying unprocessed keys, and returns the items that exist
// in the order of keys.
func (s *Store) BatchGet(ctx context.Context, keys []store.Key) ([]store.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validateBatch(keys); err != nil {
		return nil, fmt.Errorf("batch get: %w", err)
	}
	found := make(map[store.Key]store.Item, len(keys))
	pending := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		pending[i] = keyAttrs(k)
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt > s.opts.retries {
				return nil, fmt.Errorf("batch get: %w: %d of %d keys still unprocessed after %d attempts",
					store.ErrThrottled, len(pending), len(keys), attempt)
			}
			if err := s.sleep(ctx, attempt); err != nil {
				return nil, err
			}
		}
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{
				s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
			},
		})
		if err != nil {
			return nil, fmt.Errorf("batch get %d keys: %w", len(keys), s.apiError(ctx, err))
		}
		for _, attrs := range out.Responses[s.table] {
			it, err := decodeItem(attrs)
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			found[it.Key] = it
		}
		pending = out.UnprocessedKeys[s.table].Keys
	}
	items := make([]store.Item, 0, len(found))
	for _, k := range keys {
		if it, ok := found[k]; ok {
			items = append(items, it)
		}
	}
	return items, nil
}

func validateBatch(keys []store.Key) error {
	if len(keys) > store.MaxTransactItems {
		return fmt.Errorf("%w: at most %d keys, got %d", store.ErrInvalid, store.MaxTransactItems, len(keys))
	}
	seen := make(map[store.Key]bool, len(keys))
	for _, k := range keys {
		if err := validateKey(k); err != nil {
			return err
		}
		if seen[k] {
			return fmt.Errorf("%w: key %s requested twice", store.ErrInvalid, k)
		}
		seen[k] = true
	}
	return nil
}

// backoff is the wait before retry number attempt (1, 2, ...): exponential
// with full jitter, so conflicting writers spread out.
func (s *Store) backoff(attempt int) time.Duration {
	d := min(s.opts.minBackoff<<min(attempt-1, 16), s.opts.maxBackoff)
	return d/2 + rand.N(d/2+1)
}

func (s *Store) sleep(ctx context.Context, attempt int) error {
	t := time.NewTimer(s.backoff(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Error codes DynamoDB uses when it lacks capacity. The SDK's standard
// retryer has already retried them when the adapter sees one.
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"LimitExceededException":                 true,
	"TransactionInProgressException":         true,
}

// apiError gives an SDK error the port's meaning, keeping the original in
// the chain: validation → ErrInvalid, lack of capacity → ErrThrottled.
func (s *Store) apiError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	switch code := api.ErrorCode(); {
	case code == "ValidationException":
		return fmt.Errorf("%w: DynamoDB refused the request: %w", store.ErrInvalid, err)
	case throttleCodes[code]:
		return fmt.Errorf("%w: DynamoDB lacked capacity for table %s even after the SDK's retries (%s); retry later or raise the table's capacity: %w",
			store.ErrThrottled, s.table, code, err)
	case code == "ResourceNotFoundException":
		return fmt.Errorf("table %s not found (EnsureTable creates it; in AWS the CDK stack does): %w", s.table, err)
	}
	return err
}
