package e2e

import (
	"os"
	"testing"

	"github.com/berth-run/berth/agent/process"
)

func TestMain(m *testing.M) {
	process.RunShimIfRequested()
	os.Exit(m.Run())
}
