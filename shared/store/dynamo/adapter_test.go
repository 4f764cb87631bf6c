package dynamo_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func key(pk, sk string) store.Key { return store.Key{PK: pk, SK: sk} }

func put(k store.Key, expect int64) store.Write {
	return store.Write{Op: store.Put, Item: store.Item{Key: k, Data: []byte(`{}`)}, Expect: expect}
}

func mustTransact(t *testing.T, s store.Store, writes ...store.Write) {
	t.Helper()
	if err := s.Transact(t.Context(), writes); err != nil {
		t.Fatalf("Transact: %v", err)
	}
}

// TestConflictNamesTheWriteAsGiven checks the index of a failed condition
// when unconditional checks, which the adapter leaves out of the
// TransactWriteItems request, come before it.
func TestConflictNamesTheWriteAsGiven(t *testing.T) {
	_, s := newStore(t)
	a, b, c := key("p", "a"), key("p", "b"), key("p", "c")
	mustTransact(t, s, put(a, 0), put(b, 0))
	err := s.Transact(t.Context(), []store.Write{
		{Op: store.Check, Key: a, Expect: store.AnyVersion},
		{Op: store.Check, Key: key("p", "absent"), Expect: store.AnyVersion},
		put(c, 0),
		{Op: store.Check, Key: key("p", "other"), Expect: store.AnyVersion},
		{Op: store.Delete, Key: b, Expect: 4}, // b is at version 1
	})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Index != 4 || ce.Key != b {
		t.Fatalf("err = %v; want a conflict naming write 4 (%s)", err, b)
	}
	if _, err := s.Get(t.Context(), c); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the cancelled transaction wrote %s: %v", c, err)
	}
	// Only unconditional checks: nothing to send, nothing to fail.
	if err := s.Transact(t.Context(), []store.Write{{Op: store.Check, Key: key("p", "x"), Expect: store.AnyVersion}}); err != nil {
		t.Fatalf("a transaction of unconditional checks: %v", err)
	}
}

