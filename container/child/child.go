// Package child is the container side of rl's runtime: I, the process that
// becomes pid 1 of the container: cmd/rl-init in the rl that make build
// ships, rl itself as `rl __init` in the default build. The parent side
// (package container) starts it with fresh pid, mount, uts, ipc, net and
// cgroup namespaces. It reads the Spec from fd 3, sets the container up
// in the order below, and replaces itself with the command (execve), after
// which nothing of rl is left in the container's pid namespace.
//
// Everything runs on one locked OS thread: capabilities, credentials and
// the bounding set are per thread, and the final execve takes the calling
// thread's credentials (credentials(7), execve(2)).
package child

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"rl/overlay"
	"rl/tap"
)

// File descriptors I gets from its parent.
const (
	SyncFD    = 3 // stream socket: Spec in (JSON), Report out
	ConsoleFD = 4 // with -t: socket to P, the pty master is sent there
)

// Report is what I sends back when it cannot start the command. A
// successful execve closes the socket (it is close-on-exec) instead.
// ReadyToExec is the Code of the Report I sends, when the Spec carries
// BeforeExecAnnotation, once everything is set up and only execve is
// left; it then waits for one byte from C.
const ReadyToExec = -1

// TapReady is the Code of the Report I sends once it has made
// Config.Tap; it goes on with its set-up at once.
const TapReady = -2

// BeforeExecAnnotation in the Spec asks I for the ReadyToExec handshake.
const BeforeExecAnnotation = "io.rl.before-exec"

// Config is what I reads of the Spec, and what C sends it: the Spec's
// fields that I uses and no others. encoding/json builds its decoders
// and encoders from the types it meets, and specs.Spec reaches dozens
// (resources, seccomp, Windows, VM...): decoding a whole Spec took I 2-4
// ms of its start here, a Config 0.5 ms. ConfigOf is the only way from one
// to the other.
type Config struct {
	Root string // the rootfs, in C's (and I's) mount tree
	// Overlay, when set, is mounted on Root by I first of all: P started
	// I directly, and no C mounted the rootfs (cmd/rl/run_direct.go).
	// ConfigOf leaves it unset, as the two below; the caller sets them.
	Overlay *Overlay
	// PasswdLine, when set, is appended to the rootfs's /etc/passwd once
	// the overlay is mounted (--userns=keep-id adds the user there, as
	// podman does; C did it through its own mount of the rootfs).
	PasswdLine string
	// Tap, when set, is a persistent tap device I makes in its net
	// namespace once the overlay is mounted, then reports TapReady: P
	// started I directly and cannot enter that namespace to make it for
	// slirp4netns (package tap).
	Tap           string
	ReadOnly      bool // the rootfs mount is made read-only
	Hostname      string
	Mounts        []specs.Mount
	NetNS         bool // I has its own net namespace: bring lo up
	MaskedPaths   []string
	ReadonlyPaths []string
	Args, Env     []string
	Cwd           string
	User          specs.User
	Capabilities  *specs.LinuxCapabilities
	NoNewPrivs    bool
	OOMScoreAdj   *int
	Terminal      bool
	// BeforeExec asks for the ReadyToExec handshake.
	BeforeExec bool
}

// ConfigOf is the Config of s.
func ConfigOf(s *specs.Spec) Config {
	c := Config{Mounts: s.Mounts, Hostname: s.Hostname, BeforeExec: s.Annotations[BeforeExecAnnotation] != ""}
	if s.Root != nil {
		c.Root, c.ReadOnly = s.Root.Path, s.Root.Readonly
	}
	if s.Linux != nil {
		c.MaskedPaths, c.ReadonlyPaths = s.Linux.MaskedPaths, s.Linux.ReadonlyPaths
		for _, n := range s.Linux.Namespaces {
			c.NetNS = c.NetNS || n.Type == specs.NetworkNamespace
		}
	}
	if p := s.Process; p != nil {
		c.Args, c.Env, c.Cwd, c.User, c.Capabilities = p.Args, p.Env, p.Cwd, p.User, p.Capabilities
		c.NoNewPrivs, c.OOMScoreAdj, c.Terminal = p.NoNewPrivileges, p.OOMScoreAdj, p.Terminal
	}
	return c
}

// Overlay is a native overlayfs mount (package overlay): lower
// directories top first, and the upper and work directories.
type Overlay struct {
	Lowers      []string
	Upper, Work string
}

type Report struct {
	Code int    // 125 set-up failed, 126 cannot invoke, 127 not found
	Msg  string // one line
	Hint string `json:",omitempty"`
	// Overlay: the overlay mount failed (Config.Overlay); C's way of
	// mounting, which can fall back to fuse-overlayfs, may still work.
	Overlay bool `json:",omitempty"`
}

