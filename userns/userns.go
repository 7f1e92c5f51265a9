// Package userns starts rl again inside a new user and mount namespace and
// maps the caller's ids into it: with the user's subordinate ranges through
// the setuid helpers newuidmap(1)/newgidmap(1) when the host grants them, or
// a single-uid map written directly otherwise (user_namespaces(7)).
//
// The parent side (Start, Reexec) runs in P on the host; the child side
// (IsChild, WaitPrepared, WaitMapped) runs in C. They talk over one pipe,
// C's fd 3, on which P sends two bytes: the first once its Config.Prepare
// is done, the second once C's maps are written. Between the two, C may
// start what needs no mapping (rl run starts I there, so that I's start
// overlaps newuidmap's).
package userns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"rl/idmap"
)

// Environment that tells C apart from P, and tells containers/storage that
// the user namespace is already set up (it must not re-execute itself).
const (
	envConfigured = "_CONTAINERS_USERNS_CONFIGURED"
	envUID        = "_CONTAINERS_ROOTLESS_UID"
	envGID        = "_CONTAINERS_ROOTLESS_GID"
	envMode       = "_RL_IDMAP_MODE"
	// envSync is set for C only: its fd 3 is the pipe that says
	// "prepared", then "mapped".
	// WaitMapped removes it, so that an rl that C starts in turn (the pull
	// helper of the light build) knows it is already mapped.
	envSync = "_RL_USERNS_SYNC"
	// EnvForce lets a user (or a test) choose the mode: "single" or "subuid".
	EnvForce = "RL_IDMAP"
)

// Mode names, as printed by rl info and in verbose notes.
const (
	ModeSubuid = "subuid"
	ModeSingle = "single"
)

// syncFD is the fd of the pipe C reads until its maps are written.
const syncFD = 3

// Config says what to start in the new namespaces.
type Config struct {
	// Path is the program C runs: "" is this one (/proc/self/exe). The
	// shipped rl's front names its core here (cmd/rl/front.go).
	Path       string
	Args       []string   // argv; Args[0] is kept as is (testscript dispatches on it)
	Env        []string   // nil: os.Environ()
	ExtraFiles []*os.File // become fd 4, 5, ... in C
	Verbose    bool       // note the chosen mode on stderr
	// Stdin, Stdout, Stderr of C; nil means rl's own.
	Stdin, Stdout, Stderr *os.File
	// Setpgid puts C in its own process group, so that signals from the
	// terminal reach only P, which forwards them once.
	Setpgid bool
	// ReadOnly commands (rl images, rl image inspect) only read the store:
	// a single-uid mapping is enough, unless RL_IDMAP asks otherwise.
	ReadOnly bool
	// Prepare, when set, runs in P once C exists, at the same time as the
	// map helpers: work C needs but P can do while C starts (its error
	// stops C). C's WaitPrepared returns once it is done.
	Prepare func() error
}

// Plan is the id mapping chosen for this user on this host.
type Plan struct {
	Mode      string
	UIDMap    []idmap.Mapping
	GIDMap    []idmap.Mapping
	Reason    string // why single-uid mode was chosen
	Hint      string
	uid, gid  int
	readOnly  bool
	newuidmap string
	newgidmap string
}

