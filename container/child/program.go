package child

// I's set-up without I: start, compiled into a list of system calls.
//
// rl-init is a Go program, and a Go program's start costs ~8 ms here
// (runtime, package inits, ~180 page faults of ~30 us): on a direct
// single-uid start that is a third of the run, on its critical path. Its
// set-up itself is ~100 system calls whose arguments P knows before the
// clone. So when the run needs nothing of I but those calls (Compile
// says when), P compiles them into a Program, and the vforked child that
// would have executed rl-init runs the Program instead, in P's memory and
// on P's stack (package container, spawn_amd64.go), then executes the
// command itself: it becomes the container's pid 1 as I would have by its
// execve. The calls are start's, in start's order; what start decides on
// the way, the Program decides with an errno (a missing masked path is
// skipped, a missing mount point is made).
//
// Any failure ends the child before the command runs, and P then starts
// the container again the usual way, through rl-init, which fails the
// same way with its messages and exit codes (125, 126, 127) kept in one
// place, or succeeds where the Program was too strict.
//
// Paths inside the rootfs are resolved by the kernel: openat2(2) with
// RESOLVE_IN_ROOT from an fd of the rootfs (symlinks in the image cannot
// lead out, as securejoin's in start), and mounts go to
// /proc/self/fd/N of the resolved fd, as runc mounts.

import (
	"errors"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"rl/capability"
	"rl/overlay"
)

// Op is one system call of a Program.
type Op struct {
	Trap uintptr
	Args [6]uintptr
	// In: for each In[i] > 0, Args[i] is register In[i]'s value instead.
	In [6]uint8
	// FdPath: for each FdPath[i] > 0, before the call, the Program's
	// path buffer i holds /proc/self/fd/N for register FdPath[i]'s fd.
	FdPath [2]uint8
	// Out > 0: a successful call's result goes to register Out.
	Out uint8
	// OK is an errno that counts as success (EEXIST for a directory
	// that exists); a call that returns it puts nothing in Out.
	OK syscall.Errno
	// Skip ops follow a success; Else is the errno on which ElseSkip ops
	// are skipped instead of failing (ENOENT for a masked path that is
	// not there).
	Skip, ElseSkip int
	Else           syscall.Errno
}

// Registers is the number of registers of a Program (register 0 is
// none).
const Registers = 8

// Traps of ops that are not system calls but steps of the child's
// protocol with P (package container, spawnWaiting): Report tells P the
// tap device is made (P starts slirp4netns), Wait waits for P's go-ahead
// (slirp4netns is ready).
const (
	TrapReport = ^uintptr(0)
	TrapWait   = ^uintptr(1)
	// TrapParent fails if P has gone (a child that runs beside it).
	TrapParent = ^uintptr(2)
)

// Program is start's system calls for one container, and the command.
type Program struct {
	Ops []Op
	// Waits: the child waits for P at a TrapWait (the default network).
	Waits bool
	// PasswdOp is the op that appends keep-id's passwd line (-1: none):
	// a child that failed after it leaves the line in the upper
	// directory, and rl-init must not add it again.
	PasswdOp int
	// Candidates are the command's paths to try, in PATH's order, as
	// execvp does; Argv and Envv are NULL-terminated arrays.
	Candidates []*byte
	Argv, Envv unsafe.Pointer
	// Paths are the buffers of FdPath: "/proc/self/fd/", then the
	// child's number.
	Paths *[2][32]byte
	notes []note
	keep  []any
}

// note is what an op does, for P's messages: what, with a and b in
// place of its first and second %s (made into a string only when an op
// fails: a start made ~200 of them for nothing).
type note struct{ what, a, b string }

// Name says what op i does.
func (p *Program) Name(i int) string {
	n := p.notes[i]
	return strings.Replace(strings.Replace(n.what, "%s", n.a, 1), "%s", n.b, 1)
}

// The registers: the rootfs, a directory being walked, a mount target,
// anything else.
const (
	rRoot uint8 = iota + 1
	rDir
	rTarget
	rOther
)

// errNotCompiled says why a configuration needs rl-init.
var errNotCompiled = errors.New("needs rl-init")

type builder struct {
	p     *Program
	arena []byte
}

