// Package inuse records which running containers use which image: one
// file per container in the store's run root, named after it and holding
// the image ID and the pid of its rl, so that rl rmi can refuse an image
// in use without a containers/storage container record per run (which
// costs tens of ms). It has no containers/storage in it: rl run's front
// marks images too (see package record).
package inuse

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dir is where the marks of the store with run root runRoot are.
func Dir(runRoot string) string { return filepath.Join(runRoot, "rl-in-use") }

// Mark records that container id runs imageID; the returned func removes
// the record. The run root and its rl-in-use must be directories of this
// uid's that no one else may write, checked on the open directories (the
// run root may be reached through symlinks, which storage allows;
// rl-in-use, rl's own, may not), and the mark is written relative to
// them: rl run's front takes the run root from its record, where
// containers/storage is not there to check it, and in a shared /tmp
// another user could have made /tmp/storage-run-UID after a reboot.
func Mark(runRoot, id, imageID string) (func(), error) {
	root, err := openOwnDir(unix.AT_FDCWD, runRoot, runRoot, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	if err := unix.Mkdirat(root, "rl-in-use", 0o700); err != nil && err != unix.EEXIST {
		return nil, fmt.Errorf("creating %s: %w", Dir(runRoot), err)
	}
	dir, err := openOwnDir(root, "rl-in-use", Dir(runRoot), unix.O_NOFOLLOW)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Openat(dir, id, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err == nil {
		f := os.NewFile(uintptr(fd), id)
		_, err = fmt.Fprintf(f, "%s %d\n", imageID, os.Getpid())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		unix.Close(dir)
		return nil, fmt.Errorf("marking image %s in use in %s: %w", imageID, Dir(runRoot), err)
	}
	return func() { unix.Unlinkat(dir, id, 0); unix.Close(dir) }, nil
}

// openOwnDir opens name (relative to dirfd; path names it in errors; flags
// may add O_NOFOLLOW) as a directory and checks that it is this uid's and
// that no one else may write it.
func openOwnDir(dirfd int, name, path string, flags int) (int, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return -1, fmt.Errorf("opening %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || int(st.Uid) != os.Getuid() || st.Mode&0o022 != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is not a directory of yours that only you may write", path)
	}
	return fd, nil
}

// Users lists the live containers that use imageID; marks whose rl died
// are removed.
func Users(runRoot, imageID string) []string {
	dir := Dir(runRoot)
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var id string
		var pid int
		fmt.Sscanf(string(b), "%s %d", &id, &pid)
		if pid > 0 && unix.Kill(pid, 0) != nil {
			os.Remove(filepath.Join(dir, e.Name())) // its rl died
			continue
		}
		if id == imageID {
			out = append(out, e.Name())
		}
	}
	return out
}