// Choose decides between subuid and single-uid mode for the calling user by
// reading /etc/subuid, /etc/subgid and looking for the helpers.
func Choose() (*Plan, error) {
	uid, gid := os.Getuid(), os.Getgid()
	p := &Plan{uid: uid, gid: gid}
	single := p.single
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	force := os.Getenv(EnvForce)
	switch force {
	case "", ModeSubuid:
	case ModeSingle:
		return single(EnvForce+"=single", ""), nil
	default:
		return nil, fmt.Errorf("%s=%q: want %q or %q", EnvForce, force, ModeSubuid, ModeSingle)
	}
	hint := fmt.Sprintf("ask an administrator for: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", name)
	subuid, err1 := readRanges("/etc/subuid", name, uint32(uid))
	subgid, err2 := readRanges("/etc/subgid", name, uint32(gid))
	var err error
	p.newuidmap, err = exec.LookPath("newuidmap")
	if err == nil {
		p.newgidmap, err = exec.LookPath("newgidmap")
	}
	switch {
	case err != nil:
		p = single("newuidmap/newgidmap not found", "install the uidmap package (apt-get install uidmap)")
	case err1 != nil || len(subuid) == 0:
		p = single("no subordinate uids for "+name+" in /etc/subuid", hint)
	case err2 != nil || len(subgid) == 0:
		p = single("no subordinate gids for "+name+" in /etc/subgid", hint)
	default:
		um, err := idmap.Build(uint32(uid), subuid)
		if err != nil {
			return nil, fmt.Errorf("/etc/subuid: %w", err)
		}
		gm, err := idmap.Build(uint32(gid), subgid)
		if err != nil {
			return nil, fmt.Errorf("/etc/subgid: %w", err)
		}
		p.Mode, p.UIDMap, p.GIDMap = ModeSubuid, um, gm
		return p, nil
	}
	if force == ModeSubuid {
		return nil, &hintError{fmt.Errorf("%s=subuid: %s", EnvForce, p.Reason), p.Hint}
	}
	return p, nil
}

// single turns p into a single-uid plan.
func (p *Plan) single(reason, hint string) *Plan {
	p.Mode, p.Reason, p.Hint = ModeSingle, reason, hint
	p.UIDMap, p.GIDMap = idmap.Single(uint32(p.uid)), idmap.Single(uint32(p.gid))
	return p
}

func readRanges(path, name string, id uint32) ([]idmap.Range, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return idmap.ParseSubID(f, name, id)
}

// Note is the one line rl prints about the mode in verbose mode and rl info.
func (p *Plan) Note() string {
	if p.Mode == ModeSubuid {
		return fmt.Sprintf("user namespace: subuid mapping (%d uids, %d gids)", idmap.Size(p.UIDMap), idmap.Size(p.GIDMap))
	}
	if p.readOnly {
		return "user namespace: single-uid mapping (" + p.Reason + ")"
	}
	return "user namespace: single-uid mapping (" + p.Reason + "); images with files of several owners are unpacked as your uid"
}

// Child is a started and mapped C.
type Child struct {
	Cmd  *exec.Cmd
	Plan *Plan
}

