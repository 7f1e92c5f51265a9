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
	prog        *child.Program
	regs        [child.Registers]uintptr
	step, errno uintptr
}

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
	// stepProgram+i: the Program's op i.
	stepProgram = 100
)

var stepNames = map[uintptr]string{
	stepSetsid: "setsid", stepPdeathsig: "setting its parent-death signal",
	stepSetgroups: "denying setgroups", stepUIDMap: "writing its uid map", stepGIDMap: "writing its gid map",
	stepCaps: "raising its ambient capabilities", stepFD: "setting up its file descriptors", stepExec: "executing rl",
	stepCommand: "executing the command",
}

// spawn starts I as command would, with CLONE_VM|CLONE_VFORK; or, given
// a Program, the container's command without I (Exec).
func spawn(c Config, childEnd *os.File, prog *child.Program) (*os.Process, error) {
	a := spawnAttr{prog: prog}
	var cmd *exec.Cmd
	var argv, envv []*byte
	var err error
	if prog == nil {
		cmd = command(c, childEnd) // (the same path, arguments, environment and files)
		if a.path, err = syscall.BytePtrFromString(cmd.Path); err != nil {
			return nil, err
		}
		if argv, err = syscall.SlicePtrFromStrings(cmd.Args); err != nil {
			return nil, err
		}
		if envv, err = syscall.SlicePtrFromStrings(cmd.Env); err != nil {
			return nil, err
		}
		a.argv, a.envv = unsafe.Pointer(&argv[0]), unsafe.Pointer(&envv[0])
	} else {
		// The command's files only (P hears of a failure through a, not
		// a socket), and no ambient capabilities (root inside).
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
			return nil, err
		}
		defer stdin.Close()
	}
	files := append([]*os.File{stdin, cmd.Stdout.(*os.File), cmd.Stderr.(*os.File)}, cmd.ExtraFiles...)
	for i := range a.fds {
		a.fds[i] = -1
		if i >= len(files) {
			continue
		}
		fd, err := unix.FcntlInt(files[i].Fd(), unix.F_DUPFD_CLOEXEC, len(a.fds))
		if err != nil {
			return nil, fmt.Errorf("duplicating a file for the container: %w", err)
		}
		defer unix.Close(fd)
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
	a.clone.flags = unix.CLONE_VM | unix.CLONE_VFORK | uint64(cmd.SysProcAttr.Cloneflags)
	a.clone.exitSignal = uint64(unix.SIGCHLD)
	if c.Cgroup != nil {
		a.clone.flags |= unix.CLONE_INTO_CGROUP
		a.clone.cgroup = uint64(c.Cgroup.Fd())
	}

	// Order: signals blocked on this thread (and so in the child) before
	// the clone, restored in P after it; the child restores them itself
	// just before execve, once Go's handlers are reset.
	syscall.ForkLock.Lock()
	runtime.LockOSThread()
	all := unix.Sigset_t{Val: [16]uint64{^uint64(0)}}
	unix.PthreadSigmask(unix.SIG_SETMASK, &all, &a.mask)
	pid, errno := spawnClone(&a)
	unix.PthreadSigmask(unix.SIG_SETMASK, &a.mask, nil)
	runtime.UnlockOSThread()
	syscall.ForkLock.Unlock()
	runtime.KeepAlive(argv)
	runtime.KeepAlive(envv)
	if errno == uintptr(unix.ENOSYS) {
		// A seccomp profile that refuses clone3 (Docker's default, so that
		// glibc falls back to clone) or a kernel before 5.3.
		return nil, errNoClone3
	}
	if errno != 0 {
		return nil, fmt.Errorf("clone3: %w", syscall.Errno(errno))
	}
	if a.errno != 0 {
		// The child exited (CLONE_VFORK returns once it has): reap it.
		var ws unix.WaitStatus
		unix.Wait4(int(pid), &ws, 0, nil)
		what := stepNames[a.step]
		if a.step >= stepProgram && prog != nil {
			what = prog.Name(int(a.step - stepProgram))
		}
		return nil, fmt.Errorf("%s: %w", what, syscall.Errno(a.errno))
	}
	return os.FindProcess(int(pid))
}

func mapLine(m specs.LinuxIDMapping) string {
	return fmt.Sprintf("%d %d %d\n", m.ContainerID, m.HostID, m.Size)
}

