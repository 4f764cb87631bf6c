// Package dynamotest runs the DynamoDB adapter's tests, and any other test
// that needs DynamoDB, DynamoDB Streams, EventBridge or SQS, against
// moto_server: it starts one moto_server per test binary on a free loopback
// port with fake static credentials (never real AWS), and gives each test a
// table of its own. A missing moto_server skips the test loudly, or fails it
// under CI=true.
package dynamotest
