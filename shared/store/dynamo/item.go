package dynamo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/berth-run/berth/shared/store"
)

// The table's attribute and index names. The CDK stack declares the same
// table; docs/store.md explains each.
const (
	AttrPK      = "PK"     // S, the table's partition key
	AttrSK      = "SK"     // S, the table's sort key
	AttrGSI1PK  = "GSI1PK" // S, gsi1's partition key
	AttrGSI1SK  = "GSI1SK" // S, gsi1's sort key
	AttrGSI2PK  = "GSI2PK" // S, gsi2's partition key
	AttrGSI2SK  = "GSI2SK" // S, gsi2's sort key
	AttrVersion = "v"      // N, the item's version
	AttrData    = "d"      // S, the item's JSON document
	AttrTTL     = "ttl"    // N, epoch seconds; the table's TTL attribute

	IndexGSI1 = "gsi1"
	IndexGSI2 = "gsi2"
)

// Key limits DynamoDB enforces on every key attribute, of the table and of
// its indexes.
const (
	MaxPartitionKeyBytes = 2048
	MaxSortKeyBytes      = 1024
)

// MaxTransactBytes is DynamoDB's limit on the items of one transaction taken
// together.
const MaxTransactBytes = 4 * 1024 * 1024

// reservedPrefix starts the partitions where feeds keep their checkpoints.
// They are not store items, so the port refuses to touch them and the feed
// skips their changes.
const reservedPrefix = "FEED#"

func reserved(pk string) bool { return strings.HasPrefix(pk, reservedPrefix) }

// errNotStoreItem marks an image without the version attribute: nothing
// this adapter wrote, so a feed skips it rather than failing on it.
var errNotStoreItem = errors.New("not a store item")

// scalar is one attribute value as the codec needs it: its DynamoDB type
// ("S", "N", or the name of another type) and, for S and N, its text.
type scalar struct {
	typ string
	val string
}

// image is an item's attributes, from whichever SDK type carried them.
type image map[string]scalar

func (img image) str(name string) (string, bool, error) {
	a, ok := img[name]
	if !ok {
		return "", false, nil
	}
	if a.typ != "S" {
		return "", true, fmt.Errorf("attribute %s is of type %s, not S", name, a.typ)
	}
	return a.val, true, nil
}

func (img image) num(name string) (int64, bool, error) {
	a, ok := img[name]
	if !ok {
		return 0, false, nil
	}
	if a.typ != "N" {
		return 0, true, fmt.Errorf("attribute %s is of type %s, not N", name, a.typ)
	}
	n, err := strconv.ParseInt(a.val, 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("attribute %s: %q is not an integer", name, a.val)
	}
	return n, true, nil
}

// indexKey reads an index key stored as two attributes; both or neither
// must be present.
func (img image) indexKey(pkName, skName string) (store.Key, error) {
	pk, hasPK, err := img.str(pkName)
	if err != nil {
		return store.Key{}, err
	}
	sk, hasSK, err := img.str(skName)
	if err != nil {
		return store.Key{}, err
	}
	if hasPK != hasSK {
		return store.Key{}, fmt.Errorf("attributes %s and %s must be set together", pkName, skName)
	}
	return store.Key{PK: pk, SK: sk}, nil
}

// item decodes an image into a store item. An image without the version
// attribute yields errNotStoreItem.
func (img image) item() (store.Item, error) {
	var it store.Item
	var err error
	var ok bool
	if it.PK, ok, err = img.str(AttrPK); err != nil || !ok {
		return store.Item{}, orMissing(err, AttrPK)
	}
	if it.SK, ok, err = img.str(AttrSK); err != nil || !ok {
		return store.Item{}, orMissing(err, AttrSK)
	}
	if it.Version, ok, err = img.num(AttrVersion); err != nil {
		return store.Item{}, err
	} else if !ok {
		return store.Item{}, errNotStoreItem
	}
	data, _, err := img.str(AttrData)
	if err != nil {
		return store.Item{}, err
	}
	it.Data = []byte(data)
	if it.GSI1, err = img.indexKey(AttrGSI1PK, AttrGSI1SK); err != nil {
		return store.Item{}, err
	}
	if it.GSI2, err = img.indexKey(AttrGSI2PK, AttrGSI2SK); err != nil {
		return store.Item{}, err
	}
	if it.ExpiresAt, _, err = img.num(AttrTTL); err != nil {
		return store.Item{}, err
	}
	return it, nil
}