// arenaSize is the size of the builder's arena chunks: a start's C
// strings and structures fit in one.
const arenaSize = 16 << 10

// alloc is n zeroed bytes, 8-aligned, from the arena: C strings and
// the structures the kernel reads, none of which holds a Go pointer.
// Chunks are never grown (the ops hold their addresses as uintptrs) and
// are kept as long as the Program. One chunk instead of ~250 small
// objects: a fresh heap page costs a page fault (~30 us here), and P
// compiles once per process.
func (b *builder) alloc(n int) unsafe.Pointer {
	n = (n + 7) &^ 7
	if len(b.arena)+n > cap(b.arena) {
		b.arena = make([]byte, 0, max(arenaSize, n))
		b.p.keep = append(b.p.keep, b.arena)
	}
	p := unsafe.Pointer(unsafe.SliceData(b.arena[len(b.arena) : len(b.arena)+n]))
	b.arena = b.arena[:len(b.arena)+n]
	return p
}

// newIn is a zeroed T (with no Go pointer in it) in b's arena.
func newIn[T any](b *builder) *T {
	var zero T
	return (*T)(b.alloc(int(unsafe.Sizeof(zero))))
}

// addr is p as a system call argument.
func addr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// cstr is s as a C string in the arena.
func (b *builder) cstr(s string) *byte {
	p := (*byte)(b.alloc(len(s) + 1))
	copy(unsafe.Slice(p, len(s)), s) // (the NUL: the arena is zeroed)
	return p
}

// str is cstr as a system call argument.
func (b *builder) str(s string) uintptr { return uintptr(unsafe.Pointer(b.cstr(s))) }

// op appends o, which does what; opf one whose what holds %s for a and b.
func (b *builder) op(what string, o Op) { b.opf(what, "", "", o) }

func (b *builder) opf(what, x, y string, o Op) {
	b.p.Ops = append(b.p.Ops, o)
	b.p.notes = append(b.p.notes, note{what, x, y})
}

func (b *builder) path(i int) uintptr { return uintptr(unsafe.Pointer(&b.p.Paths[i][0])) }

// openIn opens name inside the rootfs (openat2 RESOLVE_IN_ROOT: its
// symlinks cannot lead out) into register out.
func (b *builder) openIn(name string, flags, mode uint64, out uint8) Op {
	how := newIn[unix.OpenHow](b)
	*how = unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Mode: mode, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	return Op{Trap: unix.SYS_OPENAT2, Args: [6]uintptr{0, b.str(rel(name)), addr(how), unsafe.Sizeof(*how)},
		In: [6]uint8{rRoot}, Out: out}
}

// resolve is openIn for O_PATH: a mount point, a directory to work in.
func (b *builder) resolve(name string, flags uint64, out uint8) Op {
	return b.openIn(name, flags|unix.O_PATH, 0, out)
}

// rel is name relative to the rootfs ("." for the rootfs itself).
func rel(name string) string {
	r := strings.TrimLeft(path.Clean("/"+name), "/")
	if r == "" {
		return "."
	}
	return r
}

// mkdirAll makes directory name inside the rootfs, as os.MkdirAll on a
// path resolved inside it, and leaves it open in rDir.
func (b *builder) mkdirAll(name string) {
	r := rel(name)
	if r == "." {
		b.op("resolving the rootfs", b.resolve(".", unix.O_DIRECTORY, rDir))
		return
	}
	parts := strings.Split(r, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		// Open the directory; if it is missing, make it in its parent
		// (still in rDir: a failed call writes no register) and open it.
		o := b.resolve(prefix, unix.O_DIRECTORY, rDir)
		o.Skip, o.Else, o.ElseSkip = 2, unix.ENOENT, 0
		b.opf("resolving %s in the rootfs", prefix, "", o)
		parent := rDir
		if i == 0 {
			parent = rRoot
		}
		b.opf("creating %s in the rootfs", prefix, "", Op{Trap: unix.SYS_MKDIRAT, Args: [6]uintptr{0, b.str(parts[i]), 0o755},
			In: [6]uint8{parent}, OK: unix.EEXIST})
		b.opf("resolving %s in the rootfs", prefix, "", b.resolve(prefix, unix.O_DIRECTORY, rDir))
	}
}

