// Package storetest is the contract suite of the store port. Every adapter
// runs it from its own tests: Run for the Store itself, RunFeed for its
// change feed and TTL. The suite asserts only what DynamoDB guarantees too,
// so the embedded adapter cannot promise more than the cloud one keeps:
// reads of the base table are strongly consistent, index reads are awaited
// until they converge, sort keys order byte-wise, delivery is at least once
// and ordered per key only, and JSON documents are compared by value.
package storetest
