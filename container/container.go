// Package container is the parent side of rl's built-in OCI runtime: it
// runs in C (rl's user namespace), starts I (`rl __init`, package
// container/child) in the container's new namespaces, hands it the Spec
// over a socket, relays signals and returns docker's exit status.
//
// Exec is the other way: no I, its set-up compiled into system calls
// (child.Program) that the container's first process runs before it
// executes the command itself.
//
// Protocol on the socket (SOCK_STREAM, fd 3 in I): C sends what I needs of
// the Spec (child.Config) as one JSON value; I either executes the command, which closes its end (the
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

// Config is one container to start.
type Config struct {
	// Namespaces and, with a user namespace (--userns=keep-id), the id
	// maps of I: those of the Spec that Run will send.
	Namespaces               []specs.LinuxNamespace
	UIDMappings, GIDMappings []specs.LinuxIDMapping
	// Init is the executable of I; "" is rl itself (/proc/self/exe),
	// run as `Argv0 __init` (testscript dispatches on argv[0]'s base name).
	Init                  string
	Argv0                 string
	Stdin, Stdout, Stderr *os.File // nil: /dev/null, rl's own, rl's own
	// Console is the socket to P when Spec.Process.Terminal is set; I
	// sends the pty master there.
	Console *os.File
	// Prepare runs once I exists and before it gets the Spec (see
	// Container.Prepare): the network is started here, since slirp4netns
	// needs I's pid. Its ready, when not nil, runs before Run's beforeExec
	// (the command does not start until it returns nil), so that the
	// helper gets ready while I sets up. Its cleanup runs in Close.
	Prepare func(pid int) (ready func() error, cleanup func(), err error)
	// DenySetgroups: I's user namespace, made by an unprivileged process
	// of the initial one (P), must deny setgroups(2) for its single-id
	// gid map to be written (user_namespaces(7)).
	DenySetgroups bool
	// MapIDs, when set, writes the maps of I's user namespace (subuid
	// maps, with newuidmap and newgidmap) once it exists, for Exec: the
	// command's child waits for it before its set-up (UIDMappings and
	// GIDMappings are then empty).
	MapIDs func(pid int) error
	// Signals, when set, is a channel the caller has made the target of
	// userns.ForwardedSignals (signal.Notify) for Exec: Wait relays what
	// it holds, also what came before the command started. (A Go
	// program's first Notify costs ~1 ms here: the runtime hands each
	// signal to a thread of its own and waits for it. The caller can
	// make it beside its own work.)
	Signals chan os.Signal
	// Cgroup, when set, is an open cgroup directory: I is created in it
	// by clone3(CLONE_INTO_CGROUP), so the command never runs outside its
	// limits, and its cgroup namespace is rooted there.
	Cgroup *os.File
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

// Container is a started I that waits for its Spec.
type Container struct {
	proc    *process
	sock    *os.File
	sigs    chan os.Signal
	prepare func(pid int) (ready func() error, cleanup func(), err error)
	ready   func() error
	cleanup func()
	waited  bool
	// ran: the command ran to its end; signals stay the container's
	// (Close).
	ran bool
	// console: the command has a pty, which P sizes itself on SIGWINCH;
	// the signal is not relayed (a shell as pid 1 would get it twice).
	console bool
	// Overlay, when set before Run, is the rootfs I mounts itself, on
	// the Spec's root, first of all: P starts I directly, in a user
	// namespace of its own, and there is no C to mount it
	// (cmd/rl/run_direct.go).
	Overlay *child.Overlay
	// Tap, when set before Run, is the tap device I makes for
	// slirp4netns in its net namespace, which P cannot enter (a direct
	// start): Config.Prepare runs once I has made it.
	Tap string
	// PasswdLine, when set before Run, is appended by I to the rootfs's
	// /etc/passwd once it has mounted it (a direct start's keep-id).
	PasswdLine string
}

// Start starts I in the container's new namespaces. I initialises while
// the caller goes on (waits for its maps, finds the image, mounts the
// rootfs, builds the Spec): it only waits for the Spec that Run sends.
// Before C is mapped, Start needs C's capabilities to be ambient ones
// (userns.Start raises them): I inherits them over its execve. I's copy of the mount
// tree is made now, so the caller's later mounts (the rootfs) reach it
// only if they propagate: the caller makes its tree shared first (I makes
// its own copy a slave before it mounts anything). Close must follow.
func Start(c Config) (*Container, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	sock, childEnd := os.NewFile(uintptr(fds[0]), "sync"), os.NewFile(uintptr(fds[1]), "sync-child")
	ctr := &Container{sock: sock, sigs: make(chan os.Signal, 16), cleanup: func() {},
		prepare: c.Prepare, console: c.Console != nil}
	// Signals are not taken yet: until Run, C is still setting up (waiting
	// for its maps or a store lock, pulling), and SIGINT or SIGTERM there
	// end C as they always did; I dies with it (Pdeathsig).
	child.Trace("C: I start")
	vfork := spawnWorks && ownUserNS(c) && selfMapped(c)
	if vfork {
		// P's direct start: no copy of P (spawn_amd64.go).
		ctr.proc, err = spawn(c, childEnd, nil)
	}
	if !vfork || errors.Is(err, errNoClone3) {
		// os/exec vforks when I makes no user namespace of its own, and
		// forks otherwise.
		cmd := command(c, childEnd)
		if err = cmd.Start(); err == nil {
			// (Waited for and signalled by pid, as spawn's; the pidfd
			// os/exec opened goes.)
			ctr.proc = &process{pid: cmd.Process.Pid}
			cmd.Process.Release()
		}
	}
	child.Trace("C: I started")
	childEnd.Close()
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("starting the container's first process: %w", err)
	}
	return ctr, nil
}

