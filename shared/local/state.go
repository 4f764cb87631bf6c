package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
	"github.com/berth-run/berth/shared/store/dynamo"
)

// Store backends berth up can run on.
const (
	StoreEmbedded = "embedded"
	StoreDynamoDB = "dynamodb"
)

// state is the plane's store with what the plane does beside it: reading
// its change feed, expiring stopped tasks (DynamoDB's TTL does that in AWS,
// but neither bbolt nor DynamoDB Local nor moto do), and closing it.
type state struct {
	store.Store
	feed   store.ChangeFeed
	expire func(ctx context.Context, now time.Time) (int, error)
	close  func() error
}

// openState opens the configured store: a bbolt file in the data
// directory, or a DynamoDB table (created if absent) at the endpoint the
// standard AWS_ENDPOINT_URL_DYNAMODB names.
func openState(ctx context.Context, cfg Config) (*state, error) {
	switch cfg.Store {
	case "", StoreEmbedded:
		return openEmbedded(cfg)
	case StoreDynamoDB:
		return openDynamoDB(ctx, cfg)
	}
	return nil, fmt.Errorf("store %q is not one of %s, %s", cfg.Store, StoreEmbedded, StoreDynamoDB)
}

func openEmbedded(cfg Config) (*state, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	st, err := bolt.Open(filepath.Join(cfg.DataDir, "berth.db"), bolt.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	}
	return &state{Store: st, feed: st.Feed(), expire: st.DeleteExpired, close: st.Close}, nil
}

func openDynamoDB(ctx context.Context, cfg Config) (*state, error) {
	if cfg.Table == "" {
		return nil, errors.New("the dynamodb store needs a table name (--table)")
	}
	awsCfg, err := awsConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st := dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, dynamo.WithLogger(cfg.Logger))
	if err := st.EnsureTable(ctx); err != nil {
		return nil, fmt.Errorf("table %s: %w", cfg.Table, err)
	}
	streams := dynamodbstreams.NewFromConfig(awsCfg, func(o *dynamodbstreams.Options) {
		if o.BaseEndpoint == nil {
			o.BaseEndpoint = streamsEndpoint()
		}
	})
	feed := dynamo.NewFeed(st, streams, "berth-up")
	return &state{Store: st, feed: feed, expire: st.DeleteExpired, close: func() error { return nil }}, nil
}

// awsConfig is the AWS configuration of the dynamodb store: cfg.AWS when
// given, else the standard chain (environment, shared files), which honours
// AWS_ENDPOINT_URL_DYNAMODB.
func awsConfig(ctx context.Context, cfg Config) (aws.Config, error) {
	if cfg.AWS != nil {
		return *cfg.AWS, nil
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Account.Region))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return awsCfg, nil
}

// streamsEndpoint is where DynamoDB Streams is when only DynamoDB's
// endpoint is configured: DynamoDB Local and moto serve both on one port.
func streamsEndpoint() *string {
	if v := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS"); v != "" {
		return aws.String(v)
	}
	if v := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); v != "" {
		return aws.String(v)
	}
	return nil
}
