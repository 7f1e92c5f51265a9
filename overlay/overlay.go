// Package overlay mounts native overlayfs the way rl needs it in a user
// namespace: option userxattr (Linux 5.11+; without it removing or
// renaming a lower directory fails with EIO there) and volatile, with
// the lower directories given relative to their common parent when the
// option string would not fit in one page.
//
// C mounts a container's rootfs with it (package rootfs, which falls back
// to fuse-overlayfs), and so does I when P starts it directly
// (cmd/rl/run_direct.go): I links this package, not rootfs and its fuse.
package overlay

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount mounts overlayfs on target, volatile: rl removes the upper
// directory when the container exits (every run is --rm), so nothing
// written there has to survive a crash, and the container's sync and
// fsync calls and the unmount need not flush it to the upper file system
// (whole-file-system syncs otherwise; Documentation/filesystems/overlayfs.rst,
// "Volatile mount"). podman mounts --rm containers the same way. Linux
// 5.10 has it, userxattr needs 5.11. The option string is limited to one
// page (4096 bytes), so lower directories are given relative to their
// common parent, the way containers/storage does it, with the working
// directory changed for the duration of the mount(2) call (the caller
// must run on one thread: the working directory is the process's).
func Mount(lowers []string, upper, work, target string) error {
	opts := Options(lowers, upper, work)
	if len(opts) >= unix.Getpagesize()-1 {
		parent := filepath.Dir(filepath.Dir(lowers[0]))
		rel := make([]string, len(lowers))
		for i, l := range lowers {
			r, err := filepath.Rel(parent, l)
			if err != nil || strings.HasPrefix(r, "..") {
				return fmt.Errorf("%d layers do not fit in one overlay mount", len(lowers))
			}
			rel[i] = r
		}
		cwd, err := os.Getwd()
		if err != nil {
			return err
		}
		if err := os.Chdir(parent); err != nil {
			return err
		}
		defer os.Chdir(cwd)
		opts = Options(rel, upper, work)
		if len(opts) >= unix.Getpagesize()-1 {
			return fmt.Errorf("%d layers do not fit in one overlay mount", len(lowers))
		}
	}
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}

// Options is the option string of Mount.
func Options(lowers []string, upper, work string) string {
	return "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + work + ",userxattr,volatile"
}