// Start starts Args in a new user and mount namespace and maps it. When it
// returns, C runs as uid 0 of the namespace with all capabilities there.
func Start(cfg Config) (*Child, error) {
	plan, err := Choose()
	if err == nil && cfg.ReadOnly && plan.Mode == ModeSubuid && os.Getenv(EnvForce) == "" {
		// Reading the store needs no other uid than the user's own:
		// mapping it alone saves newuidmap and newgidmap (two setuid
		// execs, most of the start-up of rl images).
		plan = plan.single("a read-only command", "")
		plan.readOnly = true
	}
	if err != nil {
		return nil, err
	}
	if cfg.Verbose {
		fmt.Fprintln(os.Stderr, "rl: "+plan.Note())
	}
	// /proc/self/exe, not os.Executable(): the full build runs from a
	// memfd (cmd/rl/light.go) that has no path to name.
	path := cfg.Path
	if path == "" {
		path = "/proc/self/exe"
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	env = append(env,
		envConfigured+"=done",
		envUID+"="+strconv.Itoa(plan.uid),
		envGID+"="+strconv.Itoa(plan.gid),
		envMode+"="+plan.Mode,
		envSync+"=1")
	cmd := &exec.Cmd{
		Path:       path,
		Args:       cfg.Args,
		Env:        env,
		Stdin:      orFile(cfg.Stdin, os.Stdin),
		Stdout:     orFile(cfg.Stdout, os.Stdout),
		Stderr:     orFile(cfg.Stderr, os.Stderr),
		ExtraFiles: append([]*os.File{r}, cfg.ExtraFiles...),
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
			Pdeathsig:  unix.SIGKILL, // P died: C must not live on
			Setpgid:    cfg.Setpgid,
		},
	}
	if plan.Mode == ModeSingle {
		// Go writes these maps itself between clone and execve, so C's
		// execve already runs as uid 0 and keeps its capabilities.
		cmd.SysProcAttr.UidMappings = sysMap(plan.UIDMap)
		cmd.SysProcAttr.GidMappings = sysMap(plan.GIDMap)
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
	} else {
		// The maps are written after execve by newuidmap, so C's execve
		// runs unmapped and would drop every capability. Raising them to
		// ambient (allowed: a new user namespace starts with all of them)
		// keeps them across that execve and saves a second one.
		cmd.SysProcAttr.AmbientCaps = AllCaps()
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, cloneError(err, readSysctl)
	}
	// mapped is closed once the maps are written (mapErr says how).
	mapped := make(chan struct{})
	var mapErr error
	if plan.Mode == ModeSubuid {
		// While Prepare runs.
		go func() {
			defer close(mapped)
			mapErr = plan.runHelpers(cmd.Process.Pid, plan.UIDMap, plan.GIDMap)
		}()
	} else {
		close(mapped) // Go wrote the maps before C's execve
	}
	fail := func(err error) (*Child, error) {
		w.Close() // C reads EOF: it exits quietly
		cmd.Process.Kill()
		// Order: C is reaped only after the helpers are done with its pid
		// (a reaped pid may be reused).
		<-mapped
		cmd.Wait()
		return nil, err
	}
	if cfg.Prepare != nil {
		if err := cfg.Prepare(); err != nil {
			return fail(err)
		}
	}
	// First byte: prepared. C may start I (still unmapped in subuid mode).
	if _, err := w.Write([]byte{1}); err != nil {
		return fail(fmt.Errorf("releasing the user namespace child: %w", err))
	}
	if <-mapped; mapErr != nil {
		return fail(mapErr)
	}
	// Second byte: mapped.
	if _, err := w.Write([]byte{1}); err != nil {
		return fail(fmt.Errorf("releasing the user namespace child: %w", err))
	}
	w.Close()
	return &Child{Cmd: cmd, Plan: plan}, nil
}

// Map writes uids and gids, maps within the plan's ranges, for the
// process pid, which has a new user namespace, with newuidmap and
// newgidmap. A single-uid plan has no helpers: its maps are one line each,
// which the process or its parent writes itself.
func (p *Plan) Map(pid int, uids, gids []idmap.Mapping) error {
	if p.Mode != ModeSubuid {
		return fmt.Errorf("internal error: %s mapping with newuidmap", p.Mode)
	}
	return p.runHelpers(pid, uids, gids)
}

// runHelpers runs newuidmap and newgidmap for pid, one after the other.
// (At once, as they were, they took as long on this 2-core machine and
// half as much CPU again: 48 ms of CPU per rl run against 38, each
// helper's page faults slower beside the other's; hyperfine: the two
// helpers from sh, 12.5 ms in turn, 15.2 ms at once.)
func (p *Plan) runHelpers(pid int, uids, gids []idmap.Mapping) error {
	err := runHelper(p.newuidmap, idmap.HelperArgs(pid, uids))
	if err == nil {
		err = runHelper(p.newgidmap, idmap.HelperArgs(pid, gids))
	}
	if err != nil {
		return &hintError{err, "check /etc/subuid and /etc/subgid, or set RL_IDMAP=single to run with your uid only"}
	}
	return nil
}

func orFile(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

func sysMap(m []idmap.Mapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, l := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(l.ContainerID), HostID: int(l.HostID), Size: int(l.Size)}
	}
	return out
}

// AllCaps lists every capability the running kernel knows (cap_last_cap).
func AllCaps() []uintptr {
	last := unix.CAP_LAST_CAP
	if n, err := strconv.Atoi(readSysctl("kernel/cap_last_cap")); err == nil {
		last = n
	}
	caps := make([]uintptr, 0, last+1)
	for c := 0; c <= last; c++ {
		caps = append(caps, uintptr(c))
	}
	return caps
}