// forge rewrites a cursor's JSON parts.
func forge(t *testing.T, cursor string, edit func(parts []string) []string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatalf("cursor %q is not base64url: %v", cursor, err)
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil {
		t.Fatalf("cursor %q is not a JSON array: %v", cursor, err)
	}
	b, _ := json.Marshal(edit(parts))
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestForgedCursorsAreInvalid(t *testing.T) {
	_, s := newStore(t)
	var writes []store.Write
	for _, sk := range []string{"a1", "a2", "a3", "b1"} {
		w := put(key("p", sk), 0)
		w.Item.GSI1 = key("g", "x"+sk)
		writes = append(writes, w)
	}
	mustTransact(t, s, writes...)
	_, base, err := s.Query(t.Context(), store.Query{PK: "p", Prefix: "a", Limit: 1})
	if err != nil || base == "" {
		t.Fatalf("base page: cursor %q, err %v", base, err)
	}
	_, gsi, err := s.Query(t.Context(), store.Query{Index: store.GSI1, PK: "g", Limit: 1})
	if err != nil || gsi == "" {
		t.Fatalf("index page: cursor %q, err %v", gsi, err)
	}
	// The genuine cursors resume.
	if page, _, err := s.Query(t.Context(), store.Query{PK: "p", Prefix: "a", Limit: 1, Cursor: base}); err != nil || len(page) != 1 || page[0].SK != "a2" {
		t.Fatalf("resuming the base cursor: %v, %v", page, err)
	}
	cases := []struct {
		name   string
		q      store.Query
		cursor string
	}{
		{"not base64", store.Query{PK: "p"}, "!!"},
		{"not JSON", store.Query{PK: "p"}, base64.RawURLEncoding.EncodeToString([]byte("p|a1"))},
		{"another partition", store.Query{PK: "p", Prefix: "a"}, forge(t, base, func(p []string) []string { p[1] = "q"; return p })},
		{"outside the prefix", store.Query{PK: "p", Prefix: "a"}, forge(t, base, func(p []string) []string { p[2] = "b1"; return p })},
		{"an empty sort key", store.Query{PK: "p"}, forge(t, base, func(p []string) []string { p[2] = ""; return p })},
		{"a part missing", store.Query{PK: "p"}, forge(t, base, func(p []string) []string { return p[:2] })},
		{"a part too many", store.Query{PK: "p"}, forge(t, base, func(p []string) []string { return append(p, "x") })},
		{"the base cursor on an index", store.Query{Index: store.GSI1, PK: "p"}, base},
		{"an index cursor on the base", store.Query{PK: "g"}, gsi},
		{"an index cursor naming a reserved partition", store.Query{Index: store.GSI1, PK: "g"},
			forge(t, gsi, func(p []string) []string { p[3] = dynamo.CheckpointPK("publisher"); return p })},
		{"an oversized sort key", store.Query{PK: "p"}, forge(t, base, func(p []string) []string { p[2] = strings.Repeat("a", 2000); return p })},
	}
	for _, c := range cases {
		c.q.Cursor = c.cursor
		if _, _, err := s.Query(t.Context(), c.q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v; want ErrInvalid", c.name, err)
		}
	}
}

// TestFullLastPageHasNoCursor: a page that ends the partition exactly says
// so, rather than handing out a cursor to an empty page.
func TestFullLastPageHasNoCursor(t *testing.T) {
	_, s := newStore(t)
	mustTransact(t, s, put(key("p", "a"), 0), put(key("p", "b"), 0), put(key("p", "c"), 0))
	for _, reverse := range []bool{false, true} {
		page, next, err := s.Query(t.Context(), store.Query{PK: "p", Limit: 3, Reverse: reverse})
		if err != nil || len(page) != 3 || next != "" {
			t.Fatalf("reverse=%v: %d items, cursor %q, %v; want all 3 and no cursor", reverse, len(page), next, err)
		}
		page, next, err = s.Query(t.Context(), store.Query{PK: "p", Limit: 2, Reverse: reverse})
		if err != nil || len(page) != 2 || next == "" {
			t.Fatalf("reverse=%v: %d items, cursor %q, %v; want 2 and a cursor", reverse, len(page), next, err)
		}
		page, next, err = s.Query(t.Context(), store.Query{PK: "p", Limit: 2, Reverse: reverse, Cursor: next})
		if err != nil || len(page) != 1 || next != "" {
			t.Fatalf("reverse=%v: second page %d items, cursor %q, %v; want 1 and no cursor", reverse, len(page), next, err)
		}
	}
}

func TestReservedPartitionIsRefused(t *testing.T) {
	_, s := newStore(t)
	k := key(dynamo.CheckpointPK("publisher"), "shard")
	if err := s.Transact(t.Context(), []store.Write{put(k, 0)}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Transact on %s: err = %v; want ErrInvalid", k, err)
	}
	if _, err := s.Get(t.Context(), k); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Get of %s: err = %v; want ErrInvalid", k, err)
	}
	if _, _, err := s.Query(t.Context(), store.Query{PK: k.PK}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Query of %s: err = %v; want ErrInvalid", k.PK, err)
	}
}

func TestHalfAnIndexKeyIsRefused(t *testing.T) {
	_, s := newStore(t)
	w := put(key("p", "a"), 0)
	w.Item.GSI2 = key("only-pk", "")
	if err := s.Transact(t.Context(), []store.Write{w}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v; want ErrInvalid for an index key with one part", err)
	}
}

