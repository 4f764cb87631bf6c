package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berth-run/berth/internal/testenv"
)

// TestCfnLint runs cfn-lint on the template of every test configuration
// (the default control plane, every shared/bus target, the fleet with and
// without an alarm email) and fails on any error (warnings are logged). cfn-lint's exit status is a bit mask: 1 a
// fatal failure, 2 errors, 4 warnings, 8 informational findings.
func TestCfnLint(t *testing.T) {
	cfnLint := testenv.NeedCommand(t, "cfn-lint")
	for name := range configs {
		t.Run(name, func(t *testing.T) {
			s := synthConfig(t, name)
			template := filepath.Join(s.outdir, "BerthStack.template.json")
			if _, err := os.Stat(template); err != nil {
				t.Fatalf("synthesized template: %v", err)
			}
			out, err := exec.Command(cfnLint, "--format", "parseable", template).CombinedOutput()
			var exit *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &exit) && exit.ExitCode()&3 == 0:
				t.Logf("cfn-lint warnings (not failures):\n%s", out)
			default:
				t.Errorf("cfn-lint found errors (%v):\n%s", err, out)
			}
		})
	}
}