// runHelper runs newuidmap or newgidmap and turns its output into one line.
// (syscall.ForkExec and wait4, not os/exec: a program's first os/exec
// start costs ~1.5 ms more here, pidfd probes with a child of their own
// and a goroutine to collect the output among it.) The helper's output
// goes to a pipe that P reads once it has exited: its write end is
// non-blocking, so that a helper with more to say than the pipe holds
// (64 KiB) loses the rest instead of waiting for P.
func runHelper(path string, args []string) error {
	var out [2]int
	if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("%s: pipe: %w", path, err)
	}
	defer unix.Close(out[0])
	unix.SetNonblock(out[1], true)
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		unix.Close(out[1])
		return err
	}
	defer devNull.Close()
	pid, err := syscall.ForkExec(path, append([]string{path}, args...), &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{devNull.Fd(), uintptr(out[1]), uintptr(out[1])},
	})
	unix.Close(out[1])
	if err != nil {
		return fmt.Errorf("%s failed: %w", path, err)
	}
	var ws unix.WaitStatus
	for {
		_, err = unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil && ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	b := make([]byte, 4096)
	n, _ := unix.Read(out[0], b)
	msg := strings.TrimSpace(string(b[:max(n, 0)]))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	switch {
	case msg != "":
	case err != nil:
		msg = err.Error()
	case ws.Signaled():
		msg = "signal: " + ws.Signal().String()
	default:
		msg = "exit status " + strconv.Itoa(ws.ExitStatus())
	}
	return fmt.Errorf("%s failed: %s", path, msg)
}

// ForwardedSignals are passed on from P to C (and from C to the container),
// as docker run --sig-proxy does.
var ForwardedSignals = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGCONT}

// Relayed are the ForwardedSignals but for those ignored when rl started
// (nohup, a background job of a shell without job control): the child
// inherits them ignored, as it would have from rl, and the Notify that
// relays them would undo that (Go's handler replaces SIG_IGN, and execve
// resets a handled signal to the default). Decided at the first call,
// before any Notify (after which a signal no longer counts as ignored).
var Relayed = sync.OnceValue(func() []os.Signal {
	var out []os.Signal
	for _, s := range ForwardedSignals {
		if !signal.Ignored(s) {
			out = append(out, s)
		}
	}
	return out
})

// Reexec runs cfg.Args again inside the user namespace, forwards signals
// to it and returns its exit status (128+N if it died of signal N).
func Reexec(cfg Config) (int, error) {
	cfg.Setpgid = true
	sigs := make(chan os.Signal, 16)
	// Subscribe before the child exists so that no signal is lost; until
	// the child runs, they queue in sigs.
	signal.Notify(sigs, Relayed()...)
	defer signal.Stop(sigs)
	c, err := Start(cfg)
	if err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				c.Cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = c.Cmd.Wait()
	close(done)
	return Status(c.Cmd.ProcessState, err)
}

// Status turns a wait result into docker's exit status.
func Status(ps *os.ProcessState, err error) (int, error) {
	if ps == nil {
		return 0, err
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return ps.ExitCode(), nil
	}
	return ExitCode(ws), nil
}

// ExitCode is a wait status as docker reports it: the exit status, or
// 128+N after signal N.
func ExitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// IsChild reports whether this process is C, running in rl's user namespace.
func IsChild() bool { return os.Getenv(envConfigured) == "done" && os.Getenv(envMode) != "" }

// Mode is the mapping mode C was started with ("subuid" or "single").
func Mode() string { return os.Getenv(envMode) }

// HostIDs are the uid and gid of the user on the host, as seen from C.
func HostIDs() (uid, gid int) {
	uid, _ = strconv.Atoi(os.Getenv(envUID))
	gid, _ = strconv.Atoi(os.Getenv(envGID))
	return uid, gid
}

// syncPipe is C's end of the pipe from P, between WaitPrepared and
// WaitMapped.
var syncPipe *os.File

