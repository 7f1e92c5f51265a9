//go:build rllight && rlfront

package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"rl/image/record"
)

// The rl that make build ships is two programs. This one, the front (tags
// rllight rlfront), is what users run: it parses rl run's flags and is P,
// the process that stays on the host, and it runs everything else in its
// core, the rllight build (light.go), which it carries inside itself.
// Every rl run starts P and C, and C needs containers/storage, whose
// package inits (and those of what it links) made each exec of rl cost
// about 15 ms here against 10 ms for the front: P is the part of a start
// nothing overlaps. The core runs as C of rl run (unless the image's
// record lets the front be C: run_front.go) and as the whole of every
// other command (images, pull, ...).
//
// The core is executed from a file in the user's cache directory
// (coreBinary), written once per build: copying its 34 MB into a memfd
// on every run, as rl-init is (memfd.go), would cost more than the front
// saves.

//go:embed rl-core
var coreBuild string

// coreHead is how much of a program names and identifies its cached copy
// (cachedCopy): the first page holds the ELF headers and Go's build ID
// note (a hash of the build's inputs and output), so two builds never
// share it.
const coreHead = 4096

// cBinary is the program that runs as C of the store commands: the core.
func cBinary() (string, error) { return coreBinary() }

// releaseCore closes the core's file or memfd once C has executed it: a
// memfd holds 34 MB of memory for as long as it is open, and rl run's P
// lives as long as its container.
func releaseCore() {
	if f := memfds["rl-core"]; f != nil {
		f.Close()
		delete(memfds, "rl-core")
	}
}

// execCore becomes the core, for a command the front does not run: same
// pid, argv and environment, so signals, the terminal and the exit status
// are simply its own. Where the cached copy may be opened but not
// executed (a noexec mount that access(2) did not see, an exec policy),
// the memfd is tried.
func execCore() error {
	path, err := coreBinary()
	if err != nil {
		return err
	}
	err = unix.Exec(path, os.Args, os.Environ())
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		releaseCore()
		if path, err = sealedExec("rl-core", coreBuild); err != nil {
			return err
		}
		err = unix.Exec(path, os.Args, os.Environ())
	}
	return fmt.Errorf("running rl's core: %w", err)
}

// runInit: I is rl-init (memfd.go), else (no memfd could be made) the
// core's `rl __init`, which this becomes.
func runInit() int { return report(os.Stderr, execCore()) }

func setTransferRun(c *command) {
	c.Store = false // the core enters the user namespace itself
	c.Run = func([]string) error { return execCore() }
}

// coreBinary returns a path execve accepts for the core: the cached copy
// when it can be used, else a sealed memfd (slower, but it works where
// the copy cannot be written or executed: a read-only or full home, a
// noexec mount; RL_DEBUG says why).
func coreBinary() (string, error) {
	p, err := cachedCore()
	if err == nil {
		return p, nil
	}
	if verbose() {
		fmt.Fprintf(os.Stderr, "rl: not using the cached core: %v\n", err)
	}
	return sealedExec("rl-core", coreBuild)
}

// cachedCore returns the cached copy of the core (cachedCopy) as
// /proc/self/fd/N of the open file: what is executed is the file checked
// there, whatever happens to the name afterwards.
func cachedCore() (string, error) {
	if f := memfds["rl-core"]; f != nil {
		return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), nil
	}
	f, err := cachedCopy("rl-core", coreBuild)
	if err != nil {
		return "", err
	}
	memfds["rl-core"] = f
	return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), nil
}

// initForC gives C rl-init, I's program: the cached copy, which costs
// nothing per run (filling a memfd with its 2.3 MB was 3% of a start's
// CPU here), else a memfd that P fills while C starts (memfdForC). C
// finds it on fd 4+n (n ExtraFiles come before it).
func initForC(n int) (*os.File, func() error) {
	f, err := cachedCopy("rl-init", initBuild)
	if err != nil {
		if verbose() {
			fmt.Fprintf(os.Stderr, "rl: not using the cached rl-init: %v\n", err)
		}
		return memfdForC(n)
	}
	os.Setenv(envInitFD, strconv.Itoa(4+n))
	return f, nil
}