// Main is the entry point of I (rl-init, or `rl __init`); it returns only
// on failure.
func Main() int {
	trace("I: main")
	runtime.LockOSThread()
	sock := os.NewFile(SyncFD, "sync")
	c, err := ReadConfig(sock)
	if err != nil {
		// The parent died or sent garbage; nobody to report to.
		return 125
	}
	trace("I: spec received")
	err = start(&c, sock)
	r := Report{Code: 125, Msg: err.Error()}
	var oe *overlayError
	r.Overlay = errors.As(err, &oe)
	var ce *codedError
	if errors.As(err, &ce) {
		r.Code = ce.code
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		r.Hint = h.Hint()
	}
	json.NewEncoder(sock).Encode(r)
	return r.Code
}

// start sets the container up and executes the command. Each line is one
// step; the order matters where commented.
func start(s *Config, sock *os.File) error {
	root := s.Root
	// Mount events must not travel back to C (or further): make our copy
	// of the mount tree a slave before mounting anything.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making / a slave mount: %w", err)
	}
	if o := s.Overlay; o != nil {
		// The rootfs, in this mount namespace only: it goes with it.
		if err := overlay.Mount(o.Lowers, o.Upper, o.Work, root); err != nil {
			return &overlayError{err}
		}
		trace("I: rootfs mounted")
	}
	if s.PasswdLine != "" {
		if err := AppendInRoot(root, "/etc/passwd", s.PasswdLine); err != nil {
			return fmt.Errorf("adding your user to the image's /etc/passwd: %w", err)
		}
	}
	if s.Tap != "" {
		// After the overlay: if that fails, P starts no slirp4netns.
		if err := tap.Create(s.Tap); err != nil {
			return fmt.Errorf("slirp4netns: %w", err)
		}
		if err := json.NewEncoder(sock).Encode(Report{Code: TapReady}); err != nil {
			return fmt.Errorf("telling rl the tap device is ready: %w", err)
		}
	}
	// pivot_root needs the new root to be a mount point of its own.
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting the rootfs %s: %w", root, err)
	}
	for _, m := range s.Mounts {
		if err := mountOne(root, m); err != nil {
			return err
		}
	}
	// Devices after /dev's tmpfs and before masking (masks use /dev/null).
	if err := makeDevices(root); err != nil {
		return err
	}
	if err := maskPaths(root, s.MaskedPaths); err != nil {
		return err
	}
	if err := readonlyPaths(root, s.ReadonlyPaths); err != nil {
		return err
	}
	trace("I: mounts done")
	if err := pivotRoot(root); err != nil {
		return err
	}
	if s.NetNS {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("setting the hostname: %w", err)
		}
	}
	if s.OOMScoreAdj != nil {
		// Raising it is always allowed; lowering it below the value
		// inherited needs CAP_SYS_RESOURCE in the initial namespace.
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*s.OOMScoreAdj)), 0); err != nil {
			return fmt.Errorf("setting oom_score_adj to %d (lowering it needs privileges rl does not have): %w", *s.OOMScoreAdj, unwrapPath(err))
		}
	}
	if s.Terminal {
		// Before the user switch: the pty slave is chowned to the user.
		if err := setupTerminal(s.User.UID, s.User.GID); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(s.Cwd, 0o755); err != nil {
		return fmt.Errorf("creating the working directory %s: %w", s.Cwd, err)
	}
	// After the working directory is made: docker and podman make a
	// missing one with --read-only too.
	if s.ReadOnly {
		// Only the root mount: /dev, /proc, volumes keep their own flags.
		if err := unix.MountSetattr(-1, "/", 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("making the rootfs read-only: %w", err)
		}
	}
	// Order: the bounding set can only be reduced while CAP_SETPCAP is
	// effective, i.e. before switching to a non-root user.
	if err := dropBounding(s.Capabilities); err != nil {
		return err
	}
	if err := setUser(s.User); err != nil {
		return err
	}
	if err := os.Chdir(s.Cwd); err != nil {
		return fmt.Errorf("changing to the working directory %s: %w", s.Cwd, err)
	}
	// Look the command up as the final user, so that permissions are theirs.
	path, err := lookPath(s.Args[0], s.Env)
	if err != nil {
		return err
	}
	if err := setCaps(s.Capabilities); err != nil {
		return err
	}
	if s.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("setting no_new_privs: %w", err)
		}
	}
	if s.BeforeExec {
		// C has something to do between our set-up and the command (see
		// container.Config.BeforeExec): tell it, wait for its go-ahead.
		if err := json.NewEncoder(sock).Encode(Report{Code: ReadyToExec}); err != nil {
			return fmt.Errorf("telling rl the container is ready: %w", err)
		}
		var b [1]byte
		if _, err := sock.Read(b[:]); err != nil {
			return fmt.Errorf("waiting for rl's go-ahead: %w", err)
		}
	}
	// The command's soft limit of open files is its hard one, as podman's
	// and docker's are. (Set here, not inherited: Go raises the soft limit
	// of every Go program at its start, P's and I's, and restores it only
	// through os/exec and syscall.Exec, so the command's depended on how
	// I was started. syscall.Setrlimit, not unix's: it tells Go not to
	// restore the old one at execve.)
	var nofile syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile) == nil && nofile.Cur < nofile.Max {
		nofile.Cur = nofile.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nofile)
	}
	// Last: every fd but 0, 1 and 2 closes at execve: the socket to C (the
	// command must not be able to speak for I), the console socket, and
	// whatever fds the caller of rl left open (CVE-2024-21626 class).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	// The command must die with C. PR_SET_PDEATHSIG belongs to a thread,
	// not a process (prctl(2)): C set it on the thread it forked, but Go
	// may run this goroutine on another thread of I, and the thread that
	// calls execve becomes the process (de_thread) with its own setting,
	// 0 for every thread Go made. Seen: 1 to 3 containers in 60-90
	// outlived a SIGKILLed rl under load. So set it again on this thread, then make
	// sure C is still there (its end of the socket is open), since a
	// signal for a death before the prctl is never sent.
	if err := setPdeathsig(); err != nil {
		return err
	}
	trace("I: exec")
	err = unix.Exec(path, s.Args, s.Env)
	return execError(s.Args[0], err)
}

