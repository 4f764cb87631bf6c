package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/berth-run/berth/shared/store"
)

// indexSchema names the attributes that key the base table or an index.
type indexSchema struct {
	name   string // "" for the base table
	pk, sk string
}

func schemaOf(ix store.Index) (indexSchema, error) {
	switch ix {
	case store.Base:
		return indexSchema{pk: AttrPK, sk: AttrSK}, nil
	case store.GSI1:
		return indexSchema{name: IndexGSI1, pk: AttrGSI1PK, sk: AttrGSI1SK}, nil
	case store.GSI2:
		return indexSchema{name: IndexGSI2, pk: AttrGSI2PK, sk: AttrGSI2SK}, nil
	}
	return indexSchema{}, fmt.Errorf("%w: unknown index %q", store.ErrInvalid, ix)
}

// cursorAttrs are the attributes of a page's last item that DynamoDB's
// ExclusiveStartKey needs: the index key, then (for an index, whose sort
// keys need not be unique) the table key.
func (x indexSchema) cursorAttrs() []string {
	if x.name == "" {
		return []string{AttrPK, AttrSK}
	}
	return []string{x.pk, x.sk, AttrPK, AttrSK}
}

// Query reads a page of one partition of the table or of an index. Reads of
// the table are strongly consistent; reads of an index are eventually
// consistent (DynamoDB offers nothing else on a GSI).
func (s *Store) Query(ctx context.Context, q store.Query) ([]store.Item, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	in, x, err := s.queryInput(q)
	if err != nil {
		return nil, "", fmt.Errorf("query %q partition %q: %w", q.Index, q.PK, err)
	}
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("query %q partition %q: %w", q.Index, q.PK, s.apiError(ctx, err))
	}
	items := make([]store.Item, 0, len(out.Items))
	for _, attrs := range out.Items {
		it, err := decodeItem(attrs)
		if err != nil {
			return nil, "", fmt.Errorf("query %q partition %q: %w", q.Index, q.PK, err)
		}
		items = append(items, it)
	}
	// One item more than the limit was asked for, so a full page whose
	// partition ends right after it carries no cursor to an empty page.
	if q.Limit > 0 && len(items) > q.Limit {
		items = items[:q.Limit]
		return items, encodeCursor(q.Index, x, itemAttrs(items[q.Limit-1], 0)), nil
	}
	if out.LastEvaluatedKey != nil {
		return items, encodeCursor(q.Index, x, out.LastEvaluatedKey), nil
	}
	return items, "", nil
}

func (s *Store) queryInput(q store.Query) (*dynamodb.QueryInput, indexSchema, error) {
	x, err := schemaOf(q.Index)
	if err != nil {
		return nil, x, err
	}
	switch {
	case q.PK == "":
		return nil, x, fmt.Errorf("%w: empty partition key", store.ErrInvalid)
	case len(q.PK) > MaxPartitionKeyBytes || len(q.Prefix) > MaxSortKeyBytes:
		return nil, x, fmt.Errorf("%w: partition key or prefix over DynamoDB's key limits", store.ErrInvalid)
	case q.Limit < 0:
		return nil, x, fmt.Errorf("%w: negative limit %d", store.ErrInvalid, q.Limit)
	case x.name == "" && reserved(q.PK):
		return nil, x, fmt.Errorf("%w: partition %q is reserved for change-feed checkpoints", store.ErrInvalid, q.PK)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": x.pk},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attrS(q.PK)},
		ScanIndexForward:          aws.Bool(!q.Reverse),
		ConsistentRead:            aws.Bool(x.name == ""),
	}
	if x.name != "" {
		in.IndexName = aws.String(x.name)
	}
	if q.Prefix != "" {
		*in.KeyConditionExpression += " AND begins_with(#sk, :prefix)"
		in.ExpressionAttributeNames["#sk"] = x.sk
		in.ExpressionAttributeValues[":prefix"] = attrS(q.Prefix)
	}
	if q.Limit > 0 {
		in.Limit = aws.Int32(int32(min(q.Limit, 1<<30) + 1))
	}
	if q.Cursor != "" {
		start, err := decodeCursor(q, x)
		if err != nil {
			return nil, x, err
		}
		in.ExclusiveStartKey = start
	}
	return in, x, nil
}

// A cursor is DynamoDB's ExclusiveStartKey, tagged with the index it
// belongs to: the JSON array [index, key strings in cursorAttrs order],
// base64url-encoded. Resuming by key keeps pages free of gaps and repeats
// when items come and go between them.
var cursorEncoding = base64.RawURLEncoding

func encodeCursor(ix store.Index, x indexSchema, key map[string]types.AttributeValue) string {
	parts := []string{string(ix)}
	for _, name := range x.cursorAttrs() {
		v, _ := key[name].(*types.AttributeValueMemberS)
		if v == nil {
			// DynamoDB always returns these; a cursor without them would
			// fail decodeCursor, which is the right outcome.
			parts = append(parts, "")
			continue
		}
		parts = append(parts, v.Value)
	}
	b, _ := json.Marshal(parts) // a slice of strings always marshals
	return cursorEncoding.EncodeToString(b)
}

// decodeCursor checks that a cursor came from a query of the same index,
// partition and prefix, and returns the key the page resumes after.
func decodeCursor(q store.Query, x indexSchema) (map[string]types.AttributeValue, error) {
	invalid := fmt.Errorf("%w: cursor does not belong to a query of index %q partition %q", store.ErrInvalid, q.Index, q.PK)
	raw, err := cursorEncoding.DecodeString(q.Cursor)
	if err != nil {
		return nil, invalid
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, invalid
	}
	names := x.cursorAttrs()
	if len(parts) != 1+len(names) || parts[0] != string(q.Index) {
		return nil, invalid
	}
	key := make(map[string]types.AttributeValue, len(names))
	for i, name := range names {
		v := parts[1+i]
		if v == "" {
			return nil, invalid
		}
		key[name] = attrS(v)
	}
	pk, sk := parts[1], parts[2]
	if pk != q.PK || !strings.HasPrefix(sk, q.Prefix) || len(sk) > MaxSortKeyBytes {
		return nil, invalid
	}
	if x.name != "" {
		if err := validateKey(store.Key{PK: parts[3], SK: parts[4]}); err != nil {
			return nil, invalid
		}
	}
	return key, nil
}
