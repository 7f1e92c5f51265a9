package container

// Starting I in a new user namespace without copying P.
//
// Go's os/exec forks (copies the page tables) instead of vforking whenever
// the child gets a new user namespace (syscall/exec_linux.go): there the
// parent writes the child's maps while the child waits. After a fork every
// page of the parent is copy-on-write, and P pays a page fault (~30 us on
// this machine) for each page it writes to again, ~170 of them in a run.
// A direct start needs no map written by the parent before execve: a
// single-id map can be written by the child itself (user_namespaces(7),
// "Defining user and group ID mappings": one line mapping the writer's own
// id, setgroups denied first), and subuid maps are written by newuidmap
// after I's execve. So spawn clones with CLONE_VM|CLONE_VFORK, as
// posix_spawn does: the child borrows P's memory until its execve and P
// waits meanwhile.
//
// Between clone3 and execve the child runs on P's goroutine stack, in P's
// memory, with P's Go runtime state: it may only make raw system calls
// (nosplit functions) (no allocation, no stack growth, no pointer
// writes), and P must not use its own frame after the clone returns (the
// child's calls overwrite it). Signals stay blocked from before the clone
// until the child has reset the handlers Go installed, so no Go signal
// handler runs in the child.
//
// The same child can run I's set-up itself and execute the container's
// command instead of I (child.Program, Exec). One that must wait for P
// meanwhile (newuidmap's maps, slirp4netns) cannot be vforked: it runs on
// a stack of its own, still in P's memory, while P goes on
// (spawnWaiting).

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"rl/container/child"
)

// spawnWorks: spawn's system call is written for this architecture.
const spawnWorks = true

// errNoClone3: clone3 is refused; os/exec's clone may still work.
var errNoClone3 = errors.New("clone3 is not available")

// vforkSyscall is in spawn_amd64.s.
func vforkSyscall(trap, a1, a2, a3 uintptr) (r1, err uintptr)

// cloneArgs is struct clone_args (linux/sched.h), what clone3(2) reads.
type cloneArgs struct {
	flags, pidfd, childTID, parentTID, exitSignal, stack, stackSize, tls, setTID, setTIDSize, cgroup uint64
}

// sigaction is the kernel's struct sigaction on amd64 (rt_sigaction(2)).
type sigaction struct {
	handler, flags, restorer uintptr
	mask                     uint64
}

// spawnAttr is everything the child does between clone3 and execve,
// prepared by the parent; the child writes step and errno if it fails.
type spawnAttr struct {
	clone            cloneArgs
	path             *byte
	argv, envv       unsafe.Pointer // **byte, NULL-terminated
	fds              [5]int         // fds[i] becomes the child's fd i; -1: none
	selfMap          bool           // write the single-id maps below
	mapFiles, mapTxt [3]*byte       // setgroups, uid_map, gid_map
	mapLen           [3]int
	lastCap          uintptr // raise 0..lastCap as ambient capabilities (0: none)
	mask             unix.Sigset_t
	// prog, when set, is I's set-up (child.Compile), run after the fds,
	// and then the command is executed in place of I (container.Exec).
	prog *child.Program
	regs [child.Registers]uintptr
	// A child on a stack of its own (spawnWaiting): it closes closeFDs
	// (its copies of P's ends of the pipes), reads a byte from waitFD
	// before its set-up if waitMaps (P has written its maps) and at a
	// TrapWait, writes reportTap to statusFD at a TrapReport and
	// reportFailed if it fails, and checks at a TrapParent that P still
	// holds the other end of statusFD (-1: none of these).
	closeFDs         [2]int
	waitFD, statusFD int
	waitMaps         bool
	step, errno      uintptr
}

// What the child writes to P on its status pipe (spawnWaiting); EOF
// there means it has executed the command.
var reportTap, reportFailed = [1]byte{'T'}, [1]byte{'F'}

// The child's steps, for the error message.
const (
	stepSetsid = iota + 1
	stepPdeathsig
	stepSetgroups
	stepUIDMap
	stepGIDMap
	stepCaps
	stepFD
	stepExec
	stepCommand
	stepWait
	// stepProgram+i: the Program's op i.
	stepProgram = 100
)

var stepNames = map[uintptr]string{
	stepSetsid: "setsid", stepPdeathsig: "setting its parent-death signal",
	stepSetgroups: "denying setgroups", stepUIDMap: "writing its uid map", stepGIDMap: "writing its gid map",
	stepCaps: "raising its ambient capabilities", stepFD: "setting up its file descriptors", stepExec: "executing rl",
	stepCommand: "executing the command", stepWait: "waiting for its maps",
}

