//go:build rlfront

package main

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// The rl that make build ships is two programs. This one, the front (tags
// rllight rlfront), is what users run: it parses rl run's flags and is P,
// the process that stays on the host, and it runs everything else in its
// core, the rllight build (light.go), which it carries inside itself.
// Every rl run starts P and C, and C needs containers/storage, whose
// package inits (and those of what it links) made each exec of rl cost
// about 14 ms here against 8 ms for the front: P is the part of a start
// nothing overlaps. The core runs as C (rl run) and as the whole of every
// other command (images, pull, ...).
//
// The core is executed from a file in the user's cache directory
// (coreBinary), written once per build: copying its 34 MB into a memfd
// on every run, as rl-init is (memfd.go), would cost more than the front
// saves.

//go:embed rl-core
var coreBuild string

// coreSum is the sha256 of rl-core, set by make build (-X main.coreSum);
// it names the cached copy.
var coreSum string

// cBinary is the program that runs as C: the core.
func cBinary() (string, error) { return coreBinary() }

// execCore becomes the core, for a command the front does not run: same
// pid, argv and environment, so signals, the terminal and the exit status
// are simply its own.
func execCore() error {
	path, err := coreBinary()
	if err != nil {
		return err
	}
	err = unix.Exec(path, os.Args, os.Environ())
	return fmt.Errorf("running rl's core: %w", err)
}

// runInit: I is rl-init (memfd.go) or the core's `rl __init`, never the
// front.
func runInit() int { return report(os.Stderr, execCore()) }

// runInside: C is the core (cBinary), never the front.
func runInside(*runConfig) error { return execCore() }

// nameSelf: the front is never executed from a memfd.
func nameSelf() {}

func setTransferRun(c *command) {
	c.Store = false // the core enters the user namespace itself
	c.Run = func([]string) error { return execCore() }
}

// coreBinary returns a path execve accepts for the core: the cached copy
// when it can be used, else a sealed memfd (slower, but it always works:
// a read-only or full home, a cache directory on a noexec mount, ...;
// RL_DEBUG says why).
func coreBinary() (string, error) {
	if coreSum == "" {
		return "", errors.New("this rl was built without make build (no checksum of its core)")
	}
	p, err := cachedCore()
	if err == nil {
		return p, nil
	}
	if verbose() {
		fmt.Fprintf(os.Stderr, "rl: not using the cached core: %v\n", err)
	}
	return sealedExec("rl-core", coreBuild)
}

// cachedCore opens $XDG_CACHE_HOME/rl/rl-core-SUM (else ~/.cache/...),
// writing it first if need be, and returns /proc/self/fd/N of the open
// file: what is executed is the file checked here, whatever happens to
// the name afterwards. It is used only if it and its directory belong to
// the user and nobody else may write them, and if its size is the
// core's: another user can neither have made it nor change it. (The
// user's own processes can, containers with the directory mounted
// included; they run as the user already.) Old copies are left in place:
// on a shared home (NFS) another node may be running one.
func cachedCore() (string, error) {
	if f := memfds["rl-core"]; f != nil {
		return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "rl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := private(dir); err != nil {
		return "", err
	}
	name := filepath.Join(dir, "rl-core-"+coreSum[:16])
	f, err := openCore(name)
	if err != nil {
		// Missing, or not as it should be (a partial copy, a changed
		// mode): write it anew.
		if err := writeCore(dir, name); err != nil {
			return "", err
		}
		if f, err = openCore(name); err != nil {
			return "", err
		}
	}
	memfds["rl-core"] = f
	return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), nil
}

// openCore opens the cached core and checks the open file itself (see
// cachedCore), so that what is checked is what is executed.
func openCore(name string) (*os.File, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := moveUp(fd, name)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG &&
		int(st.Uid) == os.Getuid() && st.Mode&0o022 == 0 && st.Size == int64(len(coreBuild)) {
		return f, nil
	}
	f.Close()
	return nil, fmt.Errorf("%s is not rl's core as written", name)
}

// private checks that dir is a directory of the user's that no one else
// may write.
func private(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.IsDir() || int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is not a private directory of yours", dir)
	}
	return nil
}

// writeCore writes the core to name, atomically: a copy that is not
// complete never has the name.
func writeCore(dir, name string) error {
	tmp, err := os.CreateTemp(dir, ".rl-core-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // (after the rename: nothing)
	_, err = tmp.WriteString(coreBuild)
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
		// Over a copy that failed its checks, if any (rename(2) replaces
		// it atomically: a process running it keeps its own).
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("writing rl's core to %s: %w", dir, err)
	}
	return nil
}
