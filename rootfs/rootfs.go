// Package rootfs mounts a container's root file system: the image's layers
// as read-only lower directories plus a per-container upper directory, with
// native overlayfs in rl's user namespace (Linux 5.11+, option userxattr)
// and fuse-overlayfs when the kernel refuses (older kernels, an upper
// directory on NFS or Lustre).
//
// The mount lives in C's mount namespace (rl's own; I's copy of it
// receives C's mounts, see startContainer in cmd/rl/run.go); it disappears
// with C even if C is killed. Release removes it and the upper directory.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"rl/fuse"
	"rl/overlay"
)

// Config says what to mount.
type Config struct {
	Layers []string // layer directories, top first (image.Store.LayerDirs)
	Dir    string   // per-container directory: upper, work and merged go here
	// Driver: "" tries native overlay, then fuse-overlayfs; "native" or
	// "fuse" forces one (RL_OVERLAY, for tests and for hosts where one of
	// them misbehaves).
	Driver string
}

// Rootfs is a mounted root file system.
type Rootfs struct {
	Path   string // the merged directory
	Driver string // "native" or "fuse"
	fuse   *fuse.Mount
}

// Mount creates Dir/{upper,work,merged} and mounts the overlay on merged.
func Mount(c Config) (*Rootfs, error) {
	upper, work, merged := filepath.Join(c.Dir, "upper"), filepath.Join(c.Dir, "work"), filepath.Join(c.Dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	lowers := c.Layers
	if len(lowers) == 0 {
		// overlayfs needs a lower directory; a scratch image has none.
		empty := filepath.Join(c.Dir, "empty")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return nil, err
		}
		lowers = []string{empty}
	}
	var nativeErr error
	if c.Driver != "fuse" {
		nativeErr = overlay.Mount(lowers, upper, work, merged)
		if nativeErr == nil {
			return &Rootfs{Path: merged, Driver: "native"}, nil
		}
		if c.Driver == "native" {
			return nil, nativeErr
		}
	}
	if err := fuse.Usable(); err != nil {
		return nil, bothFailed(nativeErr, err)
	}
	opts := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + work
	m, err := fuse.Start("fuse-overlayfs", []string{"-f", "-o", opts, merged}, merged)
	if err != nil {
		return nil, bothFailed(nativeErr, err)
	}
	return &Rootfs{Path: merged, Driver: "fuse", fuse: m}, nil
}

func bothFailed(native, fuseErr error) error {
	if native == nil {
		return fmt.Errorf("mounting the root file system with fuse-overlayfs: %w", fuseErr)
	}
	return &hintError{fmt.Errorf("cannot mount the root file system: native overlay: %v; fuse-overlayfs: %v", native, fuseErr),
		"native overlay needs Linux 5.11+ and a local upper directory; for fuse-overlayfs install the fuse-overlayfs package and make /dev/fuse usable (chmod 0666 /dev/fuse)"}
}

// Release unmounts the rootfs. The caller removes the directory.
func (r *Rootfs) Release() {
	if r.fuse != nil {
		r.fuse.Stop()
		return
	}
	// A plain unmount: the container is gone, so nothing uses the mount.
	// (MNT_DETACH was seen to take 100 ms about once in 20-40 runs here;
	// plain unmounts never did in 120.) Busy after all: detach it.
	err := unix.Unmount(r.Path, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(r.Path, unix.MNT_DETACH)
	}
	if err != nil && !errors.Is(err, unix.EINVAL) {
		fmt.Fprintf(os.Stderr, "rl: unmounting %s: %v\n", r.Path, err)
	}
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }
