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
// page (4096 bytes): see Fit for how many layers go in. With relative
// lower directories the working directory is changed for the duration of
// the mount(2) call (the caller must run on one thread: the working
// directory is the process's).
func Mount(lowers []string, upper, work, target string) error {
	dir, opts, err := Fit(lowers, upper, work, ReadLink)
	if err != nil {
		return err
	}
	if dir != "" {
		cwd, err := os.Getwd()
		if err != nil {
			return err
		}
		if err := os.Chdir(dir); err != nil {
			return err
		}
		defer os.Chdir(cwd)
	}
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}

// Fit is Mount's option string for lowers (layer directories of one
// store, DIR/ID/diff), and the directory its lower directories are
// relative to ("": none, they are absolute). Where absolute ones do not
// fit in a page (~35 layers in a store under a home directory), they are
// given relative to DIR ("ID/diff", ~55 layers), and where those do not
// fit either, by the short names containers/storage's overlay driver
// links each layer under (DIR/l/NAME -> ../ID/diff; NAME is in
// DIR/ID/link, which link reads), as that driver mounts them itself
// (~140 layers).
func Fit(lowers []string, upper, work string, link func(layer string) (string, error)) (dir, opts string, err error) {
	fits := func(o string) bool { return len(o) < unix.Getpagesize()-1 }
	if opts = Options(lowers, upper, work); fits(opts) {
		return "", opts, nil
	}
	tooMany := fmt.Errorf("%d layers do not fit in one overlay mount", len(lowers))
	dir = filepath.Dir(filepath.Dir(lowers[0]))
	rel := make([]string, len(lowers))
	for i, l := range lowers {
		r, err := filepath.Rel(dir, l)
		if err != nil || strings.HasPrefix(r, "..") {
			return "", "", tooMany
		}
		rel[i] = r
	}
	if opts = Options(rel, upper, work); fits(opts) {
		return dir, opts, nil
	}
	for i, l := range lowers {
		name, err := link(l)
		if err != nil || !linkName(name) {
			return "", "", tooMany
		}
		rel[i] = "l/" + name
	}
	if opts = Options(rel, upper, work); fits(opts) {
		return dir, opts, nil
	}
	return "", "", tooMany
}

// linkName: name is a short name as containers/storage makes them (26
// characters of base32), nothing that overlayfs's option parser or a C
// string would read otherwise ("," ":" "\\" NUL, "..").
func linkName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range name {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ReadLink reads the short name of layer (DIR/ID/diff) from DIR/ID/link.
func ReadLink(layer string) (string, error) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(layer), "link"))
	return strings.TrimSpace(string(b)), err
}

// Options is the option string of Mount.
func Options(lowers []string, upper, work string) string {
	return "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + work + ",userxattr,volatile"
}
