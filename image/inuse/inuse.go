// Package inuse records which running containers use which image: one
// file per container in the store's run root, named after it and holding
// the image ID and the pid of its rl, so that rl rmi can refuse an image
// in use without a containers/storage container record per run (which
// costs tens of ms). A lock file beside the marks keeps rl rmi's check
// apart from new marks, and a note that rmi holds locked keeps runs off
// the image until it is deleted (Remove). It has no containers/storage
// in it: rl run's front marks images too (see package record).
package inuse

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	dir, err := openMarks(runRoot)
	if err != nil {
		return nil, err
	}
	// Shared: marks go in beside each other, not while rl rmi checks
	// (Remove).
	lk, err := lock(dir, unix.LOCK_SH, lockName)
	if err == nil {
		if removing(dir, imageID) {
			unix.Close(lk)
			unix.Close(dir)
			return nil, &RemovingError{ImageID: imageID}
		}
		var fd int
		fd, err = unix.Openat(dir, id, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil {
			f := os.NewFile(uintptr(fd), id)
			_, err = fmt.Fprintf(f, "%s %d\n", imageID, os.Getpid())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		unix.Close(lk)
	}
	if err != nil {
		unix.Close(dir)
		return nil, fmt.Errorf("marking image %s in use in %s: %w", imageID, Dir(runRoot), err)
	}
	return func() { unix.Unlinkat(dir, id, 0); unix.Close(dir) }, nil
}

// RemovingError is Mark's refusal of an image that rl rmi is removing.
type RemovingError struct{ ImageID string }

func (e *RemovingError) Error() string {
	return fmt.Sprintf("image %s is being removed (rl rmi)", e.ImageID[:min(12, len(e.ImageID))])
}

// Remove is rl rmi's side: under the marks' lock it lists the live
// containers that use imageID (Users) and, when there are none or force,
// leaves a note that it is removing the image, which makes Mark refuse
// it until done is called (or rmi has died). So no run starts on layers
// being deleted, and runs of other images need not wait for the
// deletion.
func Remove(runRoot, imageID string, force bool) (users []string, done func(), err error) {
	dir, err := openMarks(runRoot)
	if err != nil {
		return nil, nil, err
	}
	lk, err := lock(dir, unix.LOCK_EX, lockName)
	if err != nil {
		unix.Close(dir)
		return nil, nil, fmt.Errorf("locking %s: %w", Dir(runRoot), err)
	}
	defer unix.Close(lk)
	users = Users(runRoot, imageID)
	if len(users) > 0 && !force {
		unix.Close(dir)
		return users, func() {}, nil
	}
	// The note is held with an exclusive flock while rmi removes: a
	// crashed rmi's note is unlocked, whatever became of its pid.
	name := removingPrefix + imageID
	note, err := lock(dir, unix.LOCK_EX, name)
	if err != nil {
		unix.Close(dir)
		return nil, nil, fmt.Errorf("writing %s: %w", filepath.Join(Dir(runRoot), name), err)
	}
	return users, func() { unix.Unlinkat(dir, name, 0); unix.Close(note); unix.Close(dir) }, nil
}

// removing: rl rmi is removing imageID (Remove's note, locked by its
// rmi; a crashed rmi's, unlocked, goes). Called under the marks' lock,
// shared: no rmi makes a note meanwhile.
func removing(dir int, imageID string) bool {
	name := removingPrefix + imageID
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB); err == unix.EWOULDBLOCK {
		return true
	}
	unix.Unlinkat(dir, name, 0)
	return false
}

// removingPrefix names Remove's notes in rl-in-use (a dot: no
// container's mark).
const removingPrefix = ".removing-"

// openMarks opens runRoot's rl-in-use, made if missing.
func openMarks(runRoot string) (int, error) {
	root, err := openOwnDir(unix.AT_FDCWD, runRoot, runRoot, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(root)
	if err := unix.Mkdirat(root, "rl-in-use", 0o700); err != nil && err != unix.EEXIST {
		return -1, fmt.Errorf("creating %s: %w", Dir(runRoot), err)
	}
	return openOwnDir(root, "rl-in-use", Dir(runRoot), unix.O_NOFOLLOW)
}

// lock takes a lock on the file name in the open rl-in-use directory dir
// (the marks' lock, lockName, or an rmi's note; a file: flock on a
// directory opened read-only fails on NFS), as how says (unix.LOCK_SH or
// LOCK_EX), made if missing; closing the returned fd releases it.
func lock(dir int, how int, name string) (int, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return -1, err
	}
	for {
		if err = unix.Flock(fd, how); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// lockName is the lock's file in rl-in-use: no container's id or name
// starts with a dot.
const lockName = ".lock"

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
		if strings.HasPrefix(e.Name(), ".") {
			continue // (the lock)
		}
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
