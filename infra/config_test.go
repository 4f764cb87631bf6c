package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

func TestConfigFromCDKJSON(t *testing.T) {
	t.Setenv("CDK_DEFAULT_ACCOUNT", "")
	t.Setenv("CDK_DEFAULT_REGION", "")
	ctx, err := standaloneContext("../cdk.json")
	if err != nil || ctx == nil {
		t.Fatalf("cdk.json context: %v %v", ctx, err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: ctx, Outdir: jsii.String(t.TempDir())})
	cfg, err := readConfig(app)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StackName != "BerthStack" || cfg.Props.AssetDir != "dist/functions" ||
		cfg.Props.LogRetention != awslogs.RetentionDays_ONE_MONTH || cfg.Props.ArchiveRetention != 30*24*time.Hour {
		t.Errorf("config from cdk.json: %+v", cfg)
	}
	if cfg.Props.Env != nil {
		t.Errorf("no account or region anywhere, yet env %+v", cfg.Props.Env)
	}
}

func TestConfigUnderTheCLI(t *testing.T) {
	t.Setenv("CDK_CONTEXT_JSON", `{}`)
	if ctx, err := standaloneContext("../cdk.json"); ctx != nil || err != nil {
		t.Errorf("under the CLI the app must take the CLI's context, got %v %v", ctx, err)
	}
}

func TestConfigEnvironment(t *testing.T) {
	t.Setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
	t.Setenv("CDK_DEFAULT_REGION", "eu-west-1")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]any{CtxRegion: "eu-central-1", CtxArchiveRetention: "14"}})
	cfg, err := readConfig(app)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Props.ArchiveRetention != 14*24*time.Hour {
		t.Errorf("archive retention from `cdk -c`: %s", cfg.Props.ArchiveRetention)
	}
	if cfg.Props.Env == nil || *cfg.Props.Env.Account != "111122223333" || *cfg.Props.Env.Region != "eu-central-1" {
		t.Errorf("env: the context's region should win over the CLI default: %+v", cfg.Props.Env)
	}
}

func TestConfigRefusesBadContext(t *testing.T) {
	tests := map[string]struct {
		ctx  map[string]any
		want string
	}{
		"retention":       {map[string]any{CtxLogRetention: "FORTNIGHT"}, `"FORTNIGHT" is not a CloudWatch Logs retention`},
		"archive days":    {map[string]any{CtxArchiveRetention: 1.5}, "whole number of days"},
		"archive text":    {map[string]any{CtxArchiveRetention: "thirty"}, "whole number of days"},
		"archive zero":    {map[string]any{CtxArchiveRetention: "0"}, "whole number of days"},
		"stack name type": {map[string]any{CtxStackName: 7.0}, "must be a string"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &tt.ctx})
			_, err := readConfig(app)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestConfigFleet(t *testing.T) {
	tests := map[string]struct {
		ctx  map[string]any
		want *FleetProps
	}{
		"off by default":   {map[string]any{CtxFleetSize: "3"}, nil},
		"off":              {map[string]any{CtxFleet: "false"}, nil},
		"on from the CLI":  {map[string]any{CtxFleet: "true", CtxFleetSize: "3"}, &FleetProps{Size: 3}},
		"on from cdk.json": {map[string]any{CtxFleet: true, CtxFleetSize: 2.0, CtxFleetInstanceType: "c7g.large", CtxCluster: "web", CtxAgentBinary: "out/berth"}, &FleetProps{Size: 2, InstanceType: "c7g.large", Cluster: "web", AgentBinary: "out/berth"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &tt.ctx})
			cfg, err := readConfig(app)
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.Props.Fleet == nil) != (tt.want == nil) || tt.want != nil && *cfg.Props.Fleet != *tt.want {
				t.Errorf("fleet %+v, want %+v", cfg.Props.Fleet, tt.want)
			}
		})
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]any{CtxAlarmEmail: "ops@example.com"}})
	if cfg, err := readConfig(app); err != nil || cfg.Props.AlarmEmail != "ops@example.com" {
		t.Errorf("alarm email from the context: %q %v", cfg.Props.AlarmEmail, err)
	}
}

func TestConfigRefusesBadFleet(t *testing.T) {
	tests := map[string]struct {
		ctx  map[string]any
		want string
	}{
		"flag text":  {map[string]any{CtxFleet: "yes please"}, `berth:fleet: want true or false, got "yes please"`},
		"flag type":  {map[string]any{CtxFleet: 1.0}, "berth:fleet: want true or false"},
		"size text":  {map[string]any{CtxFleet: "true", CtxFleetSize: "three"}, "berth:fleetSize must be a whole number of hosts"},
		"size zero":  {map[string]any{CtxFleet: "true", CtxFleetSize: "0"}, "berth:fleetSize must be a whole number of hosts"},
		"size half":  {map[string]any{CtxFleet: true, CtxFleetSize: 1.5}, "berth:fleetSize must be a whole number of hosts"},
		"type value": {map[string]any{CtxFleet: true, CtxFleetInstanceType: 4.0}, "berth:fleetInstanceType must be a string"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &tt.ctx})
			_, err := readConfig(app)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
