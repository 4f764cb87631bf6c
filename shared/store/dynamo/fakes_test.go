package dynamo_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
)

// fakeDynamo answers the calls a test sets up; any other call panics
// through the nil embedded interface.
type fakeDynamo struct {
	dynamo.DynamoAPI
	mu       sync.Mutex
	transact func(call int, in *dynamodb.TransactWriteItemsInput) error
	batchGet func(call int, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error)
	getItem  error
	query    *dynamodb.QueryOutput
	calls    int
}

func (f *fakeDynamo) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return f.query, nil
}

func (f *fakeDynamo) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return &dynamodb.TransactWriteItemsOutput{}, f.transact(f.calls, in)
}

func (f *fakeDynamo) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.batchGet(f.calls, in)
}

func (f *fakeDynamo) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, f.getItem
}

func fakeStore(f *fakeDynamo) *dynamo.Store {
	return dynamo.NewWithAPI(f, "berth", quiet(dynamo.WithRetries(3))...)
}

func canceled(codes ...string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		reasons[i] = types.CancellationReason{Code: aws.String(c), Message: aws.String(c + " in the fake")}
	}
	return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
}

func twoPuts() []store.Write { return []store.Write{put(key("p", "a"), 0), put(key("p", "b"), 1)} }

func TestTransactionConflictsAreRetried(t *testing.T) {
	f := &fakeDynamo{transact: func(call int, _ *dynamodb.TransactWriteItemsInput) error {
		if call < 3 {
			return canceled("None", "TransactionConflict")
		}
		return nil
	}}
	if err := fakeStore(f).Transact(t.Context(), twoPuts()); err != nil {
		t.Fatalf("Transact: %v", err)
	}
	if f.calls != 3 {
		t.Fatalf("%d calls; want 3 (two conflicts, then success)", f.calls)
	}
}

func TestCancellationsAfterRetries(t *testing.T) {
	cases := []struct {
		name    string
		codes   []string
		want    error
		calls   int
		noIndex bool
	}{
		{"transaction conflicts", []string{"TransactionConflict", "None"}, store.ErrConflict, 4, true},
		{"throttling", []string{"None", "ThrottlingError"}, store.ErrThrottled, 4, true},
		{"provisioned throughput", []string{"ProvisionedThroughputExceeded", "None"}, store.ErrThrottled, 4, true},
		{"a condition beats a conflict", []string{"TransactionConflict", "ConditionalCheckFailed"}, store.ErrConflict, 1, false},
		{"validation", []string{"None", "ValidationError"}, store.ErrInvalid, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDynamo{transact: func(int, *dynamodb.TransactWriteItemsInput) error { return canceled(c.codes...) }}
			err := fakeStore(f).Transact(t.Context(), twoPuts())
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v; want %v", err, c.want)
			}
			var ce *store.ConflictError
			if errors.As(err, &ce) == c.noIndex {
				t.Fatalf("err = %v: a *ConflictError only when a condition failed", err)
			}
			if ce != nil && (ce.Index != 1 || ce.Key != key("p", "b")) {
				t.Fatalf("conflict names write %d (%s); want 1 (p|b)", ce.Index, ce.Key)
			}
			if f.calls != c.calls {
				t.Fatalf("%d calls; want %d", f.calls, c.calls)
			}
		})
	}
}

func TestAPIErrorsGetThePortsMeaning(t *testing.T) {
	cases := []struct {
		code, say string
		want      error
	}{
		{"ProvisionedThroughputExceededException", "lacked capacity", store.ErrThrottled},
		{"ThrottlingException", "lacked capacity", store.ErrThrottled},
		{"RequestLimitExceeded", "lacked capacity", store.ErrThrottled},
		{"ValidationException", "refused the request", store.ErrInvalid},
		{"ResourceNotFoundException", "EnsureTable", nil},
	}
	for _, c := range cases {
		f := &fakeDynamo{getItem: &smithy.GenericAPIError{Code: c.code, Message: "from the fake"}}
		_, err := fakeStore(f).Get(t.Context(), key("p", "a"))
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s: err = %v; want %v saying %q", c.code, err, c.want, c.say)
		}
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != c.code {
			t.Errorf("%s: the SDK's error is not kept in the chain: %v", c.code, err)
		}
	}
}

