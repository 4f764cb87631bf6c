package dynamo_test

import (
	"flag"
	"os"
	"testing"

	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

// modelChecks is how many random histories the contract's model test runs
// against moto unless -rapid.checks says otherwise. moto copies the whole
// table on every transaction and scans it on every query, so each request
// costs tens of milliseconds once the model's table fills; rapid's default
// of 100 takes over five minutes on two cores. Run with -rapid.checks=100
// for the full model test.
const modelChecks = "20"

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		if err := flag.Set("rapid.checks", modelChecks); err != nil {
			panic(err) // rapid registers the flag; without it this build is broken
		}
	}
	code := m.Run()
	dynamotest.StopShared()
	os.Exit(code)
}