// Prepare runs Config.Prepare, once; Run does if the caller has not. Start
// leaves it to the caller because Start may run before C is mapped, and
// the network helpers need the maps.
func (ctr *Container) Prepare() error {
	if ctr.prepare == nil {
		return nil
	}
	prepare := ctr.prepare
	ctr.prepare = nil
	ready, cleanup, err := prepare(ctr.proc.pid)
	if err != nil {
		return err
	}
	ctr.ready, ctr.cleanup = ready, cleanup
	return nil
}

// Pid is I's pid.
func (ctr *Container) Pid() int { return ctr.proc.pid }

// Kill sends I SIGKILL unless it has been waited for, without reaping it
// (Close does): until then its pid stays its own, for a helper that
// still works on it (newuidmap).
func (ctr *Container) Kill() {
	if ctr != nil && !ctr.waited {
		ctr.proc.Kill()
	}
}

// Close kills I if Run did not run it to its end, stops what Prepare
// started and lets go of signals. It may be called more than once, and on
// a nil Container.
func (ctr *Container) Close() {
	if ctr == nil {
		return
	}
	if !ctr.waited {
		ctr.waited = true
		ctr.proc.Kill()
		ctr.proc.Wait()
	}
	ctr.cleanup()
	ctr.cleanup = func() {}
	if !ctr.ran {
		// Once the command has run, the caller only cleans up and exits:
		// a signal then is dropped, not left to end it halfway through
		// removing the container's directory. (Stopping also costs ~1
		// ms here: the runtime hands each signal to its signal thread
		// and waits, as Notify did.)
		signal.Stop(ctr.sigs)
	}
	if ctr.sock != nil {
		ctr.sock.Close()
	}
}

