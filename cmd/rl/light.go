//go:build rllight && !rlfront

package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"rl/image"
	"rl/userns"
)

// rl's core (tag rllight; the front runs it, see front.go) carries two
// programs inside itself, both written by make build just before it:
//
//   - rl-full, the default build of rl, with containers/image linked in,
//     runs the commands of transferCommands (see transfer.go);
//   - rl-init (cmd/rl-init, memfd.go) is I, the container's first
//     process: a 2.5 MB Go program starts in about half the time of the
//     core here.
//
// rl-full is executed from a sealed memfd (memfd_create(2), fcntl(2)
// F_ADD_SEALS): nothing is written to disk, and no process can change it
// once it runs. Writing it (25 MB) costs about 10 ms, paid only by those
// commands and by a run that pulls. rl-init comes from P: the front hands
// C its cached copy (front.go), else a memfd it fills while C starts
// (memfdForC, which this build uses when it is P itself). Either way no
// process in the container can reach it: I is the container's only
// process until it executes the command (the CVE-2019-5736 class).

//go:embed rl-full
var fullBuild string

func fullBinary() (string, error) { return sealedExec("rl-full", fullBuild) }

// initForC: see memfdForC.
func initForC(n int) (*os.File, func() error) { return memfdForC(n) }

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