// spawn starts I as command would, with CLONE_VM|CLONE_VFORK; or, given
// a Program, the container's command without I (Exec).
func spawn(c Config, childEnd *os.File, prog *child.Program) (*process, error) {
	a := &spawnAttr{prog: prog}
	done, err := a.prepare(c, childEnd)
	defer done()
	if err != nil {
		return nil, err
	}
	a.clone.flags |= unix.CLONE_VFORK
	pid, errno := a.blocked(func() (uintptr, uintptr) { return spawnClone(a) })
	if err := a.cloned(errno); err != nil {
		return nil, err
	}
	if a.errno != 0 {
		// The child exited (CLONE_VFORK returns once it has): reap it.
		var ws unix.WaitStatus
		unix.Wait4(int(pid), &ws, 0, nil)
		return nil, a.failure()
	}
	return &process{pid: int(pid)}, nil
}

// blocked runs clone with every signal blocked on this (locked) thread,
// and so in the child, and restores the mask in P after it; the child
// restores it itself just before execve, once Go's handlers are reset.
// (ForkLock: no fd opened meanwhile leaks into the child without
// close-on-exec.)
func (a *spawnAttr) blocked(clone func() (pid, errno uintptr)) (pid, errno uintptr) {
	syscall.ForkLock.Lock()
	runtime.LockOSThread()
	all := unix.Sigset_t{Val: [16]uint64{^uint64(0)}}
	unix.PthreadSigmask(unix.SIG_SETMASK, &all, &a.mask)
	pid, errno = clone()
	unix.PthreadSigmask(unix.SIG_SETMASK, &a.mask, nil)
	runtime.UnlockOSThread()
	syscall.ForkLock.Unlock()
	return pid, errno
}

// cloned is the error of clone3 itself.
func (a *spawnAttr) cloned(errno uintptr) error {
	switch {
	case errno == uintptr(unix.ENOSYS):
		// A seccomp profile that refuses clone3 (Docker's default, so that
		// glibc falls back to clone) or a kernel before 5.3.
		return errNoClone3
	case errno != 0:
		return fmt.Errorf("clone3: %w", syscall.Errno(errno))
	}
	return nil
}

// failure is the child's failure, which step and its errno.
func (a *spawnAttr) failure() error {
	what := stepNames[a.step]
	if a.step >= stepProgram && a.prog != nil {
		what = a.prog.Name(int(a.step - stepProgram))
	}
	err := &childError{what: what, errno: syscall.Errno(a.errno)}
	if p := a.prog; p != nil && p.PasswdOp >= 0 {
		err.passwdAdded = a.step == stepCommand || a.step >= stepProgram && int(a.step-stepProgram) > p.PasswdOp
	}
	return err
}

// childError is a failure of spawn's child before its execve.
type childError struct {
	what  string
	errno syscall.Errno
	// passwdAdded: the child had appended keep-id's passwd line.
	passwdAdded bool
}

func (e *childError) Error() string { return e.what + ": " + e.errno.Error() }
func (e *childError) Unwrap() error { return e.errno }