// spawnClone is clone3 and, in the child, everything up to execve, in
// the order the kernel needs: the maps before execve (an unmapped uid
// executes without capabilities), the handlers reset before signals are
// unblocked. One function, not inlined, as Go's forkAndExecInChild1: its
// stack check runs in P before the clone, and the child calls nothing but
// nosplit raw system calls. P returns at once: its frame is the child's
// too, and it reads only the results written after the child is gone.
//
//go:noinline
//go:norace
//go:nocheckptr
func spawnClone(a *spawnAttr) (pid, errno uintptr) {
	var e syscall.Errno
	var fd uintptr
	var step uintptr = stepSetsid
	var hdr unix.CapUserHeader
	var data [2]unix.CapUserData
	var old, dfl sigaction
	var op *child.Op
	var args [6]uintptr
	var pc, i int
	var n, r1, k uintptr
	atFDCWD := unix.AT_FDCWD
	pid, errno = vforkSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a.clone)), unsafe.Sizeof(a.clone), 0)
	if errno != 0 || pid != 0 {
		return
	}
	// The child. A session of its own (it may own a pty).
	if _, _, e = syscall.RawSyscall(unix.SYS_SETSID, 0, 0, 0); e != 0 {
		goto fail
	}
	// P dies: the container must not live on. (No check that P is still
	// there, as Go's os/exec makes: in a new pid namespace getppid is 0.
	// I ends when its socket to P reads EOF.)
	step = stepPdeathsig
	if _, _, e = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0); e != 0 {
		goto fail
	}
	if a.selfMap {
		for i := range a.mapFiles {
			step = stepSetgroups + uintptr(i)
			fd, _, e = syscall.RawSyscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(a.mapFiles[i])), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
			if e != 0 {
				goto fail
			}
			_, _, e = syscall.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(a.mapTxt[i])), uintptr(a.mapLen[i]))
			syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
			if e != 0 {
				goto fail
			}
		}
	}
	if a.lastCap > 0 {
		// Ambient capabilities must be permitted and inheritable first.
		step = stepCaps
		hdr.Version = unix.LINUX_CAPABILITY_VERSION_3
		if _, _, e = syscall.RawSyscall(unix.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
			goto fail
		}
		data[0].Inheritable, data[1].Inheritable = data[0].Permitted, data[1].Permitted
		if _, _, e = syscall.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
			goto fail
		}
		for c := uintptr(0); c <= a.lastCap; c++ {
			if _, _, e = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, c, 0, 0, 0); e != 0 {
				goto fail
			}
		}
	}
	step = stepFD
	for i := range a.fds {
		if a.fds[i] >= 0 {
			if _, _, e = syscall.RawSyscall(unix.SYS_DUP3, uintptr(a.fds[i]), uintptr(i), 0); e != 0 {
				goto fail
			}
		}
	}
	if a.prog != nil {
		// I's set-up (child.Program): each op one system call, its
		// arguments from the op or the registers, its errno deciding
		// what follows.
		for pc = 0; pc < len(a.prog.Ops); pc++ {
			op = &a.prog.Ops[pc]
			args = op.Args
			for i = range args {
				if op.In[i] > 0 {
					args[i] = a.regs[op.In[i]]
				}
			}
			for i = range op.FdPath {
				if op.FdPath[i] > 0 {
					// "/proc/self/fd/" is there (Compile); the number
					// and a NUL after it.
					n = a.regs[op.FdPath[i]]
					k = 14
					for r1 = n; ; r1 /= 10 {
						k++
						if r1 < 10 {
							break
						}
					}
					a.prog.Paths[i][k] = 0
					for r1 = n; ; r1 /= 10 {
						k--
						a.prog.Paths[i][k] = byte('0' + r1%10)
						if r1 < 10 {
							break
						}
					}
				}
			}
			r1, _, e = syscall.RawSyscall6(op.Trap, args[0], args[1], args[2], args[3], args[4], args[5])
			switch {
			case e == 0:
				if op.Out > 0 {
					a.regs[op.Out] = r1
				}
				pc += op.Skip
			case e == op.OK:
			case e == op.Else:
				pc += op.ElseSkip
			default:
				step = stepProgram + uintptr(pc)
				goto fail
			}
		}
	}
	// Go's handlers (P's) would run here on P's stack: back to the
	// default, except for ignored signals, which execve keeps ignored.
	for sig := uintptr(1); sig <= 64; sig++ {
		if sig == uintptr(unix.SIGKILL) || sig == uintptr(unix.SIGSTOP) {
			continue
		}
		if _, _, e = syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0); e == 0 && old.handler > 1 {
			syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
		}
	}
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.mask)), 0, 8, 0, 0)
	if a.prog != nil {
		// The command, as lookPath finds it: a candidate that is not
		// there or not executable is passed over; one that is there
		// and fails (its interpreter missing) ends the search.
		step = stepCommand
		for pc = 0; pc < len(a.prog.Candidates); pc++ {
			_, _, e = syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(a.prog.Candidates[pc])), uintptr(a.prog.Argv), uintptr(a.prog.Envv))
			if e == unix.ENOENT {
				if _, _, e2 := syscall.RawSyscall6(unix.SYS_FACCESSAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(a.prog.Candidates[pc])), unix.F_OK, 0, 0, 0); e2 == 0 {
					goto fail
				}
			} else if e != unix.EACCES && e != unix.ENOTDIR {
				goto fail
			}
		}
		goto fail
	}
	step = stepExec
	_, _, e = syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(a.path)), uintptr(a.argv), uintptr(a.envv))
fail:
	a.step, a.errno = step, uintptr(e)
	for {
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
	}
}
