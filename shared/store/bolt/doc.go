// Package bolt is the embedded adapter of the store port: the whole table,
// its two indexes, TTL and the change feed in one bbolt file, each write
// transaction committed (and fsynced) as one bbolt transaction.
//
// Bucket layout (file format "1", recorded in meta/format):
//
//	items    PK·SK                 → item (binary, see codec.go)
//	gsi1     GPK·GSK·PK·SK         → empty; the item is read from items
//	gsi2     GPK·GSK·PK·SK         → empty
//	ttl      expiresAt(8, BE)·PK·SK → empty; only items with ExpiresAt > 0
//	changes  seq(8, BE)            → change record (key, old and new images)
//	meta     "format"              → "1"
//	         "feed.cursor"         → seq(8, BE) of the last delivered change
//
// "·" joins key components, each escaped and terminated (keys.go) so that
// bbolt's byte order equals DynamoDB's: by partition, then sort key compared
// byte-wise. Index entries end with the base key because index sort keys
// need not be unique; that also makes a query cursor a plain bucket key.
//
// Every Transact writes its items, their index and ttl entries and one
// change record per written item in the same bbolt transaction, so the feed
// announces exactly what committed. Concurrent Transact calls are grouped
// into one bbolt transaction by a single committer (group commit), sharing
// one fsync without delaying a lone caller.
package bolt
