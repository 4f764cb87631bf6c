// Package storetest is the contract suite of the store port. Every adapter
// runs it from its own tests:
//
//	storetest.Run(t, func(t *testing.T) store.Store { ... a fresh, empty store ... })
//	storetest.RunFeed(t, func(t *testing.T) storetest.FeedHarness { ... store, feed, Expire ... })
//	storetest.RunFeedRestart(t, ...) // adapters whose feed can resume after a restart
//
// The suite asserts only what DynamoDB guarantees too, so the embedded
// adapter cannot promise more than the cloud one keeps: reads of the base
// table are strongly consistent, index reads are awaited until they
// converge, sort keys order byte-wise, the order among equal index sort
// keys is unspecified, a query may end with an empty page, delivery is at
// least once and ordered per key only, and JSON documents are compared by
// value, not by spelling.
package storetest
