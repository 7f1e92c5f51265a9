// Package container is the parent side of rl's built-in OCI runtime: it
// runs in C (rl's user namespace), starts I (`rl __init`, package
// container/child) in the container's new namespaces, hands it the Spec
// over a socket, relays signals and returns docker's exit status.
//
// Protocol on the socket (SOCK_STREAM, fd 3 in I): C sends the Spec as one
// JSON value; I either executes the command, which closes its end (the
// socket is close-on-exec) and C reads EOF, or sends one child.Report
// saying why it could not, and exits.
package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"rl/container/child"
	"rl/userns"
)

// InitCommand is argv[1] of I.
const InitCommand = "__init"

// Config is one container to run.
type Config struct {
	Spec *specs.Spec
	// Init is the executable of I; "" is rl itself (/proc/self/exe),
	// run as `Argv0 __init` (testscript dispatches on argv[0]'s base name).
	Init                  string
	Argv0                 string
	Stdin, Stdout, Stderr *os.File // nil: /dev/null, rl's own, rl's own
	// Console is the socket to P when Spec.Process.Terminal is set; I
	// sends the pty master there.
	Console *os.File
	// Prepare runs once I exists and before it gets the Spec: the network
	// is started here, since slirp4netns needs I's pid. Its ready, when
	// not nil, runs before BeforeExec (the command does not start until it
	// returns nil), so that the helper gets ready while I sets up. Its
	// cleanup runs after the container has exited.
	Prepare func(pid int) (ready func() error, cleanup func(), err error)
	// Cgroup, when set, is an open cgroup directory: I is created in it
	// by clone3(CLONE_INTO_CGROUP), so the command never runs outside its
	// limits, and its cgroup namespace is rooted there.
	Cgroup *os.File
	// BeforeExec, when set, runs once I has set everything up and before
	// it executes the command (I waits for it).
	BeforeExec func() error
}

// Error is a failure reported by I: set-up failed (125), the command
// could not be invoked (126) or was not found (127).
type Error struct{ R child.Report }

func (e *Error) Error() string { return e.R.Msg }
func (e *Error) ExitCode() int { return e.R.Code }
func (e *Error) Hint() string  { return e.R.Hint }

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace: unix.CLONE_NEWPID, specs.MountNamespace: unix.CLONE_NEWNS,
	specs.UTSNamespace: unix.CLONE_NEWUTS, specs.IPCNamespace: unix.CLONE_NEWIPC,
	specs.NetworkNamespace: unix.CLONE_NEWNET, specs.CgroupNamespace: unix.CLONE_NEWCGROUP,
	specs.UserNamespace: unix.CLONE_NEWUSER,
}

// Run runs the container and returns its exit status (128+N if the
// command died of signal N).
func Run(c Config) (int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socketpair: %w", err)
	}
	sock, childEnd := os.NewFile(uintptr(fds[0]), "sync"), os.NewFile(uintptr(fds[1]), "sync-child")
	defer sock.Close()
	cmd := command(c, childEnd)
	// Subscribe before I exists so that no signal is lost; they queue.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, userns.ForwardedSignals...)
	defer signal.Stop(sigs)
	child.Trace("C: I start")
	err = cmd.Start()
	child.Trace("C: I started")
	childEnd.Close()
	if err != nil {
		return 0, fmt.Errorf("starting the container's first process: %w", err)
	}
	fail := func(err error) (int, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	cleanup := func() {}
	if c.Prepare != nil {
		var ready func() error
		if ready, cleanup, err = c.Prepare(cmd.Process.Pid); err != nil {
			return fail(err)
		}
		if ready != nil {
			// The helper gets ready while I sets up; the command waits.
			before := c.BeforeExec
			c.BeforeExec = func() error {
				if err := ready(); err != nil {
					return err
				}
				if before != nil {
					return before()
				}
				return nil
			}
		}
	}
	defer cleanup()
	if c.BeforeExec != nil {
		if c.Spec.Annotations == nil {
			c.Spec.Annotations = map[string]string{}
		}
		c.Spec.Annotations[child.BeforeExecAnnotation] = "1"
	}
	if err := json.NewEncoder(sock).Encode(c.Spec); err != nil {
		return fail(fmt.Errorf("sending the configuration to the container: %w", err))
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	var r child.Report
	dec := json.NewDecoder(sock)
	err = dec.Decode(&r)
	if err == nil && r.Code == child.ReadyToExec && c.BeforeExec != nil {
		if err := c.BeforeExec(); err != nil {
			return fail(err)
		}
		if _, err := sock.Write([]byte{1}); err != nil {
			return fail(fmt.Errorf("letting the container start: %w", err))
		}
		r = child.Report{}
		err = dec.Decode(&r)
	}
	switch {
	case errors.Is(err, io.EOF):
		// The command is running: execve closed I's end.
	case err != nil:
		return fail(fmt.Errorf("reading the container's start-up report: %w", err))
	default:
		cmd.Wait()
		return 0, &Error{r}
	}
	return userns.Status(cmd.ProcessState, cmd.Wait())
}

func command(c Config, childEnd *os.File) *exec.Cmd {
	var flags uintptr
	var userNS bool
	for _, ns := range c.Spec.Linux.Namespaces {
		flags |= nsFlags[ns.Type]
		userNS = userNS || ns.Type == specs.UserNamespace
	}
	files := []*os.File{childEnd}
	if c.Console != nil {
		files = append(files, c.Console)
	}
	attr := &syscall.SysProcAttr{
		Cloneflags: flags,
		Setsid:     true,         // the command gets its own session (and can own a pty)
		Pdeathsig:  unix.SIGKILL, // C died: the container must not live on
	}
	if c.Cgroup != nil {
		attr.UseCgroupFD, attr.CgroupFD = true, int(c.Cgroup.Fd())
	}
	if userNS {
		// A nested namespace (--userns=keep-id). C is root of its parent
		// namespace, so it may write multi-range maps itself; ambient
		// capabilities carry I's full set over its execve as a non-root uid.
		attr.UidMappings = sysMap(c.Spec.Linux.UIDMappings)
		attr.GidMappings = sysMap(c.Spec.Linux.GIDMappings)
		// setgroups(2) stays denied where rl's own namespace denies it
		// (single-uid mode); a child may not re-allow it.
		attr.GidMappingsEnableSetgroups = setgroupsAllowed()
		attr.AmbientCaps = userns.AllCaps()
	}
	argv0 := c.Argv0
	if argv0 == "" {
		argv0 = "rl"
	}
	path := c.Init
	if path == "" {
		path = "/proc/self/exe"
	}
	return &exec.Cmd{
		Path:        path,
		Args:        []string{argv0, InitCommand},
		Env:         traceEnv(),
		Stdin:       c.Stdin,
		Stdout:      orStd(c.Stdout, os.Stdout),
		Stderr:      orStd(c.Stderr, os.Stderr),
		ExtraFiles:  files,
		SysProcAttr: attr,
	}
}

func orStd(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

func sysMap(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, l := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(l.ContainerID), HostID: int(l.HostID), Size: int(l.Size)}
	}
	return out
}

func setgroupsAllowed() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "allow"
}

// traceEnv passes RL_TRACE on to I, so that its steps are timed too.
func traceEnv() []string {
	if os.Getenv("RL_TRACE") == "" {
		return []string{}
	}
	return []string{"RL_TRACE=1", "RL_TRACE_T0=" + os.Getenv("RL_TRACE_T0")}
}