// TestUnconditionalPutMatchesAPut: a blind write (an Update) leaves exactly
// what a Put would: attributes the new item lacks are removed.
func TestUnconditionalPutMatchesAPut(t *testing.T) {
	srv, s := newStore(t)
	k := key("p", "a")
	full := store.Item{Key: k, Data: []byte(`{"n":1}`), GSI1: key("g1", "s"), GSI2: key("g2", "s"), ExpiresAt: 4102444800}
	mustTransact(t, s, store.Write{Op: store.Put, Item: full, Expect: 0})
	bare := store.Item{Key: k, Data: []byte(`{"n":2}`)}
	mustTransact(t, s, store.Write{Op: store.Put, Item: bare, Expect: store.AnyVersion})
	out, err := srv.DynamoDB().GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(s.Table()), Key: map[string]types.AttributeValue{
			dynamo.AttrPK: &types.AttributeValueMemberS{Value: k.PK}, dynamo.AttrSK: &types.AttributeValueMemberS{Value: k.SK},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range out.Item {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{dynamo.AttrPK, dynamo.AttrSK, dynamo.AttrData, dynamo.AttrVersion}; !slices.Equal(names, want) {
		t.Fatalf("stored attributes %v; want %v", names, want)
	}
	if v := out.Item[dynamo.AttrVersion].(*types.AttributeValueMemberN).Value; v != "2" {
		t.Fatalf("version %s; want 2", v)
	}
}

func TestEnsureTable(t *testing.T) {
	srv, s := newStore(t) // EnsureTable created it
	client := srv.DynamoDB()
	if err := s.EnsureTable(t.Context()); err != nil {
		t.Fatalf("EnsureTable on the existing table: %v", err)
	}
	desc, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(s.Table())})
	if err != nil {
		t.Fatal(err)
	}
	d := desc.Table
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode %+v; want PAY_PER_REQUEST", d.BillingModeSummary)
	}
	if d.StreamSpecification == nil || d.StreamSpecification.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Errorf("stream %+v; want NEW_AND_OLD_IMAGES", d.StreamSpecification)
	}
	var indexes []string
	for _, g := range d.GlobalSecondaryIndexes {
		indexes = append(indexes, aws.ToString(g.IndexName)+":"+aws.ToString(g.KeySchema[0].AttributeName)+"/"+aws.ToString(g.KeySchema[1].AttributeName)+":"+string(g.Projection.ProjectionType))
	}
	slices.Sort(indexes)
	if want := []string{"gsi1:GSI1PK/GSI1SK:ALL", "gsi2:GSI2PK/GSI2SK:ALL"}; !slices.Equal(indexes, want) {
		t.Errorf("indexes %v; want %v", indexes, want)
	}
	ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.Table())})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != dynamo.AttrTTL {
		t.Errorf("TTL %+v; want ENABLED on %q", ttl.TimeToLiveDescription, dynamo.AttrTTL)
	}
}

func TestEnsureTableRefusesAnotherLayout(t *testing.T) {
	srv := dynamotest.Shared(t)
	client := srv.DynamoDB()
	name := dynamotest.TableName(t)
	_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	err = dynamo.New(client, name, quiet()...).EnsureTable(t.Context())
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "key schema") {
		t.Fatalf("err = %v; want ErrInvalid naming the key schema", err)
	}
}

// TestFeedSurvivesFailedTransactions: a failed transaction between two
// reads of the stream announces nothing, and later commits still arrive.
// (On moto this relies on dynamotest's fidelity transport.)
func TestFeedSurvivesFailedTransactions(t *testing.T) {
	srv, s := newStore(t)
	feed := dynamo.NewFeed(s, srv.Streams(), "publisher", fastFeed...)
	var mu sync.Mutex
	var got []store.Key
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- feed.Run(ctx, func(_ context.Context, cs []store.Change) error {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range cs {
				got = append(got, c.Key)
			}
			return nil
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()
	seen := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n }
	}
	mustTransact(t, s, put(key("p", "first"), 0))
	eventually(t, "the first commit is delivered", seen(1))
	err := s.Transact(t.Context(), []store.Write{put(key("p", "phantom"), 0), put(key("p", "first"), 9)})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v; want a conflict", err)
	}
	mustTransact(t, s, put(key("p", "second"), 0))
	eventually(t, "the second commit is delivered", seen(2))
	mu.Lock()
	defer mu.Unlock()
	if want := []store.Key{key("p", "first"), key("p", "second")}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v; want %v", got, want)
	}
}

func TestFeedRefusesASecondRun(t *testing.T) {
	srv, s := newStore(t)
	feed := dynamo.NewFeed(s, srv.Streams(), "publisher", fastFeed...)
	ctx, cancel := context.WithCancel(t.Context())
	delivered := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- feed.Run(ctx, func(context.Context, []store.Change) error {
			once.Do(func() { close(delivered) })
			return nil
		})
	}()
	mustTransact(t, s, put(key("p", "a"), 0))
	select {
	case <-delivered:
	case <-time.After(20 * time.Second):
		t.Fatal("the feed delivered nothing within 20s")
	}
	if err := feed.Run(ctx, func(context.Context, []store.Change) error { return nil }); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a second Run while the first runs: err = %v; want ErrInvalid", err)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if err := dynamo.NewFeed(s, srv.Streams(), "").Run(t.Context(), nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a feed without a consumer name: err = %v; want ErrInvalid", err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
