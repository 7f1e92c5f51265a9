package container

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"rl/userns"
)

// process is a child of P (I, or the command Exec started) by its pid.
// P is its parent, so the pid is the child's own until P reaps it: no
// pidfd is needed to signal or wait for it. (os.FindProcess, on a
// program's first call, probes pidfd support with a child of its own:
// ~0.4 ms here, a tenth of what a quick start spends before the
// command.)
type process struct {
	pid int
	mu  sync.Mutex // held while signalling, and while reaping
	// reaped: the pid may be another process's now, which Signal must
	// not reach; status and err are Wait's.
	reaped bool
	status int
	err    error
}

// Signal sends sig, unless the process has been reaped.
func (p *process) Signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return os.ErrProcessDone
	}
	return unix.Kill(p.pid, sig.(syscall.Signal))
}

// Kill sends SIGKILL.
func (p *process) Kill() error { return p.Signal(unix.SIGKILL) }

// Wait waits for the process to exit and reaps it (again: the first
// result), and returns its status as docker does: 128+N after signal N.
// Signal may run meanwhile: the wait that blocks leaves the process a
// zombie (WNOWAIT), and only the reaping wait4 holds mu.
func (p *process) Wait() (int, error) {
	p.mu.Lock()
	reaped := p.reaped
	p.mu.Unlock()
	if reaped {
		// (Its pid may be another child's by now: no waitid.)
		return p.status, p.err
	}
	var info unix.Siginfo
	for unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return p.status, p.err
	}
	var ws unix.WaitStatus
	var err error
	for {
		if _, err = unix.Wait4(p.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	p.reaped = true
	if err != nil {
		p.err = os.NewSyscallError("wait4", err)
	} else {
		p.status = userns.ExitCode(syscall.WaitStatus(ws))
	}
	return p.status, p.err
}
