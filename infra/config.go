package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// The context keys the app reads (cdk.json, or `cdk -c key=value`).
const (
	CtxStackName        = "berth:stackName"
	CtxAssetDir         = "berth:assetDir"
	CtxLogRetention     = "berth:logRetention"
	CtxArchiveRetention = "berth:archiveRetentionDays"
	CtxTableName        = "berth:tableName"
	CtxEventBusName     = "berth:eventBusName"
	CtxAccount          = "berth:account"
	CtxRegion           = "berth:region"
	// The fleet's keys: berth:fleet=true adds it; the others size it and
	// take effect only then.
	CtxFleet             = "berth:fleet"
	CtxFleetSize         = "berth:fleetSize"
	CtxFleetInstanceType = "berth:fleetInstanceType"
	CtxCluster           = "berth:cluster"
	CtxAgentBinary       = "berth:agentBinary"
	// CtxAlarmEmail is the address alarms notify; unset, they notify no one.
	CtxAlarmEmail = "berth:alarmEmail"
)

// Config is what the app builds, read from the context.
type Config struct {
	StackName string
	Props     StackProps
}

// standaloneContext is cdk.json's context when the app runs without the
// CDK CLI (make synth), so both synthesize the same stack; under the CLI,
// which passes the context itself, it is nil.
func standaloneContext(path string) (*map[string]any, error) {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CDK_CONTEXT_JSON=") || strings.HasPrefix(kv, "CDK_CONTEXT_OVERFLOW_LOCATION=") {
			return nil, nil
		}
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &file.Context, nil
}

// readConfig reads the app's context. The environment is the context's
// account and region, else the CLI's default (CDK_DEFAULT_ACCOUNT and
// CDK_DEFAULT_REGION), else none: an environment-agnostic stack.
func readConfig(app awscdk.App) (Config, error) {
	get := func(key string) (string, error) {
		v := app.Node().TryGetContext(jsii.String(key))
		if v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("context %s must be a string, got %v", key, v)
		}
		return s, nil
	}
	var cfg Config
	var errs []error
	str := func(key, fallback string) string {
		v, err := get(key)
		errs = append(errs, err)
		if v == "" {
			return fallback
		}
		return v
	}
	cfg.StackName = str(CtxStackName, "BerthStack")
	cfg.Props.AssetDir = str(CtxAssetDir, "")
	cfg.Props.TableName = str(CtxTableName, "")
	cfg.Props.EventBusName = str(CtxEventBusName, "")
	retention := awslogs.RetentionDays(str(CtxLogRetention, string(awslogs.RetentionDays_ONE_MONTH)))
	if !validRetention(retention) {
		errs = append(errs, fmt.Errorf("context %s: %q is not a CloudWatch Logs retention such as ONE_WEEK, ONE_MONTH or ONE_YEAR", CtxLogRetention, retention))
	}
	cfg.Props.LogRetention = retention
	if v := app.Node().TryGetContext(jsii.String(CtxArchiveRetention)); v != nil {
		days, ok := wholeNumber(v)
		if !ok || days < 1 {
			errs = append(errs, fmt.Errorf("context %s must be a whole number of days, got %v", CtxArchiveRetention, v))
		}
		cfg.Props.ArchiveRetention = time.Duration(days) * 24 * time.Hour
	}
	cfg.Props.AlarmEmail = str(CtxAlarmEmail, "")
	fleet, err := flag(app.Node().TryGetContext(jsii.String(CtxFleet)))
	if err != nil {
		errs = append(errs, fmt.Errorf("context %s: %w", CtxFleet, err))
	}
	if fleet {
		cfg.Props.Fleet = &FleetProps{
			InstanceType: str(CtxFleetInstanceType, ""),
			Cluster:      str(CtxCluster, ""),
			AgentBinary:  str(CtxAgentBinary, ""),
		}
		if v := app.Node().TryGetContext(jsii.String(CtxFleetSize)); v != nil {
			size, ok := wholeNumber(v)
			if !ok || size < 1 {
				errs = append(errs, fmt.Errorf("context %s must be a whole number of hosts, got %v", CtxFleetSize, v))
			}
			cfg.Props.Fleet.Size = size
		}
	}
	account := str(CtxAccount, os.Getenv("CDK_DEFAULT_ACCOUNT"))
	region := str(CtxRegion, os.Getenv("CDK_DEFAULT_REGION"))
	if account != "" || region != "" {
		cfg.Props.Env = &awscdk.Environment{Account: optional(account), Region: optional(region)}
	}
	cfg.Props.Description = jsii.String("Berth: a serverless control plane with Amazon ECS semantics")
	return cfg, errors.Join(errs...)
}

// wholeNumber reads a context number: a JSON number from cdk.json, or the
// text `cdk -c key=value` passes.
func wholeNumber(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		return int(v), v == float64(int(v))
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

// flag reads a context switch: a JSON boolean from cdk.json, or the text
// `cdk -c key=true` passes; unset is off.
func flag(v any) (bool, error) {
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		on, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("want true or false, got %q", v)
		}
		return on, nil
	}
	return false, fmt.Errorf("want true or false, got %v", v)
}

func validRetention(r awslogs.RetentionDays) bool {
	switch r {
	case awslogs.RetentionDays_ONE_DAY, awslogs.RetentionDays_THREE_DAYS, awslogs.RetentionDays_FIVE_DAYS,
		awslogs.RetentionDays_ONE_WEEK, awslogs.RetentionDays_TWO_WEEKS, awslogs.RetentionDays_ONE_MONTH,
		awslogs.RetentionDays_TWO_MONTHS, awslogs.RetentionDays_THREE_MONTHS, awslogs.RetentionDays_FOUR_MONTHS,
		awslogs.RetentionDays_FIVE_MONTHS, awslogs.RetentionDays_SIX_MONTHS, awslogs.RetentionDays_ONE_YEAR,
		awslogs.RetentionDays_THIRTEEN_MONTHS, awslogs.RetentionDays_EIGHTEEN_MONTHS, awslogs.RetentionDays_TWO_YEARS,
		awslogs.RetentionDays_THREE_YEARS, awslogs.RetentionDays_FIVE_YEARS, awslogs.RetentionDays_SIX_YEARS,
		awslogs.RetentionDays_SEVEN_YEARS, awslogs.RetentionDays_EIGHT_YEARS, awslogs.RetentionDays_NINE_YEARS,
		awslogs.RetentionDays_TEN_YEARS, awslogs.RetentionDays_INFINITE:
		return true
	}
	return false
}