// cachedCopy opens $XDG_CACHE_HOME/rl/KEY-ID (else ~/.cache/...; ID from
// data's first page), a copy of the program data, writing it first if
// need be. It is used only if its directory is the user's and nobody
// else may write it, and if the open file is a regular file of the
// user's that nobody else may write, of data's size and with its first
// page, that may be executed: another user can neither have made it nor
// change it. (The user's own processes can, containers with the
// directory mounted included; they run as the user already, as they
// could change ~/.bashrc.) A copy is never replaced while it may be
// running: on a shared home (NFS) another node may run one, and a file
// renamed over it would be gone under that node's feet.
func cachedCopy(key, data string) (*os.File, error) {
	dir, err := cacheDirErr()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(data[:coreHead]))
	name := filepath.Join(dir, key+"-"+hex.EncodeToString(sum[:8]))
	f, err := openCopy(name, data)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, errNotCopy) {
		// Missing, or not as it should be (a partial copy, a changed
		// mode): write it, next to whatever copy other nodes run.
		if err := writeCopy(dir, name, data, errors.Is(err, errNotCopy)); err != nil {
			return nil, err
		}
		f, err = openCopy(name, data)
	}
	if err != nil {
		return nil, err
	}
	// A mount with noexec (or an exec policy the kernel checks) refuses
	// execve later, far from here: ask now (access(2) with X_OK sees
	// both).
	if err := unix.Access(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), unix.X_OK); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s cannot be executed: %w", name, err)
	}
	return f, nil
}

var errNotCopy = errors.New("not the program rl wrote there")

// openCopy opens a cached copy of data and checks the open file itself
// (see cachedCopy), so that what is checked is what is executed.
// O_NONBLOCK: a FIFO planted there must not hang rl (it fails the checks).
func openCopy(name, data string) (*os.File, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := moveUp(fd, name)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	head := make([]byte, coreHead)
	if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG &&
		int(st.Uid) == os.Getuid() && st.Mode&0o022 == 0 && st.Size == int64(len(data)) {
		if n, err := f.ReadAt(head, 0); n == coreHead && (err == nil) && bytes.Equal(head, []byte(data[:coreHead])) {
			return f, nil
		}
	}
	f.Close()
	return nil, fmt.Errorf("%s: %w", name, errNotCopy)
}

// writeCopy writes data to name through a temporary file: a copy
// that is not complete never has the name. A missing name is made with
// link(2), which fails rather than replace a copy another rl made
// meanwhile (then that one is used); a bad copy (replace) is renamed
// over. Temporary files of writes that were killed are removed here
// (sweepCache).
func writeCopy(dir, name, data string, replace bool) error {
	sweepCache(dir)
	tmp, err := os.CreateTemp(dir, record.TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // after link: the name stays; after rename: nothing
	_, err = tmp.WriteString(data)
	if err == nil {
		err = tmp.Chmod(0o500)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if replace {
			err = os.Rename(tmp.Name(), name)
		} else if err = os.Link(tmp.Name(), name); errors.Is(err, os.ErrExist) {
			err = nil // another rl was quicker
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// initForP is the executable of I for a direct start: the cached copy of
// rl-init (see initForC), else a memfd (initBinary).
func initForP() string {
	f, err := cachedCopy("rl-init", initBuild)
	if err != nil {
		return initBinary()
	}
	defer f.Close()
	// Out of the way of the fds I gets (3, 4), and kept open while P runs.
	hi, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 100)
	if err != nil {
		return initBinary()
	}
	memfds["rl-init-copy"] = os.NewFile(uintptr(hi), "rl-init")
	return fmt.Sprintf("/proc/self/fd/%d", hi)
}
