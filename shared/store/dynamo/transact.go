package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/berth-run/berth/shared/store"
)

// Transact applies writes atomically with one TransactWriteItems call.
//
// Each write's Expect becomes a condition on the item's version attribute;
// a Put with AnyVersion becomes an Update that bumps the version whatever
// it was; a Check with AnyVersion asserts nothing and is left out. A write
// whose condition fails cancels the transaction and comes back as a
// *store.ConflictError naming it. Cancellation by a concurrent transaction
// on the same items, or for lack of capacity, is retried a few times, then
// reported as store.ErrConflict or store.ErrThrottled.
//
// Idempotency: the SDK gives each call a fresh ClientRequestToken and
// reuses it for its own retries, so a retry after a lost response cannot
// apply the writes twice. A token derived from the writes would be wrong:
// two identical transactions (create, delete, create again within ten
// minutes) are distinct intents, and DynamoDB would silently skip the
// second as a duplicate.
func (s *Store) Transact(ctx context.Context, writes []store.Write) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validateWrites(writes); err != nil {
		return fmt.Errorf("transact: %w", err)
	}
	items, positions := transactItems(s.table, writes)
	if len(items) == 0 {
		return nil // only unconditional checks: nothing to assert or write
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	for attempt := 1; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return fmt.Errorf("transact %d writes: %w", len(writes), s.apiError(ctx, err))
		}
		c := classify(canceled.CancellationReasons)
		switch {
		case c.conditionFailed >= 0:
			i := positions[c.conditionFailed]
			return &store.ConflictError{Index: i, Key: writes[i].Target()}
		case c.invalid != "":
			return fmt.Errorf("transact %d writes: %w: DynamoDB refused write %d: %s",
				len(writes), store.ErrInvalid, positions[c.invalidAt], c.invalid)
		case !c.retryable:
			return fmt.Errorf("transact %d writes: %w", len(writes), err)
		case attempt > s.opts.retries:
			if c.throttled {
				return fmt.Errorf("transact %d writes: %w: DynamoDB lacked capacity for table %s after %d attempts: %w",
					len(writes), store.ErrThrottled, s.table, attempt, err)
			}
			return fmt.Errorf("transact %d writes: %w: still colliding with concurrent transactions after %d attempts: %w",
				len(writes), store.ErrConflict, attempt, err)
		}
		s.log.Debug("transaction cancelled; retrying", "attempt", attempt, "reasons", c.codes)
		if err := s.sleep(ctx, attempt); err != nil {
			return err
		}
	}
}

// cancellation is what a TransactionCanceledException's reasons mean.
type cancellation struct {
	conditionFailed int // the first ConditionalCheckFailed item, or -1
	invalid         string
	invalidAt       int
	retryable       bool // only conflicts with other transactions or throttling
	throttled       bool
	codes           []string
}

func classify(reasons []types.CancellationReason) cancellation {
	c := cancellation{conditionFailed: -1, retryable: true}
	nonNone := 0
	for i, r := range reasons {
		code := aws.ToString(r.Code)
		c.codes = append(c.codes, code)
		switch code {
		case "", "None":
			continue
		case "ConditionalCheckFailed":
			if c.conditionFailed < 0 {
				c.conditionFailed = i
			}
		case "TransactionConflict":
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			c.throttled = true
		case "ValidationError", "ItemCollectionSizeLimitExceeded":
			if c.invalid == "" {
				c.invalid, c.invalidAt = code+": "+aws.ToString(r.Message), i
			}
		default:
			c.retryable = false
		}
		nonNone++
	}
	if nonNone == 0 {
		c.retryable = false // no reason given: nothing says a retry helps
	}
	return c
}

// validateWrites adds DynamoDB's limits to the port's shared rules.
func validateWrites(writes []store.Write) error {
	if err := store.ValidateWrites(writes); err != nil {
		return err
	}
	total := 0
	for i, w := range writes {
		if err := validateKey(w.Target()); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		if w.Op != store.Put {
			continue
		}
		if err := validateIndexKey(IndexGSI1, w.Item.GSI1); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		if err := validateIndexKey(IndexGSI2, w.Item.GSI2); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		if w.Item.ExpiresAt < 0 {
			return fmt.Errorf("write %d: %w: ExpiresAt %d is not a Unix time", i, store.ErrInvalid, w.Item.ExpiresAt)
		}
		total += store.ItemSize(w.Item)
	}
	if total > MaxTransactBytes {
		return fmt.Errorf("%w: the transaction's items total %d bytes, over DynamoDB's %d", store.ErrTooLarge, total, MaxTransactBytes)
	}
	return nil
}