// spawnWaiting starts the container's command without I (Exec), with a
// child that waits for P: for mapIDs (newuidmap), when set, to map the
// user namespace once the child exists, and at the Program's TrapWait
// for onTap, which P runs when the child reports its tap device
// (slirp4netns). So it cannot be vforked (P would wait in the clone): it
// runs on a stack of its own (stackCloneSyscall) in P's memory while P
// goes on, and does as spawn's child does.
func spawnWaiting(c Config, prog *child.Program, mapIDs func(pid int) error, onTap func(pid int) error) (*process, error) {
	a := &spawnAttr{prog: prog} // (on the heap: the child uses it while P runs on)
	done, err := a.prepare(c, nil)
	defer done()
	if err != nil {
		return nil, err
	}
	var mapped, status [2]int // read and write ends
	if err := unix.Pipe2(mapped[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	defer func() {
		if mapped[1] >= 0 {
			unix.Close(mapped[1])
		}
	}()
	if err := unix.Pipe2(status[:], unix.O_CLOEXEC); err != nil {
		unix.Close(mapped[0])
		return nil, fmt.Errorf("pipe: %w", err)
	}
	defer unix.Close(status[0])
	a.closeFDs, a.waitFD, a.statusFD, a.waitMaps = [2]int{mapped[1], status[0]}, mapped[0], status[1], mapIDs != nil
	// The child's stack: its frames and the system calls' (a few hundred
	// bytes), never Go's.
	stack, err := unix.Mmap(-1, 0, 64<<10, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_STACK)
	if err != nil {
		unix.Close(mapped[0])
		unix.Close(status[1])
		return nil, fmt.Errorf("mmap: %w", err)
	}
	a.clone.stack, a.clone.stackSize = uint64(uintptr(unsafe.Pointer(&stack[0]))), uint64(len(stack))

	pid, errno := a.blocked(func() (uintptr, uintptr) {
		return stackCloneSyscall(unsafe.Pointer(&a.clone), unsafe.Sizeof(a.clone), unsafe.Pointer(a))
	})
	unix.Close(mapped[0])
	unix.Close(status[1])
	if err := a.cloned(errno); err != nil {
		unix.Munmap(stack)
		return nil, err
	}
	// Once the child has executed or exited, it uses neither its stack
	// nor a: then both may go.
	defer func() {
		runtime.KeepAlive(a)
		unix.Munmap(stack)
	}()
	// P's end of the pipe to the child: a byte is a go-ahead; closed, the
	// child fails where it waits.
	goAhead := func(err error) error {
		if err == nil {
			_, err = unix.Write(mapped[1], []byte{1})
		}
		if err != nil {
			unix.Close(mapped[1])
			mapped[1] = -1
		}
		return err
	}
	var failed error
	if mapIDs != nil {
		failed = goAhead(mapIDs(int(pid)))
	}
	for {
		var b [1]byte
		n, err := readFull(status[0], b[:])
		if n == 0 && err == nil {
			// EOF: its execve closed the status pipe (or it died).
			return &process{pid: int(pid)}, nil
		}
		if err != nil {
			// (Never seen. It may still run on its stack: end it first.)
			unix.Kill(int(pid), unix.SIGKILL)
			failed = fmt.Errorf("reading the container's start-up status: %w", err)
			break
		}
		if b[0] != reportTap[0] || onTap == nil || mapped[1] < 0 {
			break
		}
		if err := goAhead(onTap(int(pid))); err != nil && failed == nil {
			failed = err
		}
	}
	var ws unix.WaitStatus
	unix.Wait4(int(pid), &ws, 0, nil)
	if failed != nil {
		return nil, failed
	}
	return nil, a.failure()
}

// readFull reads into b until it is full, EOF or an error other than
// EINTR.
func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return n, err
		}
		n += m
	}
	return n, nil
}