// AppendInRoot appends line to the file name of root, resolved inside it
// (C appends keep-id's passwd line itself when it has mounted the rootfs).
func AppendInRoot(root, name, line string) error {
	p, err := securejoin.SecureJoin(root, name)
	if err != nil {
		return err
	}
	// (O_NONBLOCK: a FIFO planted there fails, ENXIO, instead of blocking.)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// setPdeathsig arms SIGKILL for C's death on the calling thread and fails
// if C has gone already.
func setPdeathsig() error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_PDEATHSIG: %w", err)
	}
	fds := []unix.PollFd{{Fd: SyncFD, Events: unix.POLLRDHUP}}
	if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0 {
		return errors.New("rl went away before the command started")
	}
	return nil
}

// pivotRoot makes root the new / and detaches the old one entirely, so
// that no path leads from the container to the host's file system
// (pivot_root(2): the pivot_root(".", ".") idiom).
func pivotRoot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir %s: %w", root, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	return unix.Chdir("/")
}

type overlayError struct{ error }

func (e *overlayError) Unwrap() error { return e.error }

type codedError struct {
	code int
	msg  string
}

func (e *codedError) Error() string { return e.msg }

// lookPath finds the command in the container's PATH, as execvp would.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, checkExec(name, name)
	}
	var denied error
	for _, p := range candidates(name, env) {
		err := checkExec(name, p)
		if err == nil {
			return p, nil
		}
		var ce *codedError
		if errors.As(err, &ce) && ce.code == 126 && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", &codedError{127, fmt.Sprintf("%s: executable file not found in $PATH", name)}
}

// candidates are the paths execvp tries for name, in order: name itself
// if it has a slash, else name in each directory of the container's PATH
// (or the default one).
func candidates(name string, env []string) []string {
	if strings.Contains(name, "/") {
		return []string{name}
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	var out []string
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		out = append(out, filepath.Join(dir, name))
	}
	return out
}

func checkExec(name, p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return &codedError{127, fmt.Sprintf("%s: no such file or directory", name)}
		}
		return &codedError{126, fmt.Sprintf("%s: %v", name, err)}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return &codedError{126, fmt.Sprintf("%s: is a directory", name)}
	}
	if err := unix.Access(p, unix.X_OK); err != nil {
		return &codedError{126, fmt.Sprintf("%s: permission denied", name)}
	}
	return nil
}

func execError(name string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		// The file exists (checked), so its interpreter or loader does not.
		return &codedError{127, fmt.Sprintf("%s: no such file or directory (its interpreter or dynamic loader is missing)", name)}
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.ENOEXEC), errors.Is(err, unix.EPERM):
		return &codedError{126, fmt.Sprintf("%s: cannot execute: %v", name, err)}
	}
	return &codedError{126, fmt.Sprintf("%s: %v", name, err)}
}

// trace: see cmd/rl/trace.go (RL_TRACE=1).
func trace(step string) {
	if os.Getenv("RL_TRACE") == "" {
		return
	}
	t0, _ := strconv.ParseInt(os.Getenv("RL_TRACE_T0"), 10, 64)
	fmt.Fprintf(os.Stderr, "rl: trace %6.2f ms  pid %d  %s\n", float64(time.Now().UnixNano()-t0)/1e6, os.Getpid(), step)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Trace is trace for the parent side (package container): with RL_TRACE
// set, one line on stderr with the time since P started.
func Trace(step string) { trace(step) }