// transactItems turns writes into TransactWriteItems entries, and says for
// each entry which write it came from.
func transactItems(table string, writes []store.Write) ([]types.TransactWriteItem, []int) {
	items := make([]types.TransactWriteItem, 0, len(writes))
	positions := make([]int, 0, len(writes))
	for i, w := range writes {
		item, ok := transactItem(table, w)
		if !ok {
			continue
		}
		items = append(items, item)
		positions = append(positions, i)
	}
	return items, positions
}

func transactItem(table string, w store.Write) (types.TransactWriteItem, bool) {
	tbl := aws.String(table)
	cond := versionCondition(w.Expect)
	switch w.Op {
	case store.Put:
		if w.Expect == store.AnyVersion {
			return types.TransactWriteItem{Update: blindUpdate(table, w.Item)}, true
		}
		return types.TransactWriteItem{Put: &types.Put{
			TableName:                 tbl,
			Item:                      itemAttrs(w.Item, w.Expect+1),
			ConditionExpression:       cond.expr,
			ExpressionAttributeNames:  cond.names,
			ExpressionAttributeValues: cond.values,
		}}, true
	case store.Delete:
		return types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 tbl,
			Key:                       keyAttrs(w.Key),
			ConditionExpression:       cond.expr,
			ExpressionAttributeNames:  cond.names,
			ExpressionAttributeValues: cond.values,
		}}, true
	case store.Check:
		if w.Expect == store.AnyVersion {
			return types.TransactWriteItem{}, false
		}
		return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName:                 tbl,
			Key:                       keyAttrs(w.Key),
			ConditionExpression:       cond.expr,
			ExpressionAttributeNames:  cond.names,
			ExpressionAttributeValues: cond.values,
		}}, true
	}
	return types.TransactWriteItem{}, false // ValidateWrites refused other ops
}

// condition is a condition expression with its placeholders; a nil expr
// means none.
type condition struct {
	expr   *string
	names  map[string]string
	values map[string]types.AttributeValue
}

func versionCondition(expect int64) condition {
	switch {
	case expect == store.AnyVersion:
		return condition{}
	case expect == 0:
		return condition{
			expr:  aws.String("attribute_not_exists(#pk)"),
			names: map[string]string{"#pk": AttrPK},
		}
	default:
		return condition{
			expr:   aws.String("#v = :expect"),
			names:  map[string]string{"#v": AttrVersion},
			values: map[string]types.AttributeValue{":expect": attrN(expect)},
		}
	}
}

// blindUpdate writes every attribute of it whatever the stored version,
// bumping the version from what it was (0 when the item is new) and
// removing the index and ttl attributes the new item lacks, so the result
// is exactly it, as a Put would leave it.
func blindUpdate(table string, it store.Item) *types.Update {
	names := map[string]string{"#v": AttrVersion, "#d": AttrData}
	values := map[string]types.AttributeValue{
		":zero": attrN(0),
		":one":  attrN(1),
		":d":    attrS(string(it.Data)),
	}
	set := []string{"#v = if_not_exists(#v, :zero) + :one", "#d = :d"}
	var remove []string
	assign := func(placeholder, attr string, v types.AttributeValue, present bool) {
		names[placeholder] = attr
		if present {
			values[":"+placeholder[1:]] = v
			set = append(set, placeholder+" = :"+placeholder[1:])
			return
		}
		remove = append(remove, placeholder)
	}
	assign("#g1pk", AttrGSI1PK, attrS(it.GSI1.PK), inIndex(it.GSI1))
	assign("#g1sk", AttrGSI1SK, attrS(it.GSI1.SK), inIndex(it.GSI1))
	assign("#g2pk", AttrGSI2PK, attrS(it.GSI2.PK), inIndex(it.GSI2))
	assign("#g2sk", AttrGSI2SK, attrS(it.GSI2.SK), inIndex(it.GSI2))
	assign("#ttl", AttrTTL, attrN(it.ExpiresAt), it.ExpiresAt > 0)
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	return &types.Update{
		TableName:                 aws.String(table),
		Key:                       keyAttrs(it.Key),
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}