func TestTransactRequest(t *testing.T) {
	var got *dynamodb.TransactWriteItemsInput
	f := &fakeDynamo{transact: func(_ int, in *dynamodb.TransactWriteItemsInput) error { got = in; return nil }}
	full := store.Item{Key: key("p", "blind"), Data: []byte(`{}`), GSI1: key("g", "1")}
	err := fakeStore(f).Transact(t.Context(), []store.Write{
		put(key("p", "new"), 0),
		put(key("p", "old"), 3),
		{Op: store.Put, Item: full, Expect: store.AnyVersion},
		{Op: store.Delete, Key: key("p", "gone"), Expect: store.AnyVersion},
		{Op: store.Check, Key: key("p", "checked"), Expect: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientRequestToken != nil {
		t.Errorf("ClientRequestToken %q; want none, so the SDK makes one per call", *got.ClientRequestToken)
	}
	items := got.TransactItems
	if len(items) != 5 {
		t.Fatalf("%d transact items; want 5", len(items))
	}
	version := func(attrs map[string]types.AttributeValue) string {
		return attrs[dynamo.AttrVersion].(*types.AttributeValueMemberN).Value
	}
	if p := items[0].Put; p == nil || aws.ToString(p.ConditionExpression) != "attribute_not_exists(#pk)" || version(p.Item) != "1" {
		t.Errorf("create: %+v; want a Put at version 1 on condition that the item is absent", p)
	}
	if p := items[1].Put; p == nil || aws.ToString(p.ConditionExpression) != "#v = :expect" || version(p.Item) != "4" ||
		p.ExpressionAttributeValues[":expect"].(*types.AttributeValueMemberN).Value != "3" {
		t.Errorf("replace: %+v; want a Put at version 4 on condition v = 3", p)
	}
	if u := items[2].Update; u == nil || u.ConditionExpression != nil ||
		!strings.Contains(aws.ToString(u.UpdateExpression), "if_not_exists(#v, :zero) + :one") ||
		!strings.Contains(aws.ToString(u.UpdateExpression), "REMOVE #g2pk, #g2sk, #ttl") {
		t.Errorf("blind write: %+v; want an unconditional Update bumping v and removing the absent attributes", u)
	}
	if d := items[3].Delete; d == nil || d.ConditionExpression != nil {
		t.Errorf("blind delete: %+v; want an unconditional Delete", d)
	}
	if c := items[4].ConditionCheck; c == nil || aws.ToString(c.ConditionExpression) != "#v = :expect" {
		t.Errorf("check: %+v; want a ConditionCheck on v", c)
	}
}

func TestBatchGetRetriesUnprocessedKeys(t *testing.T) {
	item := func(sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			dynamo.AttrPK: &types.AttributeValueMemberS{Value: "p"}, dynamo.AttrSK: &types.AttributeValueMemberS{Value: sk},
			dynamo.AttrVersion: &types.AttributeValueMemberN{Value: "1"}, dynamo.AttrData: &types.AttributeValueMemberS{Value: "{}"},
		}
	}
	keyOf := func(sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{dynamo.AttrPK: &types.AttributeValueMemberS{Value: "p"}, dynamo.AttrSK: &types.AttributeValueMemberS{Value: sk}}
	}
	var second []map[string]types.AttributeValue
	f := &fakeDynamo{batchGet: func(call int, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		if !aws.ToBool(in.RequestItems["berth"].ConsistentRead) {
			t.Errorf("call %d reads eventually consistently", call)
		}
		if call == 1 {
			return &dynamodb.BatchGetItemOutput{
				Responses:       map[string][]map[string]types.AttributeValue{"berth": {item("c"), item("a")}},
				UnprocessedKeys: map[string]types.KeysAndAttributes{"berth": {Keys: []map[string]types.AttributeValue{keyOf("b")}}},
			}, nil
		}
		second = in.RequestItems["berth"].Keys
		return &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{"berth": {item("b")}}}, nil
	}}
	got, err := fakeStore(f).BatchGet(t.Context(), []store.Key{key("p", "b"), key("p", "missing"), key("p", "a"), key("p", "c")})
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != 1 || second[0][dynamo.AttrSK].(*types.AttributeValueMemberS).Value != "b" {
		t.Fatalf("the retry asked for %v; want only the unprocessed key p|b", second)
	}
	var sks []string
	for _, it := range got {
		sks = append(sks, it.SK)
	}
	if strings.Join(sks, ",") != "b,a,c" {
		t.Fatalf("items %v; want b,a,c: those that exist, in the order asked", sks)
	}

	stuck := &fakeDynamo{batchGet: func(_ int, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
	}}
	if _, err := fakeStore(stuck).BatchGet(t.Context(), []store.Key{key("p", "a")}); !errors.Is(err, store.ErrThrottled) {
		t.Fatalf("keys never processed: err = %v; want ErrThrottled", err)
	}
	if stuck.calls != 4 {
		t.Fatalf("%d calls; want 4 (WithRetries(3) after the first)", stuck.calls)
	}
}
