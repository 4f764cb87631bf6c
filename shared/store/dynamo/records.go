package dynamo

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/berth-run/berth/shared/store"
)

// ChangesFromStreamRecords turns the records of a DynamoDB Streams event, as
// Lambda delivers it to the publisher, into the store's changes, in record
// order. Records of the feed's checkpoint partitions and images without the
// version attribute (not store items) are skipped; a record whose images do
// not decode is an error naming it, as is a stream that does not carry both
// images.
func ChangesFromStreamRecords(records []events.DynamoDBEventRecord) ([]store.Change, error) {
	out := make([]store.Change, 0, len(records))
	for _, r := range records {
		c, ok, err := change(r.Change.StreamViewType, lambdaImage(r.Change.Keys),
			lambdaImage(r.Change.OldImage), lambdaImage(r.Change.NewImage))
		if err != nil {
			return nil, fmt.Errorf("stream record %s (%s, sequence %s): %w", r.EventID, r.EventName, r.Change.SequenceNumber, err)
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// ChangesFromGetRecords does what ChangesFromStreamRecords does for records
// as the DynamoDB Streams API's GetRecords returns them.
func ChangesFromGetRecords(records []streamtypes.Record) ([]store.Change, error) {
	out := make([]store.Change, 0, len(records))
	for _, r := range records {
		sr := r.Dynamodb
		if sr == nil {
			return nil, fmt.Errorf("stream record %s: no stream record body", aws.ToString(r.EventID))
		}
		c, ok, err := change(string(sr.StreamViewType), streamsImage(sr.Keys), streamsImage(sr.OldImage), streamsImage(sr.NewImage))
		if err != nil {
			return nil, fmt.Errorf("stream record %s (%s, sequence %s): %w",
				aws.ToString(r.EventID), r.EventName, aws.ToString(sr.SequenceNumber), err)
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// change decodes one record's images; ok is false for a record to skip.
func change(viewType string, keys, old, new image) (store.Change, bool, error) {
	if viewType != "" && viewType != string(streamtypes.StreamViewTypeNewAndOldImages) {
		return store.Change{}, false, fmt.Errorf("stream view type %s: the change feed needs NEW_AND_OLD_IMAGES", viewType)
	}
	var c store.Change
	var err error
	if c.Key, err = recordKey(keys, old, new); err != nil {
		return store.Change{}, false, err
	}
	if reserved(c.Key.PK) {
		return store.Change{}, false, nil
	}
	if c.Old, err = imageItem(old); err != nil {
		return store.Change{}, false, fmt.Errorf("old image: %w", err)
	}
	if c.New, err = imageItem(new); err != nil {
		return store.Change{}, false, fmt.Errorf("new image: %w", err)
	}
	return c, c.Old != nil || c.New != nil, nil
}

// recordKey reads the item's key from the record's Keys, or from an image
// when a producer left Keys out.
func recordKey(keys, old, new image) (store.Key, error) {
	src := keys
	if len(src) == 0 {
		src = new
	}
	if len(src) == 0 {
		src = old
	}
	pk, okPK, err := src.str(AttrPK)
	if err != nil {
		return store.Key{}, err
	}
	sk, okSK, err := src.str(AttrSK)
	if err != nil {
		return store.Key{}, err
	}
	if !okPK || !okSK {
		return store.Key{}, errors.New("the record names no PK and SK")
	}
	return store.Key{PK: pk, SK: sk}, nil
}

// imageItem decodes an image; nil for an absent image or one that is not a
// store item.
func imageItem(img image) (*store.Item, error) {
	if len(img) == 0 {
		return nil, nil
	}
	it, err := img.item()
	if errors.Is(err, errNotStoreItem) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &it, nil
}

func lambdaImage(attrs map[string]events.DynamoDBAttributeValue) image {
	img := make(image, len(attrs))
	for name, v := range attrs {
		switch v.DataType() {
		case events.DataTypeString:
			img[name] = scalar{typ: "S", val: v.String()}
		case events.DataTypeNumber:
			img[name] = scalar{typ: "N", val: v.Number()}
		default:
			img[name] = scalar{typ: fmt.Sprintf("type %d", v.DataType())}
		}
	}
	return img
}

func streamsImage(attrs map[string]streamtypes.AttributeValue) image {
	img := make(image, len(attrs))
	for name, v := range attrs {
		switch v := v.(type) {
		case *streamtypes.AttributeValueMemberS:
			img[name] = scalar{typ: "S", val: v.Value}
		case *streamtypes.AttributeValueMemberN:
			img[name] = scalar{typ: "N", val: v.Value}
		default:
			img[name] = scalar{typ: fmt.Sprintf("%T", v)}
		}
	}
	return img
}
