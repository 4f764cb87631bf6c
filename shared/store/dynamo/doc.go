// Package dynamo is the DynamoDB adapter of the store port: the whole table
// of the port in one DynamoDB table (PK, SK; sparse GSIs gsi1 and gsi2
// projecting everything; version, document and TTL attributes), reads of
// the table strongly consistent, every Transact one TransactWriteItems call
// with a version condition per write, and the change feed read from the
// table's DynamoDB stream (Feed, for `berth up --store dynamodb`) or
// converted from the stream records Lambda delivers
// (ChangesFromStreamRecords, for the publisher function). EnsureTable
// creates the table; docs/store.md describes its layout, which the CDK
// stack mirrors.
package dynamo
