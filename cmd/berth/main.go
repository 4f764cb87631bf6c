// Command berth is Berth's one binary: the local control plane (berth up),
// the agent (berth agent) and client commands.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(1)
	}
}
