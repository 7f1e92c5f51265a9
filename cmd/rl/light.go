//go:build rllight

package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"rl/image"
	"rl/userns"
)

// The rl that make build ships (tag rllight) carries two programs inside
// itself, both written by make build just before this one:
//
//   - rl-full, the default build of rl, with containers/image linked in,
//     runs the commands of transferCommands (see transfer.go);
//   - rl-init (cmd/rl-init) is I, the container's first process: a 2.5 MB
//     Go program starts in about half the time of rl itself here.
//
// Each is executed from a sealed memfd (memfd_create(2), fcntl(2)
// F_ADD_SEALS): nothing is written to disk, so one rl file is all a user
// copies to a cluster, and no process can change a binary once it runs
// (the container cannot rewrite I's binary through /proc/1/exe, the
// CVE-2019-5736 class). Writing rl-full (25 MB) costs about 10 ms, paid
// only by those commands and by a run that pulls; rl-init is written by P
// while C starts (initForC).

//go:embed rl-full
var fullBuild string

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
		return nil, &hintErr{errors.New("this host forbids executable memfds (vm.memfd_noexec=2), which rl needs for its image commands"),
			"build rl without the rllight tag (go build -tags 'exclude_graphdriver_btrfs containers_image_openpgp' ./cmd/rl), which needs none"}
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

func fullBinary() (string, error) { return sealedExec("rl-full", fullBuild) }

// envInitFD names the fd on which C finds rl-init, written by P.
const envInitFD = "_RL_INIT_FD"

// initForC gives C rl-init in a memfd that P fills while C starts (and
// newuidmap runs): copying the 2.5 MB cost about 4 ms here, which would
// otherwise delay I. n is the number of ExtraFiles C gets before it.
// Where no memfd can be made, it gives nothing and C falls back to rl
// itself (initBinary).
func initForC(n int) (*os.File, func() error) {
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

// nameSelf: this build is never executed from a memfd.
func nameSelf() {}

func setTransferRun(c *command) {
	// The full build parses the flags and enters the user namespace itself
	// (its own command table says which commands need it): this process
	// must not do either first.
	c.Store = false
	c.Run = func([]string) error {
		path, err := fullBinary()
		if err != nil {
			return err
		}
		// Become the full build: same pid, argv and environment, so
		// signals, the terminal and the exit status are simply its own.
		err = unix.Exec(path, os.Args, os.Environ())
		return fmt.Errorf("running rl's full build: %w", err)
	}
}

// pullForRun runs `rl pull` of the full build as a child of C. C is mapped
// already (userns.WaitMapped removed the variable that would make the
// child wait), so the child pulls in this user namespace straight away.
// The child prints its own error line; C then exits with its status.
func pullForRun(ctx context.Context, store *image.Store, cfg *runConfig) (*image.Image, error) {
	path, err := fullBinary()
	if err != nil {
		return nil, err
	}
	args := []string{os.Args[0], "pull"}
	if cfg.TLSVerify != nil {
		args = append(args, "--tls-verify="+strconv.FormatBool(*cfg.TLSVerify))
	}
	if cfg.Flags.creds != "" {
		args = append(args, "--creds", cfg.Flags.creds)
	}
	if !isTerminal(os.Stderr) {
		args = append(args, "--quiet")
	}
	var id strings.Builder
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = append(args, "--", cfg.Image)
	cmd.Stdout = &id       // the pulled image's ID
	cmd.Stderr = os.Stderr // progress and errors
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Interrupted (rl got SIGINT or SIGTERM): let the pull stop cleanly.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	err = cmd.Run()
	if st, serr := userns.Status(cmd.ProcessState, err); serr != nil {
		return nil, fmt.Errorf("running rl's full build to pull %s: %w", cfg.Image, serr)
	} else if st != 0 {
		return nil, exitStatus(st)
	}
	// By ID: a short name may have been resolved through registries.conf.
	return store.Lookup(strings.TrimSpace(id.String()))
}
