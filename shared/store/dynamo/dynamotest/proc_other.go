//go:build !linux

package dynamotest

import "os/exec"

func detach(*exec.Cmd) {}

func kill(cmd *exec.Cmd) error { return cmd.Process.Kill() }