// prepare fills a for c: the clone's flags, the files, the maps. done
// closes what it opened.
func (a *spawnAttr) prepare(c Config, childEnd *os.File) (done func(), err error) {
	var closers []func()
	done = func() {
		for _, f := range closers {
			f()
		}
		runtime.KeepAlive(a)
	}
	// A child that changes its uid or gid (-u) makes the memory it shares
	// with P not dumpable (commit_creds: set_dumpable), and so P: its
	// /proc files become root's, and the user can no longer trace it.
	// Restored once the child has executed or is gone.
	if dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil {
		closers = append(closers, func() {
			if now, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil && now != dumpable {
				unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(dumpable), 0, 0, 0)
			}
		})
	}
	a.closeFDs, a.waitFD, a.statusFD = [2]int{-1, -1}, -1, -1
	var cmd *exec.Cmd
	if a.prog == nil {
		cmd = command(c, childEnd) // (the same path, arguments, environment and files)
		var argv, envv []*byte
		if a.path, err = syscall.BytePtrFromString(cmd.Path); err != nil {
			return done, err
		}
		if argv, err = syscall.SlicePtrFromStrings(cmd.Args); err != nil {
			return done, err
		}
		if envv, err = syscall.SlicePtrFromStrings(cmd.Env); err != nil {
			return done, err
		}
		a.argv, a.envv = unsafe.Pointer(&argv[0]), unsafe.Pointer(&envv[0])
		closers = append(closers, func() { runtime.KeepAlive(argv); runtime.KeepAlive(envv) })
	} else {
		// The command's files only (P hears of a failure through a, not
		// a socket), and no ambient capabilities: the child keeps the
		// capabilities it has in its new user namespace, for it executes
		// nothing before its set-up.
		cmd = &exec.Cmd{Stdout: orStd(c.Stdout, os.Stdout), Stderr: orStd(c.Stderr, os.Stderr),
			SysProcAttr: &syscall.SysProcAttr{Cloneflags: cloneFlags(c)}}
		if c.Stdin != nil {
			cmd.Stdin = c.Stdin
		}
	}

	// Files: each is first duplicated above the child's targets (0-4), so
	// that no dup3 in the child overwrites a source it still needs.
	stdin, _ := cmd.Stdin.(*os.File) // (command sets only *os.File)
	if stdin == nil {
		if stdin, err = os.Open(os.DevNull); err != nil {
			return done, err
		}
		closers = append(closers, func() { stdin.Close() })
	}
	files := append([]*os.File{stdin, cmd.Stdout.(*os.File), cmd.Stderr.(*os.File)}, cmd.ExtraFiles...)
	for i := range a.fds {
		a.fds[i] = -1
		if i >= len(files) {
			continue
		}
		fd, err := unix.FcntlInt(files[i].Fd(), unix.F_DUPFD_CLOEXEC, len(a.fds))
		if err != nil {
			return done, fmt.Errorf("duplicating a file for the container: %w", err)
		}
		closers = append(closers, func() { unix.Close(fd) })
		a.fds[i] = fd
	}

	if len(c.UIDMappings) > 0 {
		a.selfMap = true
		txt := [3]string{"deny", mapLine(c.UIDMappings[0]), mapLine(c.GIDMappings[0])}
		for i, f := range [3]string{"/proc/self/setgroups", "/proc/self/uid_map", "/proc/self/gid_map"} {
			a.mapFiles[i], _ = syscall.BytePtrFromString(f)
			a.mapTxt[i], _ = syscall.BytePtrFromString(txt[i])
			a.mapLen[i] = len(txt[i])
		}
	}
	if len(cmd.SysProcAttr.AmbientCaps) > 0 && (len(c.UIDMappings) == 0 || c.UIDMappings[0].ContainerID != 0) {
		// Unmapped until newuidmap, or not root inside (keep-id): I keeps
		// its capabilities over execve as ambient ones only
		// (capabilities(7)).
		a.lastCap = uintptr(len(cmd.SysProcAttr.AmbientCaps) - 1) // (all of them, userns.AllCaps)
	}
	a.clone.flags = unix.CLONE_VM | uint64(cmd.SysProcAttr.Cloneflags)
	a.clone.exitSignal = uint64(unix.SIGCHLD)
	if c.Cgroup != nil {
		a.clone.flags |= unix.CLONE_INTO_CGROUP
		a.clone.cgroup = uint64(c.Cgroup.Fd())
	}
	return done, nil
}

func mapLine(m specs.LinuxIDMapping) string {
	return fmt.Sprintf("%d %d %d\n", m.ContainerID, m.HostID, m.Size)
}

// spawnClone is clone3 with CLONE_VFORK and, in the child, childMain.
// One function, not inlined, as Go's forkAndExecInChild1: its stack
// check runs in P before the clone, and the child calls nothing but
// nosplit functions. P returns at once: its frame is the child's too, and
// it reads only the results written after the child is gone.
//
//go:noinline
//go:norace
//go:nocheckptr
func spawnClone(a *spawnAttr) (pid, errno uintptr) {
	pid, errno = vforkSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a.clone)), unsafe.Sizeof(a.clone), 0)
	if errno != 0 || pid != 0 {
		return
	}
	childMain(a)
	return
}

// stackCloneSyscall is in spawn_amd64.s: clone3 with the stack that
// args names, on which the child calls childMain(a).
//
// (Not noescape: a must be on the heap, where it does not move while the
// child uses it and P's goroutine stack may grow.)
func stackCloneSyscall(args unsafe.Pointer, size uintptr, a unsafe.Pointer) (pid, errno uintptr)

// sys6 is in spawn_amd64.s: a raw system call without a frame of its
// own (syscall.RawSyscall6's chain is ~300 bytes in a -N -l build, more
// than a nosplit chain may use beside the child's frames).
func sys6(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1 uintptr, errno syscall.Errno)