// Compile is c's set-up as a Program, for a child that has the
// namespaces and its maps (or waits for them first), and whose fds 0-2
// are set; or errNotCompiled (wrapped) when c needs rl-init: an overlay
// of more layers than fit in one mount (overlay.Fit), -t, a handshake, no
// command or no PATH to find it in.
func Compile(c *Config) (*Program, error) {
	var cands []string
	if len(c.Args) > 0 {
		cands = candidates(c.Args[0], c.Env)
	}
	switch {
	case c.Terminal:
		return nil, notCompiled("-t (the pty master goes to P)")
	case c.BeforeExec:
		return nil, notCompiled("a step between set-up and the command")
	case len(c.Args) == 0:
		return nil, notCompiled("no command")
	case len(cands) == 0:
		return nil, notCompiled("an empty PATH") // (rl-init says the command is not found)
	}
	if hasNUL(c) {
		return nil, notCompiled("a NUL byte in the configuration")
	}
	// (Capacities for a usual start: appends that move the slices would
	// copy them, and touch fresh pages.)
	b := &builder{p: &Program{Ops: make([]Op, 0, 256), notes: make([]note, 0, 256), PasswdOp: -1}}
	p := b.p
	p.Paths = newIn[[2][32]byte](b)
	for i := range p.Paths {
		copy(p.Paths[i][:], "/proc/self/fd/") // (the child writes the number)
	}
	// As start: our copy of the mount tree a slave before any mount.
	b.op("making / a slave mount", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str(""), b.str("/"), b.str(""), unix.MS_SLAVE | unix.MS_REC, 0}})
	root := b.str(c.Root)
	if o := c.Overlay; o != nil {
		dir, opts, err := overlay.Fit(o.Lowers, o.Upper, o.Work, overlay.ReadLink)
		if err != nil {
			return nil, notCompiled(err.Error())
		}
		if dir != "" {
			// Lower directories relative to the store's (many layers);
			// the child changes to the rootfs before pivot_root.
			b.opf("changing to %s", dir, "", Op{Trap: unix.SYS_CHDIR, Args: [6]uintptr{b.str(dir)}})
		}
		b.op("mounting the overlay", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str("overlay"), root, b.str("overlay"), 0, b.str(opts)}})
	}
	// pivot_root needs the new root to be a mount point of its own.
	b.op("bind-mounting the rootfs", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{root, root, b.str(""), unix.MS_BIND | unix.MS_REC, 0}})
	b.op("opening the rootfs", Op{Trap: unix.SYS_OPENAT, Args: [6]uintptr{atFDCWD, root, unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC}, Out: rRoot})
	if c.PasswdLine != "" {
		// As start: into the image's /etc/passwd, before any mount (a
		// volume on /etc must not get it).
		// (O_NONBLOCK: a FIFO planted there fails, with ENXIO, instead of
		// blocking the child, and P with it, in the open.)
		b.op("opening the image's /etc/passwd", b.openIn("/etc/passwd", unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NONBLOCK, 0o644, rOther))
		p.PasswdOp = len(p.Ops)
		b.op("adding your user to the image's /etc/passwd", Op{Trap: unix.SYS_WRITE, Args: [6]uintptr{0, b.str(c.PasswdLine), uintptr(len(c.PasswdLine))},
			In: [6]uint8{rOther}})
	}
	if c.Tap != "" {
		b.tap(c.Tap)
	}
	for _, m := range c.Mounts {
		if err := b.mount(m); err != nil {
			return nil, err
		}
	}
	b.devices()
	for _, m := range c.MaskedPaths {
		b.mask(m)
	}
	for _, r := range c.ReadonlyPaths {
		b.readonly(r)
	}
	b.pivotRoot(root)
	if c.NetNS {
		b.loopbackUp()
	}
	if c.Hostname != "" {
		b.op("setting the hostname", Op{Trap: unix.SYS_SETHOSTNAME, Args: [6]uintptr{b.str(c.Hostname), uintptr(len(c.Hostname))}})
	}
	if c.OOMScoreAdj != nil {
		s := strconv.Itoa(*c.OOMScoreAdj)
		b.op("opening oom_score_adj", Op{Trap: unix.SYS_OPENAT, Args: [6]uintptr{atFDCWD, b.str("/proc/self/oom_score_adj"), unix.O_WRONLY | unix.O_CLOEXEC}, Out: rOther})
		b.op("setting oom_score_adj", Op{Trap: unix.SYS_WRITE, Args: [6]uintptr{0, b.str(s), uintptr(len(s))}, In: [6]uint8{rOther}})
	}
	cwd := path.Clean("/" + c.Cwd)
	// After pivot_root: the rootfs is /, and no path leads out of it.
	for i := 1; i <= len(cwd); i++ {
		if i == len(cwd) || cwd[i] == '/' {
			if p := cwd[:i]; p != "/" {
				b.opf("creating the working directory %s", cwd, "", Op{Trap: unix.SYS_MKDIRAT, Args: [6]uintptr{atFDCWD, b.str(p), 0o755}, OK: unix.EEXIST})
			}
		}
	}
	if c.ReadOnly {
		attr := newIn[unix.MountAttr](b)
		*attr = unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		b.op("making the rootfs read-only", Op{Trap: unix.SYS_MOUNT_SETATTR, Args: [6]uintptr{atFDCWD, b.str("/"), 0, addr(attr), unsafe.Sizeof(*attr)}})
	}
	// Order, as start's: the bounding set while CAP_SETPCAP is effective,
	// the user, the working directory as the user, the capabilities.
	b.dropBounding(c.Capabilities)
	b.setUser(c.User)
	b.opf("changing to the working directory %s", cwd, "", Op{Trap: unix.SYS_CHDIR, Args: [6]uintptr{b.str(cwd)}})
	b.setCaps(c.Capabilities)
	if c.NoNewPrivs {
		b.op("setting no_new_privs", Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_SET_NO_NEW_PRIVS, 1}})
	}
	// The command's soft limit of open files is its hard one (see start).
	var nofile unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile) == nil {
		lim := newIn[unix.Rlimit](b)
		*lim = unix.Rlimit{Cur: nofile.Max, Max: nofile.Max}
		b.op("setting RLIMIT_NOFILE", Op{Trap: unix.SYS_PRLIMIT64, Args: [6]uintptr{0, unix.RLIMIT_NOFILE, addr(lim), 0}})
	}
	if c.Tap != "" {
		// slirp4netns has had the rest of the set-up to get ready (P
		// started it at TrapReport); the command waits for it, as
		// start's BeforeExec does.
		b.op("waiting for slirp4netns", Op{Trap: TrapWait})
		p.Waits = true
	}
	// Last, as start's: every fd but 0-2 closes at execve (P's own, and
	// whatever rl's caller left open), and the parent-death signal. P is
	// there if vforked: it is suspended in the clone until the execve.
	b.op("close_range", Op{Trap: unix.SYS_CLOSE_RANGE, Args: [6]uintptr{3, uintptr(^uint32(0)), unix.CLOSE_RANGE_CLOEXEC}})
	// A change of uid or gid (-u) cleared it (commit_creds); a child that
	// runs beside P (spawnWaiting) then checks that P is still there, as
	// start's setPdeathsig does: a death before the prctl sends nothing.
	b.op("setting the parent-death signal", Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL)}})
	b.op("checking that rl is still there", Op{Trap: TrapParent})

	// The command, looked up as lookPath does (after the user switch and
	// the chdir, so relative PATH entries and permissions are the
	// container's): the child tries each candidate.
	for _, cand := range cands {
		p.Candidates = append(p.Candidates, b.cstr(cand))
	}
	argv, err := syscall.SlicePtrFromStrings(c.Args)
	if err != nil {
		return nil, err
	}
	envv, err := syscall.SlicePtrFromStrings(c.Env)
	if err != nil {
		return nil, err
	}
	p.keep = append(p.keep, argv, envv)
	p.Argv, p.Envv = unsafe.Pointer(&argv[0]), unsafe.Pointer(&envv[0])
	return p, nil
}

