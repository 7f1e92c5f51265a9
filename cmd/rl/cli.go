package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"rl/userns"
)

// A command is one `rl NAME` subcommand. Each lives in its own file and
// registers itself from init, so adding a command touches one file.
type command struct {
	Name    string
	Aliases []string
	Short   string // one line for `rl help`
	Usage   string // "rl pull [OPTIONS] IMAGE"
	// Store commands touch containers/storage and so run inside rl's user
	// namespace: main re-executes rl there (see userns.Reexec) before Run.
	Store bool
	// ReadOnly store commands only read it: a single-uid mapping will do.
	ReadOnly bool
	// Serial commands run nothing in parallel in C (no Go program of
	// their own, no port driver, no pull): C starts with GOMAXPROCS=1,
	// ~1 ms sooner (see serialEnv).
	Serial bool
	// MapsLater: Run, in C, waits for the id maps itself
	// (userns.WaitMapped), having started what needs none (rl run's I).
	MapsLater bool
	// Run gets the arguments after the command name. It returns nil, an
	// error to report (exit 125), a usageError, or an exitStatus.
	Run func(args []string) error
}

// initCommand is argv[1] of I, the container's first process, in the
// builds that run it as `rl __init` (container.InitCommand; init_test.go
// checks they agree: the front does not link package container).
const initCommand = "__init"

// storageHelper runs containers/storage's re-executed helpers (reexec.go);
// the front, which has no storage, has none.
var storageHelper = func() bool { return false }

// implement sets the Run of a command of commandTable (commands.go), from
// the init of the file that implements it: not every build has every file
// (see front.go).
func implement(name string, run func(args []string) error) {
	commands[name].Run = run
}

// rlMain is main without os.Exit, so that tests can run it in-process
// (testscript registers it as the `rl` command).
func rlMain() int {
	// Order matters: storage re-executes /proc/self/exe under names such as
	// "storage-untar" to unpack layers; those children must run their
	// routine and nothing else.
	if storageHelper() {
		return 0
	}
	// I, the container's first process, is rl re-executed as `rl __init`.
	if len(os.Args) > 1 && os.Args[1] == initCommand {
		return runInit()
	}
	// C, inside the user namespace: wait until P is prepared (dispatch
	// waits until it has written our maps).
	trace("main")
	if userns.IsChild() {
		if err := userns.WaitPrepared(); err != nil {
			return exitRLFailed // P could not map us and has said why
		}
	}
	// After WaitPrepared (fd 3 of C): no fd above 2 that rl did not open
	// itself for the purpose reaches a program rl starts (newuidmap,
	// slirp4netns, fuse-overlayfs, the pull of rl run). Those that rl
	// hands on are named in ExtraFiles, which os/exec installs anew.
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	nameSelf()
	return dispatch(os.Args[1:])
}

func dispatch(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprintf(os.Stdout, "Usage: %s\n\n%s\n", c.Usage, c.Short)
				return 0
			}
		}
		usage(os.Stdout)
		return 0
	case "-v", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "rl: unknown command %q\nhint: run 'rl help' for the list of commands\n", name)
		return 2
	}
	if c.Store && !userns.IsChild() {
		// P: everything below runs again in C, inside the user namespace.
		return report(os.Stderr, runInC(c))
	}
	if c.Run == nil {
		// Not in this build (the front): the core runs it.
		return report(os.Stderr, execCore())
	}
	if userns.IsChild() && !c.MapsLater {
		if err := userns.WaitMapped(); err != nil {
			return exitRLFailed // P could not map us and has said why
		}
	}
	return report(os.Stderr, c.Run(args[1:]))
}

// runInC runs command c again as C, inside rl's user namespace (cBinary:
// the core, in the front), and returns C's exit status (exitStatus).
func runInC(c *command) error {
	path, err := cBinary()
	if err != nil {
		return err
	}
	ucfg := userns.Config{Path: path, Args: os.Args, Verbose: verbose(), ReadOnly: c.ReadOnly}
	if c.Serial {
		ucfg.Env = serialEnv()
	}
	st, err := userns.Reexec(ucfg)
	if err != nil {
		return err
	}
	return exitStatus(st)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: rl COMMAND [OPTIONS] [ARG...]")
	fmt.Fprintln(w, "\nA daemonless, rootless container tool.\n\nCommands:")
	var names []string
	for n, c := range commands {
		if n == c.Name && !strings.HasPrefix(n, "__") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Short)
	}
	fmt.Fprintln(w, "\nRun 'rl help COMMAND' for more information on a command.")
}

// serialEnv is the environment of a C that runs no Go in parallel: one P
// (GOMAXPROCS=1) starts a Go program ~1 ms sooner here, the core ~1 ms
// (3 ms of CPU) sooner (fewer per-P structures and page faults). A
// GOMAXPROCS of the user's is kept; the one added here is gone from C's
// environment before main (below), so that nothing C passes on (rl run
// -e GOMAXPROCS) sees it.
func serialEnv() []string {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return nil
	}
	return append(os.Environ(), "GOMAXPROCS=1", envSerial+"=1")
}

// envSerial marks a GOMAXPROCS that serialEnv added.
const envSerial = "_RL_SERIAL"

func init() {
	if os.Getenv(envSerial) != "" {
		os.Unsetenv("GOMAXPROCS") // (the runtime has read it)
		os.Unsetenv(envSerial)
	}
}

// verbose reports whether RL_DEBUG asks for notes such as the id-mapping mode.
func verbose() bool { return os.Getenv("RL_DEBUG") != "" }
