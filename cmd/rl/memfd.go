//go:build rllight

package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// rl-init (cmd/rl-init) is I, the container's first process: a 2.5 MB Go
// program starts in about half the time of rl's core here. The shipped
// rl's front and its core both carry it (see light.go and front.go).
//
//go:embed rl-init
var initBuild string

// memfds keeps the memfds open, and out of reach of the garbage
// collector (which would close them), for as long as this process runs.
var memfds = map[string]*os.File{}

// sealedExec returns a path execve accepts for data, put into a sealed
// memfd on first use. The fd is close-on-exec: execve resolves the path
// before it closes such fds (fexecve(3)), and no command inherits it.
func sealedExec(name, data string) (string, error) {
	f := memfds[name]
	if f == nil {
		var err error
		if f, err = newMemfd(name); err != nil {
			return "", err
		}
		if err := fill(f, data); err != nil {
			f.Close()
			return "", err
		}
		memfds[name] = f
	}
	return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), nil
}

func newMemfd(name string) (*os.File, error) {
	// MFD_EXEC: since Linux 6.3 vm.memfd_noexec=1 makes memfds without it
	// non-executable; older kernels do not know the flag (EINVAL).
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if errors.Is(err, unix.EACCES) {
		return nil, &hintErr{fmt.Errorf("this host forbids executable memfds (vm.memfd_noexec=2), which rl needs for %s", name),
			"let rl keep its core in a directory of yours it can execute from ($XDG_CACHE_HOME/rl, else ~/.cache/rl; RL_DEBUG=1 says why it does not), or build rl without the rllight tag (go build -tags 'exclude_graphdriver_btrfs containers_image_openpgp' ./cmd/rl), which needs no memfd"}
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	return moveUp(fd, name)
}

// moveUp moves fd to a high number, close-on-exec, and closes fd: the
// child that executes /proc/self/fd/N may get ExtraFiles (fds 3, 4, ...)
// installed before its execve, which would replace a low one (I's socket
// is its fd 3).
func moveUp(fd int, name string) (*os.File, error) {
	hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("%s: moving fd %d: %w", name, fd, err)
	}
	return os.NewFile(uintptr(hi), name), nil
}

// fill writes data and seals the memfd: from then on nobody can change it.
func fill(f *os.File, data string) error {
	if _, err := io.WriteString(f, data); err != nil {
		return fmt.Errorf("writing %s to a memfd: %w", f.Name(), err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		return fmt.Errorf("sealing the memfd of %s: %w", f.Name(), err)
	}
	return nil
}

// envInitFD names the fd on which C finds rl-init, written by P.
const envInitFD = "_RL_INIT_FD"

// memfdForC gives C rl-init in a memfd that P fills while C starts (and
// newuidmap runs): copying the 2.5 MB cost about 4 ms here, which would
// otherwise delay I. n is the number of ExtraFiles C gets before it.
// Where no memfd can be made, it gives nothing and C falls back to rl
// itself (initBinary).
func memfdForC(n int) (*os.File, func() error) {
	f, err := newMemfd("rl-init")
	if err != nil {
		return nil, nil
	}
	// fd 3 of C is userns's sync pipe; ExtraFiles follow from fd 4.
	os.Setenv(envInitFD, strconv.Itoa(4+n))
	return f, func() error { return fill(f, initBuild) }
}

// initBinary is the executable of I: rl-init, from P (initForC), else
// written here; where the host forbids executable memfds, rl itself
// (`rl __init`, as in the default build).
func initBinary() string {
	p, err := sealedExec("rl-init", initBuild)
	if err != nil {
		return ""
	}
	return p
}

// In C, take rl-init from P at once, before C starts any helper that
// would inherit the fd.
func init() {
	fd, err := strconv.Atoi(os.Getenv(envInitFD))
	if err != nil {
		return
	}
	os.Unsetenv(envInitFD)
	if f, err := moveUp(fd, "rl-init"); err == nil {
		memfds["rl-init"] = f
	}
}