const atFDCWD = ^uintptr(99) // AT_FDCWD (-100) as a system call argument

func notCompiled(why string) error { return &compileError{why} }

type compileError struct{ why string }

func (e *compileError) Error() string { return e.why + " " + errNotCompiled.Error() }
func (e *compileError) Unwrap() error { return errNotCompiled }

// hasNUL reports whether a string the Program passes to the kernel holds
// a NUL byte (rl-init then says which).
func hasNUL(c *Config) bool {
	s := []string{c.Root, c.Hostname, c.Cwd, c.PasswdLine}
	s = append(append(append(append(s, c.Args...), c.Env...), c.MaskedPaths...), c.ReadonlyPaths...)
	if o := c.Overlay; o != nil {
		s = append(append(s, o.Upper, o.Work), o.Lowers...)
	}
	for _, m := range c.Mounts {
		s = append(append(s, m.Destination, m.Type, m.Source), m.Options...)
	}
	for _, x := range s {
		if strings.IndexByte(x, 0) >= 0 {
			return true
		}
	}
	return false
}

// mount is mountOne: the target made and resolved inside the rootfs, the
// mount, the bind's flags with mount_setattr, the propagation.
func (b *builder) mount(m specs.Mount) error {
	flags, prop, data := parseOptions(m.Options)
	isBind := flags&unix.MS_BIND != 0 || m.Type == "bind"
	dest := m.Destination
	file := false
	if isBind {
		st, err := os.Stat(m.Source)
		if err != nil {
			return notCompiled("a bind source that cannot be read") // (rl-init says which)
		}
		file = !st.IsDir()
	}
	target := rDir // (where mkdirAll leaves it)
	if file {
		b.mkdirAll(path.Dir(rel(dest)))
		// (O_NONBLOCK: a FIFO in the image at the target must not block
		// the open.)
		b.opf("creating the mount point %s", dest, "", b.openIn(dest, unix.O_CREAT|unix.O_RDONLY|unix.O_NONBLOCK, 0o644, rTarget))
		target = rTarget
	} else {
		b.mkdirAll(dest)
	}
	if isBind {
		b.opf("bind-mounting %s on %s", m.Source, dest, Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str(m.Source), b.path(0), b.str(""), flags & (unix.MS_BIND | unix.MS_REC), 0},
			FdPath: [2]uint8{target}})
		b.setattr(dest, flags)
	} else {
		at := len(b.p.Ops)
		b.opf("mounting %s on %s", m.Type, dest, Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str(m.Source), b.path(0), b.str(m.Type), flags, b.str(data)},
			FdPath: [2]uint8{target}})
		if m.Type == "sysfs" {
			// sysfs needs a net namespace of our own (--network host has
			// none): the host's /sys then, read-only, as start binds it.
			b.opf("bind-mounting /sys on %s", dest, "", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str("/sys"), b.path(0), b.str(""), unix.MS_BIND | unix.MS_REC, 0},
				FdPath: [2]uint8{target}})
			b.setattr(dest, unix.MS_REC|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
			b.p.Ops[at].Else, b.p.Ops[at].Skip = unix.EPERM, len(b.p.Ops)-at-1
		}
	}
	for _, pr := range prop {
		b.opf("resolving %s", dest, "", b.resolve(dest, 0, rTarget))
		b.opf("setting the propagation of %s", dest, "", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str(""), b.path(0), b.str(""), pr, 0}, FdPath: [2]uint8{rTarget}})
	}
	return nil
}

