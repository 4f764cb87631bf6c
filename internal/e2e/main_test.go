package e2e

import (
	"os"
	"testing"

	"github.com/berth-run/berth/agent/process"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) {
	process.RunShimIfRequested()
	code := m.Run()
	dynamotest.StopShared()
	os.Exit(code)
}
