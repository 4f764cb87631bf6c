package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/berth-run/berth/shared/store"
)

// TableDefinition is Berth's table as a CreateTable request: the key
// schema, two sparse GSIs projecting every attribute, on-demand billing and
// a stream of new and old images. EnsureTable creates it; docs/store.md
// documents it for the CDK stack, whose tests may compare against it.
func TableDefinition(table string) *dynamodb.CreateTableInput {
	str := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	gsi := func(name, pk, sk string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName:  aws.String(name),
			KeySchema:  keys(pk, sk),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			str(AttrPK), str(AttrSK), str(AttrGSI1PK), str(AttrGSI1SK), str(AttrGSI2PK), str(AttrGSI2SK),
		},
		KeySchema:   keys(AttrPK, AttrSK),
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(IndexGSI1, AttrGSI1PK, AttrGSI1SK),
			gsi(IndexGSI2, AttrGSI2PK, AttrGSI2SK),
		},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}
}

// EnsureTable creates the table with Berth's layout if it does not exist,
// waits until it and its indexes are ACTIVE, and turns TTL on for the ttl
// attribute. An existing table whose keys, indexes or stream differ from
// the layout is an error naming the difference: the adapter would misbehave
// on it.
func (s *Store) EnsureTable(ctx context.Context) error {
	desc, err := s.describeTable(ctx)
	if err != nil {
		return fmt.Errorf("ensure table %s: %w", s.table, err)
	}
	if desc == nil {
		if _, err := s.client.CreateTable(ctx, TableDefinition(s.table)); err != nil && !isCode(err, "ResourceInUseException") {
			return fmt.Errorf("create table %s: %w", s.table, s.apiError(ctx, err))
		}
		s.log.Info("created DynamoDB table")
	}
	if desc, err = s.awaitActive(ctx); err != nil {
		return fmt.Errorf("ensure table %s: %w", s.table, err)
	}
	if err := checkLayout(desc); err != nil {
		return fmt.Errorf("ensure table %s: %w", s.table, err)
	}
	if err := s.ensureTTL(ctx); err != nil {
		return fmt.Errorf("ensure table %s: %w", s.table, err)
	}
	return nil
}

// describeTable returns nil when the table does not exist.
func (s *Store) describeTable(ctx context.Context) (*types.TableDescription, error) {
	out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if isCode(err, "ResourceNotFoundException") {
		return nil, nil
	}
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	return out.Table, nil
}

func (s *Store) awaitActive(ctx context.Context) (*types.TableDescription, error) {
	for {
		desc, err := s.describeTable(ctx)
		if err != nil {
			return nil, err
		}
		if desc == nil {
			return nil, errors.New("the table disappeared while waiting for it to become ACTIVE")
		}
		if active(desc) {
			return desc, nil
		}
		t := time.NewTimer(s.opts.tableReadyPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the table to become ACTIVE: %w", ctx.Err())
		}
	}
}

func active(d *types.TableDescription) bool {
	if d.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range d.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

// checkLayout compares an existing table with tableDefinition.
func checkLayout(d *types.TableDescription) error {
	want := TableDefinition(aws.ToString(d.TableName))
	if !sameKeys(d.KeySchema, want.KeySchema) {
		return fmt.Errorf("%w: key schema %s; Berth needs %s", store.ErrInvalid, describeKeys(d.KeySchema), describeKeys(want.KeySchema))
	}
	for _, w := range want.GlobalSecondaryIndexes {
		i := slices.IndexFunc(d.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(g.IndexName) == aws.ToString(w.IndexName)
		})
		if i < 0 {
			return fmt.Errorf("%w: index %s is missing", store.ErrInvalid, aws.ToString(w.IndexName))
		}
		g := d.GlobalSecondaryIndexes[i]
		if !sameKeys(g.KeySchema, w.KeySchema) {
			return fmt.Errorf("%w: index %s has key schema %s; Berth needs %s",
				store.ErrInvalid, aws.ToString(w.IndexName), describeKeys(g.KeySchema), describeKeys(w.KeySchema))
		}
		if g.Projection == nil || g.Projection.ProjectionType != types.ProjectionTypeAll {
			return fmt.Errorf("%w: index %s must project ALL attributes", store.ErrInvalid, aws.ToString(w.IndexName))
		}
	}
	spec := d.StreamSpecification
	if spec == nil || !aws.ToBool(spec.StreamEnabled) || spec.StreamViewType != types.StreamViewTypeNewAndOldImages {
		return fmt.Errorf("%w: the table needs a stream of NEW_AND_OLD_IMAGES for the change feed", store.ErrInvalid)
	}
	return nil
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	return slices.EqualFunc(a, b, func(x, y types.KeySchemaElement) bool {
		return aws.ToString(x.AttributeName) == aws.ToString(y.AttributeName) && x.KeyType == y.KeyType
	})
}

func describeKeys(ks []types.KeySchemaElement) string {
	out := ""
	for i, k := range ks {
		if i > 0 {
			out += ", "
		}
		out += aws.ToString(k.AttributeName) + " " + string(k.KeyType)
	}
	return "[" + out + "]"
}

// ensureTTL turns TTL on for the ttl attribute unless it is on already.
func (s *Store) ensureTTL(ctx context.Context) error {
	out, err := s.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.table)})
	if err != nil {
		return fmt.Errorf("describe TTL: %w", s.apiError(ctx, err))
	}
	if d := out.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if name := aws.ToString(d.AttributeName); name != AttrTTL {
				return fmt.Errorf("%w: TTL is on for attribute %q; Berth needs %q", store.ErrInvalid, name, AttrTTL)
			}
			return nil
		}
	}
	_, err = s.client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(s.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("turn TTL on: %w", s.apiError(ctx, err))
	}
	return nil
}

// streamARN is the table's current stream.
func (s *Store) streamARN(ctx context.Context) (string, error) {
	desc, err := s.describeTable(ctx)
	if err != nil {
		return "", err
	}
	if desc == nil {
		return "", fmt.Errorf("table %s not found", s.table)
	}
	if err := checkLayout(desc); err != nil {
		return "", err
	}
	if desc.LatestStreamArn == nil {
		return "", fmt.Errorf("%w: table %s has no stream", store.ErrInvalid, s.table)
	}
	return *desc.LatestStreamArn, nil
}

func isCode(err error, code string) bool {
	var api interface{ ErrorCode() string }
	return err != nil && errors.As(err, &api) && api.ErrorCode() == code
}