func orMissing(err error, name string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("attribute %s is missing", name)
}

// imageOf converts the dynamodb service's attribute values.
func imageOf(attrs map[string]types.AttributeValue) image {
	img := make(image, len(attrs))
	for name, v := range attrs {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			img[name] = scalar{typ: "S", val: v.Value}
		case *types.AttributeValueMemberN:
			img[name] = scalar{typ: "N", val: v.Value}
		default:
			img[name] = scalar{typ: fmt.Sprintf("%T", v)}
		}
	}
	return img
}

// decodeItem decodes an item the table returned.
func decodeItem(attrs map[string]types.AttributeValue) (store.Item, error) {
	it, err := imageOf(attrs).item()
	if err != nil {
		return store.Item{}, fmt.Errorf("decode item: %w", err)
	}
	return it, nil
}

func attrS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func attrN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// keyAttrs is the table key of k.
func keyAttrs(k store.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: attrS(k.PK), AttrSK: attrS(k.SK)}
}

// inIndex reports whether an index key places its item in the index: like
// a sparse GSI, only when both parts are set.
func inIndex(k store.Key) bool { return k.PK != "" && k.SK != "" }

// itemAttrs is the whole item as stored at version.
func itemAttrs(it store.Item, version int64) map[string]types.AttributeValue {
	attrs := keyAttrs(it.Key)
	attrs[AttrVersion] = attrN(version)
	attrs[AttrData] = attrS(string(it.Data))
	if inIndex(it.GSI1) {
		attrs[AttrGSI1PK], attrs[AttrGSI1SK] = attrS(it.GSI1.PK), attrS(it.GSI1.SK)
	}
	if inIndex(it.GSI2) {
		attrs[AttrGSI2PK], attrs[AttrGSI2SK] = attrS(it.GSI2.PK), attrS(it.GSI2.SK)
	}
	if it.ExpiresAt > 0 {
		attrs[AttrTTL] = attrN(it.ExpiresAt)
	}
	return attrs
}

// validateKey applies DynamoDB's key rules and keeps the port away from the
// feed's reserved partitions.
func validateKey(k store.Key) error {
	if k.PK == "" || k.SK == "" {
		return fmt.Errorf("%w: key %q has an empty part", store.ErrInvalid, k)
	}
	if len(k.PK) > MaxPartitionKeyBytes || len(k.SK) > MaxSortKeyBytes {
		return fmt.Errorf("%w: key %.64q... is over %d bytes (partition) or %d bytes (sort)",
			store.ErrInvalid, k, MaxPartitionKeyBytes, MaxSortKeyBytes)
	}
	if reserved(k.PK) {
		return fmt.Errorf("%w: partition %q is reserved: partitions starting %q hold change-feed checkpoints",
			store.ErrInvalid, k.PK, reservedPrefix)
	}
	return nil
}

// validateIndexKey checks an item's index key: both parts or neither (a
// half-set key could not be stored, as DynamoDB refuses empty key strings),
// within DynamoDB's key limits.
func validateIndexKey(ix string, k store.Key) error {
	if (k.PK == "") != (k.SK == "") {
		return fmt.Errorf("%w: %s key %q must have both parts or neither", store.ErrInvalid, ix, k)
	}
	if len(k.PK) > MaxPartitionKeyBytes || len(k.SK) > MaxSortKeyBytes {
		return fmt.Errorf("%w: %s key is over %d bytes (partition) or %d bytes (sort)",
			store.ErrInvalid, ix, MaxPartitionKeyBytes, MaxSortKeyBytes)
	}
	return nil
}
