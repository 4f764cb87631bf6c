// Command berth is Berth's one binary: the local control plane (berth up),
// the agent (berth agent) and client commands.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/berth-run/berth/agent/process"
)

func main() {
	// The process driver runs each container under a copy of this binary.
	process.RunShimIfRequested()
	if err := rootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		var exit *exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		os.Exit(1)
	}
}