// childMain is the child, up to execve, in the order the kernel needs:
// the maps before execve (an unmapped uid executes without capabilities),
// the handlers reset before signals are unblocked. It runs on P's stack
// (spawnClone) or on one of its own (spawnWaiting), in P's memory, and
// never returns: nosplit functions and raw system calls only, each with
// a small frame (the nosplit limit holds in a -N -l build too).
//
//go:nosplit
//go:norace
//go:nocheckptr
func childMain(a *spawnAttr) {
	step, e := childSetup(a)
	if e == 0 && a.prog != nil {
		step, e = childProgram(a)
	}
	if e == 0 {
		childSignals(a)
		step, e = childExec(a)
	}
	a.step, a.errno = step, uintptr(e)
	if a.statusFD >= 0 {
		sys6(unix.SYS_WRITE, uintptr(a.statusFD), uintptr(unsafe.Pointer(&reportFailed[0])), 1, 0, 0, 0)
	}
	for {
		sys6(unix.SYS_EXIT_GROUP, 127, 0, 0, 0, 0, 0)
	}
}

// childSetup: its session, the parent-death signal, the maps (or the
// wait for them), ambient capabilities, the files.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childSetup(a *spawnAttr) (step uintptr, e syscall.Errno) {
	var fd uintptr
	// A session of its own (it may own a pty).
	if _, e = sys6(unix.SYS_SETSID, 0, 0, 0, 0, 0, 0); e != 0 {
		return stepSetsid, e
	}
	// P dies: the container must not live on. (No check that P is still
	// there, as Go's os/exec makes: in a new pid namespace getppid is 0.
	// I ends when its socket to P reads EOF.)
	if _, e = sys6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0); e != 0 {
		return stepPdeathsig, e
	}
	for _, fd := range a.closeFDs {
		if fd >= 0 {
			sys6(unix.SYS_CLOSE, uintptr(fd), 0, 0, 0, 0, 0)
		}
	}
	if a.waitMaps {
		// P writes a byte once newuidmap and newgidmap have mapped us; it
		// closes its end if they failed, or dies (EOF either way).
		if e = childWait(a); e != 0 {
			return stepWait, e
		}
	}
	if a.selfMap {
		for i := range a.mapFiles {
			fd, e = sys6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(a.mapFiles[i])), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
			if e == 0 {
				_, e = sys6(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(a.mapTxt[i])), uintptr(a.mapLen[i]), 0, 0, 0)
				sys6(unix.SYS_CLOSE, fd, 0, 0, 0, 0, 0)
			}
			if e != 0 {
				return stepSetgroups + uintptr(i), e
			}
		}
	}
	if a.lastCap > 0 {
		if e = childAmbient(a.lastCap); e != 0 {
			return stepCaps, e
		}
	}
	for i := range a.fds {
		if a.fds[i] >= 0 {
			if _, e = sys6(unix.SYS_DUP3, uintptr(a.fds[i]), uintptr(i), 0, 0, 0, 0); e != 0 {
				return stepFD, e
			}
		}
	}
	return 0, 0
}

// childWait reads P's byte from waitFD: EPIPE for EOF.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childWait(a *spawnAttr) syscall.Errno {
	n, e := sys6(unix.SYS_READ, uintptr(a.waitFD), uintptr(unsafe.Pointer(&a.regs[0])), 1, 0, 0, 0)
	if e == 0 && n != 1 {
		e = unix.EPIPE
	}
	return e
}

// childParent fails with ESRCH if P has gone: it held the only other end
// of statusFD (the child closed its copy), so a pipe with no reader polls
// POLLERR. Nothing to check without statusFD (vforked: P waits in the
// clone).
//
//go:nosplit
//go:norace
//go:nocheckptr
func childParent(a *spawnAttr) syscall.Errno {
	if a.statusFD < 0 {
		return 0
	}
	pfd := unix.PollFd{Fd: int32(a.statusFD), Events: unix.POLLOUT}
	n, e := sys6(unix.SYS_POLL, uintptr(unsafe.Pointer(&pfd)), 1, 0, 0, 0, 0)
	if e == 0 && n == 1 && pfd.Revents&unix.POLLERR != 0 {
		e = unix.ESRCH
	}
	return e
}

// atFDCWD is AT_FDCWD as a system call argument.
const atFDCWD = ^uintptr(99)