// WaitPrepared blocks C until P's Config.Prepare is done. C may not be
// mapped yet: until WaitMapped returns it may only do what depends on
// neither its uid nor file ownership (start a process with capabilities
// it holds as ambient ones). WaitMapped calls it when C has not.
func WaitPrepared() error {
	if os.Getenv(envSync) == "" || syncPipe != nil {
		return nil
	}
	syncPipe = os.NewFile(syncFD, "userns-sync")
	return readSync()
}

// WaitMapped blocks C until P has written its id maps. It must run before
// anything that depends on C's uid (file creation, capabilities in use).
func WaitMapped() error {
	if os.Getenv(envSync) == "" {
		return nil // started by C, which was mapped already
	}
	if err := WaitPrepared(); err != nil {
		return err
	}
	defer func() { syncPipe.Close(); os.Unsetenv(envSync) }()
	return readSync()
}

func readSync() error {
	var b [1]byte
	if n, _ := syncPipe.Read(b[:]); n != 1 {
		// P failed to map us and has said why; stay silent.
		return errSilent
	}
	return nil
}

var errSilent = silentError{}

type silentError struct{}

func (silentError) Error() string { return "user namespace setup failed" }
func (silentError) ExitCode() int { return 125 }

// cloneError says why rl could not start itself in new user and mount
// namespaces, with the fix where the host's settings show it (sysctl reads
// one of them: "" when the host has no such setting). The kernel refuses
// with ENOSPC at a limit of namespaces: user.max_user_namespaces or
// user.max_mnt_namespaces (0 turns them off, as some HPC sites do), or past
// 32 nested user namespaces; with EPERM where Debian's older kernels have
// kernel.unprivileged_userns_clone=0, in a container whose seccomp profile
// refuses it, or where a security module denies it (user_namespaces(7),
// clone(2)). Ubuntu's AppArmor restriction
// (kernel.apparmor_restrict_unprivileged_userns, a host-wide setting also
// seen inside containers) mostly lets the clone succeed and takes the
// capabilities away instead, so it is only named as a possibility.
func cloneError(err error, sysctl func(name string) string) error {
	const what = "cannot create a user namespace"
	admin := "ask an administrator to "
	switch {
	case errors.Is(err, unix.ENOSPC):
		for _, n := range []string{"max_user_namespaces", "max_mnt_namespaces"} {
			if sysctl("user/"+n) == "0" {
				return &hintError{fmt.Errorf("%s: the host allows none (user.%s = 0)", what, n),
					admin + "allow them: sysctl -w user." + n + "=15000"}
			}
		}
		return fmt.Errorf("%s: a limit of namespaces is reached (user.max_user_namespaces = %s, user.max_mnt_namespaces = %s), or 32 are nested",
			what, orUnknown(sysctl("user/max_user_namespaces")), orUnknown(sysctl("user/max_mnt_namespaces")))
	case errors.Is(err, unix.EPERM) && sysctl("kernel/unprivileged_userns_clone") == "0":
		return &hintError{fmt.Errorf("%s: the host forbids it to unprivileged users (kernel.unprivileged_userns_clone = 0)", what),
			admin + "allow them: sysctl -w kernel.unprivileged_userns_clone=1"}
	case errors.Is(err, unix.EPERM):
		hint := "inside a container, its seccomp profile or missing privileges refuse it"
		if sysctl("kernel/apparmor_restrict_unprivileged_userns") == "1" {
			hint += "; on this Ubuntu host, AppArmor may (kernel.apparmor_restrict_unprivileged_userns = 1: " + admin + "add a profile for rl with the userns rule)"
		}
		return &hintError{fmt.Errorf("%s: operation not permitted", what), hint}
	case errors.Is(err, unix.EUSERS):
		return fmt.Errorf("%s: too many nested user namespaces", what)
	}
	return fmt.Errorf("starting rl in a new user namespace: %w", err)
}

func orUnknown(v string) string {
	if v == "" {
		return "?"
	}
	return v
}

// readSysctl reads /proc/sys/NAME ("" if it is not there).
func readSysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }
