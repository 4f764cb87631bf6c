package dynamotest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/berth-run/berth/shared/store/dynamo"
)

// DynamoDB is a DynamoDB client for the server.
func (s *Server) DynamoDB() *dynamodb.Client { return dynamodb.NewFromConfig(s.Config()) }

// Streams is a DynamoDB Streams client for the server.
func (s *Server) Streams() *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(s.Config())
}

var tables atomic.Int64

// TableName is a table name no other test of this binary uses, with the
// test's name in it for whoever reads moto's log.
func TableName(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, t.Name())
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	return fmt.Sprintf("berth-%d-%s", tables.Add(1), name)
}

// NewStore creates a table of its own for the test (EnsureTable) and
// returns the adapter on it; the table is deleted when the test ends.
func NewStore(t testing.TB, s *Server, opts ...dynamo.Option) *dynamo.Store {
	t.Helper()
	client := s.DynamoDB()
	st := dynamo.New(client, TableName(t), append([]dynamo.Option{dynamo.WithTablePoll(20 * time.Millisecond)}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.EnsureTable(ctx); err != nil {
		t.Fatalf("EnsureTable on %s: %v\nmoto_server output:\n%s", s.Endpoint, err, tail(s.Output()))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(st.Table())}); err != nil {
			t.Errorf("delete table %s: %v", st.Table(), err)
		}
	})
	return st
}

// NewStoreWithoutStream is NewStore on a table that has Berth's layout
// but no stream, for tests and benchmarks that never read the change feed.
// moto keeps a stream's whole history and copies it, with the table, on
// every transaction (its rollback snapshot), so on a table with a stream
// each write costs more than the last; DynamoDB's stream costs writes
// nothing.
func NewStoreWithoutStream(t testing.TB, s *Server, opts ...dynamo.Option) *dynamo.Store {
	t.Helper()
	client := s.DynamoDB()
	name := TableName(t)
	def := dynamo.TableDefinition(name)
	def.StreamSpecification = nil
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.CreateTable(ctx, def); err != nil {
		t.Fatalf("create table %s on %s: %v", name, s.Endpoint, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return dynamo.New(client, name, opts...)
}

func tail(s string) string {
	const n = 4000
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
