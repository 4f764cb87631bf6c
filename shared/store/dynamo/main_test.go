package dynamo_test

import (
	"os"
	"testing"

	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dynamotest.StopShared()
	os.Exit(code)
}
