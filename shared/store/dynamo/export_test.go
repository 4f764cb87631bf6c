package dynamo

// Test doubles reach the adapter through these.
type (
	DynamoAPI  = dynamoAPI
	StreamsAPI = streamsAPI
)

// NewWithAPI is New for any implementation of the DynamoDB calls.
func NewWithAPI(client DynamoAPI, table string, opts ...Option) *Store {
	return newStore(client, table, opts...)
}

// NewFeedWithAPI is NewFeed for any implementation of the Streams calls.
func NewFeedWithAPI(s *Store, client StreamsAPI, consumer string, opts ...FeedOption) *Feed {
	return newFeed(s, client, consumer, opts...)
}

// CheckpointPK is the partition where the feed of consumer keeps its checkpoints.
func CheckpointPK(consumer string) string { return reservedPrefix + consumer }
