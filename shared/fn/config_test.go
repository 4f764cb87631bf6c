package fn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/fn"
)

func lambdaEnv(t *testing.T) {
	t.Setenv(fn.EnvAccountID, "123456789012")
	t.Setenv(fn.EnvRegion, "eu-west-1")
	t.Setenv(fn.EnvTableName, "BerthStack-TableCD117FA1-1ABC")
	t.Setenv(fn.EnvEventBusName, "BerthStackBusEA82B648")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFNTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fn-test-secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
}

func TestLoadConfig(t *testing.T) {
	lambdaEnv(t)
	cfg, err := fn.LoadConfig(context.Background(), fn.EnvTableName, fn.EnvEventBusName)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Account.ID != "123456789012" || cfg.Account.Region != "eu-west-1" || cfg.AWS.Region != "eu-west-1" ||
		cfg.TableName != "BerthStack-TableCD117FA1-1ABC" || cfg.EventBusName != "BerthStackBusEA82B648" || cfg.Log == nil {
		t.Errorf("config %+v", cfg)
	}
	creds, err := cfg.AWS.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDFNTEST" {
		t.Errorf("credentials from the default chain: %v %v", creds.AccessKeyID, err)
	}
}

func TestLoadConfigRefusesMissingOrBadValues(t *testing.T) {
	lambdaEnv(t)
	t.Setenv(fn.EnvTableName, "")
	t.Setenv(fn.EnvRegion, "")
	_, err := fn.LoadConfig(context.Background(), fn.EnvTableName)
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION, TABLE_NAME must be set") {
		t.Errorf("missing variables: %v", err)
	}
	lambdaEnv(t)
	t.Setenv(fn.EnvAccountID, "1234")
	if _, err := fn.LoadConfig(context.Background()); err == nil || !strings.Contains(err.Error(), `"1234" is not a 12-digit account ID`) {
		t.Errorf("bad account: %v", err)
	}
}

func TestRandomIDs(t *testing.T) {
	a, b := fn.RandomID(), fn.RandomID()
	if len(a) != 32 || a == b || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("ids %q %q", a, b)
	}
	seeds := map[int64]bool{}
	for range 8 {
		seeds[fn.RandomSeed()] = true
	}
	if len(seeds) < 8 {
		t.Errorf("8 seeds, %d distinct", len(seeds))
	}
}