// childAmbient raises capabilities 0..last as ambient ones, which must
// be permitted and inheritable first.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childAmbient(last uintptr) (e syscall.Errno) {
	var hdr unix.CapUserHeader
	var data [2]unix.CapUserData
	hdr.Version = unix.LINUX_CAPABILITY_VERSION_3
	if _, e = sys6(unix.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0, 0, 0, 0); e != 0 {
		return e
	}
	data[0].Inheritable, data[1].Inheritable = data[0].Permitted, data[1].Permitted
	if _, e = sys6(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0, 0, 0, 0); e != 0 {
		return e
	}
	for c := uintptr(0); c <= last; c++ {
		if _, e = sys6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, c, 0, 0, 0); e != 0 {
			return e
		}
	}
	return 0
}

// childProgram runs I's set-up (child.Program): each op one system call,
// its arguments from the op or the registers, its errno deciding what
// follows.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childProgram(a *spawnAttr) (step uintptr, e syscall.Errno) {
	var op *child.Op
	var args [6]uintptr
	var r1 uintptr
	ops := a.prog.Ops
	for pc := 0; uint(pc) < uint(len(ops)); pc++ {
		op = &ops[pc]
		args = op.Args
		// (Indexes masked: no bounds check, which could panic here.)
		for i := range args {
			if op.In[i] > 0 {
				args[i] = a.regs[op.In[i]&(child.Registers-1)]
			}
		}
		for i := range op.FdPath {
			if op.FdPath[i] > 0 {
				fdPath(&a.prog.Paths[i&1], a.regs[op.FdPath[i]&(child.Registers-1)])
			}
		}
		switch op.Trap {
		case child.TrapReport:
			r1, e = sys6(unix.SYS_WRITE, uintptr(a.statusFD), uintptr(unsafe.Pointer(&reportTap[0])), 1, 0, 0, 0)
		case child.TrapWait:
			e = childWait(a)
		case child.TrapParent:
			e = childParent(a)
		default:
			r1, e = sys6(op.Trap, args[0], args[1], args[2], args[3], args[4], args[5])
		}
		switch {
		case e == 0:
			if op.Out > 0 {
				a.regs[op.Out&(child.Registers-1)] = r1
			}
			pc += op.Skip
		case e == op.OK:
		case e == op.Else:
			pc += op.ElseSkip
		default:
			return stepProgram + uintptr(pc), e
		}
	}
	return 0, 0
}

// fdPath writes fd's number and a NUL after the "/proc/self/fd/" that
// Compile put in b.
//
//go:nosplit
//go:norace
func fdPath(b *[32]byte, fd uintptr) {
	k := 14
	for r := fd; ; r /= 10 {
		k++
		if r < 10 {
			break
		}
	}
	b[k&31] = 0
	for r := fd; ; r /= 10 {
		k--
		b[k&31] = byte('0' + r%10)
		if r < 10 {
			break
		}
	}
}

// childSignals resets Go's handlers (P's, which would run in the child
// on P's stack) to the default, except for ignored signals, which execve
// keeps ignored, and restores the signal mask.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childSignals(a *spawnAttr) {
	var old, dfl sigaction
	for sig := uintptr(1); sig <= 64; sig++ {
		if sig == uintptr(unix.SIGKILL) || sig == uintptr(unix.SIGSTOP) {
			continue
		}
		if _, e := sys6(unix.SYS_RT_SIGACTION, sig, 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0); e == 0 && old.handler > 1 {
			sys6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
		}
	}
	sys6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.mask)), 0, 8, 0, 0)
}

// childExec executes rl-init, or the command of a Program as lookPath
// finds it: a candidate that is not there or not executable is passed
// over; one that is there and fails (its interpreter missing) ends the
// search. It returns only if none could be executed.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childExec(a *spawnAttr) (step uintptr, e syscall.Errno) {
	e = unix.ENOENT // (no candidate: a failure all the same)
	if a.prog == nil {
		_, e = sys6(unix.SYS_EXECVE, uintptr(unsafe.Pointer(a.path)), uintptr(a.argv), uintptr(a.envv), 0, 0, 0)
		return stepExec, e
	}
	for _, c := range a.prog.Candidates {
		_, e = sys6(unix.SYS_EXECVE, uintptr(unsafe.Pointer(c)), uintptr(a.prog.Argv), uintptr(a.prog.Envv), 0, 0, 0)
		if e == unix.ENOENT {
			if _, e2 := sys6(unix.SYS_FACCESSAT, atFDCWD, uintptr(unsafe.Pointer(c)), unix.F_OK, 0, 0, 0); e2 == 0 {
				return stepCommand, e
			}
		} else if e != unix.EACCES && e != unix.ENOTDIR {
			return stepCommand, e
		}
	}
	return stepCommand, e
}
