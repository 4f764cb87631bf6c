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