// setattr applies a bind's ro, nosuid, nodev and noexec with
// mount_setattr(2) on the new mount (dest opened again: the fd of the
// mount point is the mount below it), as bindMount does.
func (b *builder) setattr(dest string, flags uintptr) {
	set := mountAttrs(flags)
	if set == 0 {
		return
	}
	at := uintptr(unix.AT_EMPTY_PATH)
	if flags&unix.MS_REC != 0 {
		at |= unix.AT_RECURSIVE
	}
	attr := newIn[unix.MountAttr](b)
	*attr = unix.MountAttr{Attr_set: set}
	b.opf("resolving %s", dest, "", b.resolve(dest, 0, rTarget))
	b.opf("setting the flags of %s", dest, "", Op{Trap: unix.SYS_MOUNT_SETATTR, Args: [6]uintptr{0, b.str(""), at, addr(attr), unsafe.Sizeof(*attr)},
		In: [6]uint8{rTarget}})
}

// devices is makeDevices: /dev resolved inside the rootfs (where the
// tmpfs went), the device files made in it.
func (b *builder) devices() {
	b.op("resolving /dev", b.resolve("/dev", unix.O_DIRECTORY, rDir))
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		b.opf("creating /dev/%s", d, "", Op{Trap: unix.SYS_OPENAT, Args: [6]uintptr{0, b.str(d),
			unix.O_CREAT | unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK, 0o666}, In: [6]uint8{rDir}, Out: rTarget})
		b.opf("binding /dev/%s", d, "", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str("/dev/" + d), b.path(0), b.str(""), unix.MS_BIND, 0}, FdPath: [2]uint8{rTarget}})
	}
	for _, l := range devLinks {
		b.opf("creating /dev/%s", l[0], "", Op{Trap: unix.SYS_SYMLINKAT, Args: [6]uintptr{b.str(l[1]), 0, b.str(l[0])}, In: [6]uint8{0, rDir}, OK: unix.EEXIST})
	}
}

