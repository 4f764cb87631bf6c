// Package store holds Berth's state. The port, Store, is a versioned item
// store shaped like one DynamoDB table: items addressed by partition and
// sort key, two secondary indexes, conditional writes that commit together
// in one transaction of at most 100 items, and a change feed of committed
// writes. Adapters (bolt for the embedded store, dynamo for DynamoDB)
// implement only that; the domain operations (commit a placement, apply a
// task state report, update a service under its version) are written once
// in this package on top of it, so both adapters behave the same by
// construction and pass one contract suite, storetest.
package store
