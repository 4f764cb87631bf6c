package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DeleteExpired deletes every item whose ttl is at or before now and
// returns how many it deleted. In AWS, DynamoDB's TTL process does this on
// its own (within days of expiry, usually minutes); DeleteExpired is for
// DynamoDB-compatible servers without TTL (moto, DynamoDB Local) and for
// tests. It Scans the whole table, so it belongs in a periodic sweep, never
// on a hot path. Each deletion is conditional on the item still being
// expired, so an item renewed meanwhile survives; the stream announces each
// deletion as TTL's would.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("#ttl <= :now"),
		ProjectionExpression:      aws.String("#pk, #sk"),
		ExpressionAttributeNames:  map[string]string{"#ttl": AttrTTL, "#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": attrN(now.Unix())},
	}
	for {
		out, err := s.client.Scan(ctx, in)
		if err != nil {
			return deleted, fmt.Errorf("delete expired items: scan: %w", s.apiError(ctx, err))
		}
		for _, key := range out.Items {
			ok, err := s.deleteIfExpired(ctx, key, now)
			if err != nil {
				return deleted, fmt.Errorf("delete expired items: %w", err)
			}
			if ok {
				deleted++
			}
		}
		if out.LastEvaluatedKey == nil {
			return deleted, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (s *Store) deleteIfExpired(ctx context.Context, key map[string]types.AttributeValue, now time.Time) (bool, error) {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key,
		ConditionExpression:       aws.String("#ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": attrN(now.Unix())},
	})
	if isCode(err, "ConditionalCheckFailedException") {
		return false, nil
	}
	if err != nil {
		return false, s.apiError(ctx, err)
	}
	return true, nil
}
