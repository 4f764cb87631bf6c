package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "berth infra:", err)
		jsii.Close()
		os.Exit(1)
	}
}

// run synthesizes the app into the directory the CDK CLI names in
// CDK_OUTDIR (make synth sets it to cdk.out).
func run() error {
	ctx, err := standaloneContext("cdk.json")
	if err != nil {
		return err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: ctx})
	cfg, err := readConfig(app)
	if err != nil {
		return err
	}
	if _, err := NewBerthStack(app, cfg.StackName, cfg.Props); err != nil {
		return err
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	app.Synth(nil)
	return nil
}