// devLinks are /dev's links, name and target (makeDevices's).
var devLinks = [][2]string{{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"}, {"core", "/proc/kcore"}}

// mask is maskPaths for one path: /dev/null over a file, an empty
// read-only tmpfs over a directory (tried when the bind says ENOTDIR: a
// failed bind costs less than P's stat of the host's path), nothing if it
// is not there.
func (b *builder) mask(name string) {
	at := len(b.p.Ops)
	b.opf("resolving %s", name, "", b.resolve(name, 0, rTarget))
	b.op("resolving /dev/null", b.resolve("/dev/null", 0, rOther))
	b.opf("masking %s", name, "", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.path(1), b.path(0), b.str(""), unix.MS_BIND, 0},
		FdPath: [2]uint8{rTarget, rOther}, Skip: 1, Else: unix.ENOTDIR})
	b.opf("masking %s", name, "", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.str("tmpfs"), b.path(0), b.str("tmpfs"),
		unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, b.str("size=0")}, FdPath: [2]uint8{rTarget}})
	b.p.Ops[at].Else, b.p.Ops[at].ElseSkip = unix.ENOENT, len(b.p.Ops)-at-1
}

// readonly is readonlyPaths for one path.
func (b *builder) readonly(name string) {
	at := len(b.p.Ops)
	b.opf("resolving %s", name, "", b.resolve(name, 0, rTarget))
	b.opf("making %s read-only", name, "", Op{Trap: unix.SYS_MOUNT, Args: [6]uintptr{b.path(0), b.path(0), b.str(""), unix.MS_BIND | unix.MS_REC, 0},
		FdPath: [2]uint8{rTarget}})
	b.setattr(name, unix.MS_REC|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
	b.p.Ops[at].Else, b.p.Ops[at].ElseSkip = unix.ENOENT, len(b.p.Ops)-at-1
}

// tap is tap.Create (the persistent tap device slirp4netns attaches to,
// in the container's net namespace, which P cannot enter), and the report
// to P. Closed before the report: slirp4netns opens it again, and a tap
// device that is not multi-queue takes one opener at a time.
func (b *builder) tap(name string) {
	ifr := newIn[ifreq](b)
	*ifr = ifreq{flags: unix.IFF_TAP | unix.IFF_NO_PI}
	copy(ifr.name[:], name)
	b.op("opening /dev/net/tun", Op{Trap: unix.SYS_OPENAT, Args: [6]uintptr{atFDCWD, b.str("/dev/net/tun"), unix.O_RDWR | unix.O_CLOEXEC}, Out: rOther})
	b.opf("creating %s", name, "", Op{Trap: unix.SYS_IOCTL, Args: [6]uintptr{0, unix.TUNSETIFF, addr(ifr)}, In: [6]uint8{rOther}})
	b.opf("making %s persistent", name, "", Op{Trap: unix.SYS_IOCTL, Args: [6]uintptr{0, unix.TUNSETPERSIST, 1}, In: [6]uint8{rOther}})
	b.op("closing /dev/net/tun", Op{Trap: unix.SYS_CLOSE, In: [6]uint8{rOther}})
	b.op("telling rl the tap device is ready", Op{Trap: TrapReport})
}

// pivotRoot is pivotRoot's four calls.
func (b *builder) pivotRoot(root uintptr) {
	dot := b.str(".")
	b.op("changing to the rootfs", Op{Trap: unix.SYS_CHDIR, Args: [6]uintptr{root}})
	b.op("pivot_root", Op{Trap: unix.SYS_PIVOT_ROOT, Args: [6]uintptr{dot, dot}})
	b.op("detaching the old root", Op{Trap: unix.SYS_UMOUNT2, Args: [6]uintptr{dot, unix.MNT_DETACH}})
	b.op("changing to /", Op{Trap: unix.SYS_CHDIR, Args: [6]uintptr{b.str("/")}})
}

// ifreq is struct ifreq (netdevice(7)) with ifr_flags.
type ifreq struct {
	name  [unix.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// loopbackUp is loopbackUp with the flags written, not read and
// or-ed: SIOCSIFFLAGS changes only the flags a user may change
// (dev_change_flags) and keeps IFF_LOOPBACK; a new lo has no other
// changeable flag set.
func (b *builder) loopbackUp() {
	ifr := newIn[ifreq](b)
	*ifr = ifreq{flags: unix.IFF_UP | unix.IFF_LOOPBACK}
	copy(ifr.name[:], "lo")
	b.op("bringing up lo", Op{Trap: unix.SYS_SOCKET, Args: [6]uintptr{unix.AF_INET, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC}, Out: rOther})
	b.op("bringing up lo", Op{Trap: unix.SYS_IOCTL, Args: [6]uintptr{0, unix.SIOCSIFFLAGS, addr(ifr)}, In: [6]uint8{rOther}})
}

// dropBounding is dropBounding's calls.
func (b *builder) dropBounding(c *specs.LinuxCapabilities) {
	if c == nil {
		return
	}
	keep := map[int]bool{}
	for _, n := range c.Bounding {
		if i, ok := capability.Number(n); ok {
			keep[i] = true
		}
	}
	// Every capability the kernel may know of (a capability's number
	// fits in 6 bits): one it does not know is EINVAL. Cheaper than
	// reading cap_last_cap, as dropBounding does (~0.3 ms here).
	for i := 0; i < 64; i++ {
		if !keep[i] {
			b.op("dropping a capability from the bounding set", Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_CAPBSET_DROP, uintptr(i)}, OK: unix.EINVAL})
		}
	}
}

// setUser is setUser's calls.
func (b *builder) setUser(u specs.User) {
	b.op("PR_SET_KEEPCAPS", Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_SET_KEEPCAPS, 1}})
	o := Op{Trap: unix.SYS_SETGROUPS, OK: unix.EPERM} // (an empty list where setgroups is denied: what we have)
	if len(u.AdditionalGids) > 0 {
		g := unsafe.Slice((*uint32)(b.alloc(4*len(u.AdditionalGids))), len(u.AdditionalGids))
		copy(g, u.AdditionalGids)
		o = Op{Trap: unix.SYS_SETGROUPS, Args: [6]uintptr{uintptr(len(g)), addr(&g[0])}}
	}
	b.op("setting supplementary groups", o)
	b.op("switching to the container's gid", Op{Trap: unix.SYS_SETRESGID, Args: [6]uintptr{uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)}})
	b.op("switching to the container's uid", Op{Trap: unix.SYS_SETRESUID, Args: [6]uintptr{uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)}})
}

// setCaps is setCaps's calls.
func (b *builder) setCaps(c *specs.LinuxCapabilities) {
	if c == nil {
		return
	}
	b.op("PR_SET_KEEPCAPS", Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_SET_KEEPCAPS, 0}})
	hdr := newIn[unix.CapUserHeader](b)
	*hdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := newIn[[2]unix.CapUserData](b)
	data[0].Effective, data[1].Effective = capBits(c.Effective)
	data[0].Permitted, data[1].Permitted = capBits(c.Permitted)
	data[0].Inheritable, data[1].Inheritable = capBits(c.Inheritable)
	b.op("setting capabilities", Op{Trap: unix.SYS_CAPSET, Args: [6]uintptr{addr(hdr), addr(data)}})
	b.op("clearing ambient capabilities", Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL}, OK: unix.EINVAL})
	for _, n := range c.Ambient {
		if i, ok := capability.Number(n); ok {
			b.opf("raising ambient %s", n, "", Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i)}})
		}
	}
}
