package dynamotest

import (
	"os/exec"
	"syscall"
)

// detach puts moto_server in a process group of its own, so Close can end
// it and any children, and has the kernel kill it should the test binary
// die first.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func kill(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
