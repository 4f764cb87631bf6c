package fn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/berth-run/berth/shared/ecs"
)

// The environment variables the stack sets on the functions (infra).
// Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables,
// e.g. AWS_ENDPOINT_URL_DYNAMODB, so `sam local invoke` can point a
// function at DynamoDB Local or moto.
const (
	EnvTableName    = "TABLE_NAME"
	EnvEventBusName = "EVENT_BUS_NAME"
	EnvAccountID    = "BERTH_ACCOUNT_ID"
	// EnvRegion is set by Lambda itself.
	EnvRegion = "AWS_REGION"
)

// Config is what a function's main needs to wire its clients, read once
// per execution environment.
type Config struct {
	Account      ecs.Account
	TableName    string
	EventBusName string
	AWS          aws.Config
	Log          *slog.Logger
}

// LoadConfig reads the function's environment; required names the
// variables this function cannot run without (besides the account and
// region, which every function needs).
func LoadConfig(ctx context.Context, required ...string) (Config, error) {
	cfg := Config{
		Account:      ecs.Account{ID: os.Getenv(EnvAccountID), Region: os.Getenv(EnvRegion)},
		TableName:    os.Getenv(EnvTableName),
		EventBusName: os.Getenv(EnvEventBusName),
		Log:          slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	}
	var missing []string
	for _, name := range append([]string{EnvAccountID, EnvRegion}, required...) {
		if os.Getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("environment variables %s must be set (the stack sets them; under sam local, pass them with --env-vars)", strings.Join(missing, ", "))
	}
	if !isAccountID(cfg.Account.ID) {
		return Config{}, fmt.Errorf("%s %q is not a 12-digit account ID", EnvAccountID, cfg.Account.ID)
	}
	aws, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Account.Region))
	if err != nil {
		return Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	cfg.AWS = aws
	return cfg, nil
}

// MustLoadConfig is LoadConfig for a main: a function that cannot read its
// configuration logs why and exits, which Lambda reports as an init error.
func MustLoadConfig(required ...string) Config {
	cfg, err := LoadConfig(context.Background(), required...)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("function configuration", "err", err)
		os.Exit(1)
	}
	return cfg
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// RandomID is a fresh resource ID: 32 hex digits, as ECS's task and
// container instance IDs.
func RandomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RandomSeed seeds one random placement.
func RandomSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]))
}
