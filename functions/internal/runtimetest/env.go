package runtimetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

// MotoEnv is the environment the stack gives a function, with the AWS
// endpoints pointed at moto_server as `sam local invoke --env-vars` would
// point them at DynamoDB Local; account and table as given, plus extra.
func MotoEnv(srv *dynamotest.Server, account, table string, extra ...string) []string {
	env := []string{
		"BERTH_ACCOUNT_ID=" + account,
		"AWS_REGION=" + dynamotest.Region,
		"AWS_ENDPOINT_URL_DYNAMODB=" + srv.Endpoint,
		"AWS_ACCESS_KEY_ID=" + dynamotest.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + dynamotest.SecretKey,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if table != "" {
		env = append(env, "TABLE_NAME="+table)
	}
	return append(env, extra...)
}

// Sample reads a sample event from the repository's events/ (tests run in
// functions/<name>).
func Sample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Main runs a function package's tests, then stops the shared moto_server
// and removes the built binaries; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	dynamotest.StopShared()
	Cleanup()
	os.Exit(code)
}