// Run sends I the Spec, relays signals, and returns the container's exit
// status (128+N if the command died of signal N) once it has exited.
// beforeExec, when set, runs once I has set everything up and before it
// executes the command (I waits for it).
func (ctr *Container) Run(s *specs.Spec, beforeExec func() error) (int, error) {
	proc, sock := ctr.proc, ctr.sock
	fail := func(err error) (int, error) {
		ctr.Close()
		return 0, err
	}
	// Order: with a Tap, Prepare (slirp4netns) runs once I has made it;
	// otherwise now, before I gets its configuration.
	if ctr.Tap == "" {
		if err := ctr.Prepare(); err != nil {
			return fail(err)
		}
	}
	if ctr.ready != nil || ctr.prepare != nil {
		// The helper gets ready while I sets up; the command waits.
		before := beforeExec
		beforeExec = func() error {
			if ready := ctr.ready; ready != nil {
				if err := ready(); err != nil {
					return err
				}
			}
			if before != nil {
				return before()
			}
			return nil
		}
	}
	if beforeExec != nil {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[child.BeforeExecAnnotation] = "1"
	}
	// From here on signals are the container's: relayed to I (queued
	// until the relay below starts, none lost).
	signal.Notify(ctr.sigs, userns.Relayed()...)
	config := child.ConfigOf(s)
	config.Overlay, config.Tap, config.PasswdLine = ctr.Overlay, ctr.Tap, ctr.PasswdLine
	if err := child.WriteConfig(sock, config); err != nil {
		return fail(fmt.Errorf("sending the configuration to the container: %w", err))
	}
	defer ctr.relay()()
	var r child.Report
	dec := json.NewDecoder(sock)
	err := dec.Decode(&r)
	if err == nil && r.Code == child.TapReady && ctr.Tap != "" {
		if err := ctr.Prepare(); err != nil {
			return fail(err)
		}
		r = child.Report{}
		err = dec.Decode(&r)
	}
	if err == nil && r.Code == child.ReadyToExec && beforeExec != nil {
		if err := beforeExec(); err != nil {
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
		ctr.waited = true
		proc.Wait()
		return 0, &Error{r}
	}
	ctr.waited, ctr.ran = true, true
	return proc.Wait()
}

// relay relays the signals rl gets to the container's first process
// until stop is called.
func (ctr *Container) relay() (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ctr.sigs:
				if s == unix.SIGWINCH && ctr.console {
					continue
				}
				ctr.proc.Signal(s)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// QuickError is why Exec did not start the command: the caller starts
// the container through I instead (Start, Run), which either succeeds or
// fails with its own message and exit code.
type QuickError struct {
	Err error
	// PasswdAdded: the child had appended keep-id's passwd line to the
	// image's /etc/passwd in the upper directory; rl-init must not.
	PasswdAdded bool
}

func (e *QuickError) Error() string { return "starting the command without rl-init: " + e.Err.Error() }
func (e *QuickError) Unwrap() error { return e.Err }

// Exec starts the container's command with no I: the child does I's
// set-up itself, compiled by P into system calls (child.Compile), and
// executes the command, which becomes the container's pid 1. That saves
// a Go program's start (rl-init's, ~8 ms here) where the run needs
// nothing of I that P cannot compile in advance: in a user namespace of
// its own, mapped by the child itself (single-id maps) or by c.MapIDs
// while the child waits (subuid maps); with c.Prepare (slirp4netns), the
// child makes the tap device, P prepares once it has, and the command
// waits until the helper is ready. The child is vforked (spawn) unless it
// waits for P (spawnWaiting). s, ov and passwdLine are what Run,
// Container.Overlay and Container.PasswdLine would give I. The caller
// waits with Wait; Close must follow. Any failure before the command runs
// is a *QuickError.
func Exec(c Config, s *specs.Spec, ov *child.Overlay, passwdLine string) (*Container, error) {
	subuid := c.MapIDs != nil && len(c.UIDMappings) == 0
	if !spawnWorks || !ownUserNS(c) || !(subuid || selfMapped(c)) || c.Console != nil || c.Cgroup != nil {
		return nil, &QuickError{Err: errors.New("not a user namespace of its own, or a pty or limits to set up")}
	}
	config := child.ConfigOf(s)
	config.Overlay, config.PasswdLine = ov, passwdLine
	ctr := &Container{sigs: c.Signals, cleanup: func() {}}
	var onTap func(pid int) error
	if c.Prepare != nil {
		// slirp4netns, from the host, attaches to the tap device the
		// child makes (P cannot enter its net namespace to make it);
		// its clean-up runs in Close.
		config.Tap = "tap0"
		onTap = func(pid int) error {
			child.Trace("P: tap made")
			ready, cleanup, err := c.Prepare(pid)
			if err != nil {
				return err
			}
			ctr.cleanup = cleanup
			if ready != nil {
				err = ready()
			}
			child.Trace("P: network ready")
			return err
		}
	}
	prog, err := child.Compile(&config)
	if err != nil {
		return nil, &QuickError{Err: err}
	}
	if ctr.sigs == nil {
		// Signals are the container's from now on, relayed by Wait.
		ctr.sigs = make(chan os.Signal, 16)
		signal.Notify(ctr.sigs, userns.Relayed()...)
	}
	child.Trace("P: command start")
	if subuid || prog.Waits {
		var mapIDs func(int) error
		if subuid {
			mapIDs = c.MapIDs
		}
		ctr.proc, err = spawnWaiting(c, prog, mapIDs, onTap)
	} else {
		ctr.proc, err = spawn(c, nil, prog)
	}
	child.Trace("P: command started")
	if err != nil {
		ctr.cleanup() // (a slirp4netns started for it)
		if c.Signals == nil {
			signal.Stop(ctr.sigs)
		}
		qe := &QuickError{Err: err}
		var ce *childError
		qe.PasswdAdded = errors.As(err, &ce) && ce.passwdAdded
		return nil, qe
	}
	return ctr, nil
}

// Wait relays signals to the command that Exec started and returns the
// container's exit status once it has exited.
func (ctr *Container) Wait() (int, error) {
	defer ctr.relay()()
	ctr.waited, ctr.ran = true, true
	return ctr.proc.Wait()
}

// ownUserNS: I gets a user namespace of its own.
func ownUserNS(c Config) bool {
	for _, ns := range c.Namespaces {
		if ns.Type == specs.UserNamespace {
			return true
		}
	}
	return false
}

// selfMapped reports whether I's own user namespace can be made by spawn:
// no maps (newuidmap writes them later) or one id each, the caller's own,
// with setgroups denied (I writes them itself).
func selfMapped(c Config) bool {
	if len(c.UIDMappings) == 0 && len(c.GIDMappings) == 0 {
		return true
	}
	one := func(m []specs.LinuxIDMapping, host int) bool {
		return len(m) == 1 && m[0].Size == 1 && int(m[0].HostID) == host
	}
	return c.DenySetgroups && one(c.UIDMappings, os.Getuid()) && one(c.GIDMappings, os.Getgid())
}

// cloneFlags are the clone flags of c's namespaces.
func cloneFlags(c Config) uintptr {
	var flags uintptr
	for _, ns := range c.Namespaces {
		flags |= nsFlags[ns.Type]
	}
	return flags
}

func command(c Config, childEnd *os.File) *exec.Cmd {
	flags := cloneFlags(c)
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
	if ownUserNS(c) {
		// A nested namespace (--userns=keep-id): C is root of its parent
		// namespace, so it may write multi-range maps itself. Or a direct
		// start's (P's, on the host) where spawn does not run (another
		// architecture, clone3 refused): single-uid maps written by Go, or
		// subuid maps written by newuidmap after I's execve. Ambient
		// capabilities carry I's full set over its execve as a non-root
		// (or unmapped) uid.
		// Without maps (P's direct start with subuid mapping: newuidmap
		// writes them after execve), none: Go writes any slice it gets,
		// and an empty map is EINVAL.
		if len(c.UIDMappings) > 0 {
			attr.UidMappings = sysMap(c.UIDMappings)
			attr.GidMappings = sysMap(c.GIDMappings)
			// setgroups(2) stays denied where rl's own namespace denies
			// it (single-uid mode); a child may not re-allow it. (Read
			// only here: Go consults it only when it writes the maps.)
			attr.GidMappingsEnableSetgroups = !c.DenySetgroups && setgroupsAllowed()
		}
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
	cmd := &exec.Cmd{
		Path:        path,
		Args:        []string{argv0, InitCommand},
		Env:         initEnv(),
		Stdout:      orStd(c.Stdout, os.Stdout),
		Stderr:      orStd(c.Stderr, os.Stderr),
		ExtraFiles:  files,
		SysProcAttr: attr,
	}
	if c.Stdin != nil {
		// (Only then: a nil *os.File in the io.Reader would be passed as
		// fd -1, a closed fd 0, instead of /dev/null.)
		cmd.Stdin = c.Stdin
	}
	return cmd
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

// initEnv is I's environment until its execve gives the command the
// Spec's: HOME, so that I can be found among the processes of one user's
// rl by its environment (the tests' leftovers check does), RL_TRACE, so
// that I's steps are timed too, and GOMAXPROCS=1: I runs nothing in
// parallel, and a Go runtime with one P starts ~1 ms sooner here (fewer
// per-P structures, ~30 fewer page faults).
func initEnv() []string {
	env := []string{"HOME=" + os.Getenv("HOME"), "GOMAXPROCS=1"}
	if os.Getenv("RL_TRACE") != "" {
		env = append(env, "RL_TRACE=1", "RL_TRACE_T0="+os.Getenv("RL_TRACE_T0"))
	}
	return env
}
