package dynamo_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
)

func lambdaRecord(id, viewType string, keys, old, new map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{
		EventID:   id,
		EventName: "MODIFY",
		Change:    events.DynamoDBStreamRecord{Keys: keys, OldImage: old, NewImage: new, StreamViewType: viewType, SequenceNumber: "1" + id},
	}
}

func attrs(kv ...string) map[string]events.DynamoDBAttributeValue {
	out := map[string]events.DynamoDBAttributeValue{}
	for i := 0; i+1 < len(kv); i += 2 {
		name, v := kv[i], kv[i+1]
		if name == dynamo.AttrVersion || name == dynamo.AttrTTL {
			out[name] = events.NewNumberAttribute(v)
			continue
		}
		out[name] = events.NewStringAttribute(v)
	}
	return out
}

func TestChangesFromStreamRecordsSkipsWhatIsNotAStoreItem(t *testing.T) {
	const view = "NEW_AND_OLD_IMAGES"
	records := []events.DynamoDBEventRecord{
		// A feed checkpoint of `berth up --store dynamodb` on the same table.
		lambdaRecord("checkpoint", view, attrs("PK", dynamo.CheckpointPK("publisher"), "SK", "shard"), nil, attrs("PK", dynamo.CheckpointPK("publisher"), "SK", "shard", "seq", "42")),
		// An item without a version: not written by the adapter (moto's
		// UpdateItem announces such a keys-only item before the real one).
		lambdaRecord("bare", view, attrs("PK", "p", "SK", "a"), nil, attrs("PK", "p", "SK", "a")),
		lambdaRecord("real", view, nil, attrs("PK", "p", "SK", "a", "v", "1", "d", `{"n":1}`),
			attrs("PK", "p", "SK", "a", "v", "2", "d", `{"n":2}`, "GSI1PK", "g", "GSI1SK", "s", "ttl", "4102444800")),
	}
	got, err := dynamo.ChangesFromStreamRecords(records)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d changes; want only the real one", len(got))
	}
	c := got[0]
	want := store.Item{Key: key("p", "a"), Version: 2, Data: []byte(`{"n":2}`), GSI1: key("g", "s"), ExpiresAt: 4102444800}
	if c.Key != want.Key || c.Old == nil || c.Old.Version != 1 || c.New == nil || c.New.Version != 2 || c.New.GSI1 != want.GSI1 ||
		c.New.ExpiresAt != want.ExpiresAt || string(c.New.Data) != string(want.Data) || c.New.GSI2 != (store.Key{}) {
		t.Fatalf("change %s %+v -> %+v; want %+v from version 1 (key taken from the images)", c.Key, c.Old, c.New, want)
	}
}

func TestChangesFromStreamRecordsRefusesWhatItCannotRead(t *testing.T) {
	item := attrs("PK", "p", "SK", "a", "v", "1", "d", "{}")
	cases := []struct {
		name   string
		record events.DynamoDBEventRecord
		say    string
	}{
		{"keys only stream", lambdaRecord("e1", "KEYS_ONLY", attrs("PK", "p", "SK", "a"), nil, nil), "NEW_AND_OLD_IMAGES"},
		{"version not a number", lambdaRecord("e2", "", nil, nil, attrs("PK", "p", "SK", "a", "d", "{}", "v", "x")), "not an integer"},
		{"version of the wrong type", lambdaRecord("e3", "", nil, nil, map[string]events.DynamoDBAttributeValue{
			"PK": events.NewStringAttribute("p"), "SK": events.NewStringAttribute("a"), "v": events.NewStringAttribute("1"),
		}), "not N"},
		{"half an index key", lambdaRecord("e4", "", nil, nil, attrs("PK", "p", "SK", "a", "v", "1", "GSI2PK", "g")), "together"},
		{"no key", lambdaRecord("e5", "", nil, nil, nil), "no PK and SK"},
		{"data of the wrong type", lambdaRecord("e6", "", nil, item, map[string]events.DynamoDBAttributeValue{
			"PK": events.NewStringAttribute("p"), "SK": events.NewStringAttribute("a"), "v": events.NewNumberAttribute("2"), "d": events.NewBooleanAttribute(true),
		}), "attribute d"},
	}
	for _, c := range cases {
		_, err := dynamo.ChangesFromStreamRecords([]events.DynamoDBEventRecord{c.record})
		if err == nil || !strings.Contains(err.Error(), c.say) || !strings.Contains(err.Error(), c.record.EventID) {
			t.Errorf("%s: err = %v; want an error naming record %s and saying %q", c.name, err, c.record.EventID, c.say)
		}
	}
}

func TestChangesFromGetRecords(t *testing.T) {
	got, err := dynamo.ChangesFromGetRecords([]streamtypes.Record{record("1", "a", 0, 1), record("2", "a", 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Old != nil || got[0].New.Version != 1 || got[1].Old.Version != 1 || got[1].New != nil {
		t.Fatalf("changes %+v; want a creation at version 1, then its deletion", got)
	}
	if _, err := dynamo.ChangesFromGetRecords([]streamtypes.Record{{EventID: aws.String("e9")}}); err == nil || !strings.Contains(err.Error(), "e9") {
		t.Fatalf("a record without a body: err = %v; want one naming e9", err)
	}
}
