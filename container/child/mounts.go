package child

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountFlags are the mount(8) options that are flags, not data.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"noatime": {false, unix.MS_NOATIME}, "atime": {true, unix.MS_NOATIME},
	"nodiratime": {false, unix.MS_NODIRATIME}, "diratime": {true, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
}

var propagation = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

func parseOptions(opts []string) (flags uintptr, prop []uintptr, data string) {
	var d []string
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		if p, ok := propagation[o]; ok {
			prop = append(prop, p)
			continue
		}
		d = append(d, o)
	}
	return flags, prop, strings.Join(d, ",")
}

// mountOne mounts m inside root. The target is resolved inside root
// (symlinks in the image cannot lead out of it) and created if missing.
func mountOne(root string, m specs.Mount) error {
	dest, err := securejoin.SecureJoin(root, m.Destination)
	if err != nil {
		return fmt.Errorf("resolving %s in the rootfs: %w", m.Destination, err)
	}
	flags, prop, data := parseOptions(m.Options)
	isBind := flags&unix.MS_BIND != 0 || m.Type == "bind"
	if err := makeTarget(dest, m.Source, isBind); err != nil {
		return fmt.Errorf("creating the mount point %s: %w", m.Destination, err)
	}
	if isBind {
		err = bindMount(m.Source, dest, flags)
	} else {
		err = unix.Mount(m.Source, dest, m.Type, flags, data)
		if err != nil && m.Type == "sysfs" && errors.Is(err, unix.EPERM) {
			// sysfs needs a net namespace of our own; fall back to the
			// host's /sys, read-only.
			err = bindMount("/sys", dest, unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
		}
	}
	if err != nil {
		return fmt.Errorf("mounting %s on %s: %w", describe(m), m.Destination, err)
	}
	for _, p := range prop {
		if err := unix.Mount("", dest, "", p, ""); err != nil {
			return fmt.Errorf("setting propagation of %s: %w", m.Destination, err)
		}
	}
	return nil
}

func describe(m specs.Mount) string {
	if m.Type == "bind" {
		return m.Source
	}
	return m.Type
}

// bindMount binds src on dest, then applies ro/nosuid/nodev/noexec with
// mount_setattr(2), which (unlike a remount) also reaches the submounts of
// a recursive bind and never clears flags the kernel has locked.
func bindMount(src, dest string, flags uintptr) error {
	if err := unix.Mount(src, dest, "", flags&(unix.MS_BIND|unix.MS_REC), ""); err != nil {
		return err
	}
	attr := mountAttrs(flags)
	if attr == 0 {
		return nil
	}
	at := 0
	if flags&unix.MS_REC != 0 {
		at = unix.AT_RECURSIVE
	}
	return unix.MountSetattr(-1, dest, uint(at), &unix.MountAttr{Attr_set: attr})
}

// mountAttrs are mount_setattr(2)'s attributes for a bind's flags: ro,
// nosuid, nodev and noexec.
func mountAttrs(flags uintptr) uint64 {
	var attr uint64
	for f, a := range map[uintptr]uint64{unix.MS_RDONLY: unix.MOUNT_ATTR_RDONLY, unix.MS_NOSUID: unix.MOUNT_ATTR_NOSUID,
		unix.MS_NODEV: unix.MOUNT_ATTR_NODEV, unix.MS_NOEXEC: unix.MOUNT_ATTR_NOEXEC} {
		if flags&f != 0 {
			attr |= a
		}
	}
	return attr
}

// makeTarget creates the mount point: a file for a file bind, else a
// directory. dest is already resolved inside the rootfs.
func makeTarget(dest, src string, isBind bool) error {
	if isBind {
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				return err
			}
			// (O_NONBLOCK: a FIFO in the image at the target must not
			// block the open, and the container's start with it.)
			f, err := os.OpenFile(dest, os.O_CREATE|os.O_RDONLY|syscall.O_NONBLOCK, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
	}
	return os.MkdirAll(dest, 0o755)
}

// makeDevices binds the host's harmless devices into the container's /dev
// tmpfs (a user namespace cannot mknod) and adds the usual links.
func makeDevices(root string) error {
	// /dev resolved inside the rootfs, as mountOne resolved it for the
	// tmpfs: joined on the host side, an image's /dev that is a symlink
	// led these files out of the rootfs.
	dev, err := securejoin.SecureJoin(root, "/dev")
	if err != nil {
		return fmt.Errorf("resolving /dev in the rootfs: %w", err)
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		p := filepath.Join(dev, d)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY|syscall.O_NOFOLLOW, 0o666)
		if err != nil {
			return fmt.Errorf("creating /dev/%s: %w", d, err)
		}
		f.Close()
		if err := unix.Mount("/dev/"+d, p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding /dev/%s: %w", d, err)
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx", "core": "/proc/kcore"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil && !os.IsExist(err) {
			return fmt.Errorf("creating /dev/%s: %w", name, err)
		}
	}
	return nil
}

// maskPaths hides files behind /dev/null and directories behind an empty
// read-only tmpfs.
func maskPaths(root string, paths []string) error {
	for _, p := range paths {
		dest, err := securejoin.SecureJoin(root, p)
		if err != nil {
			return err
		}
		st, err := os.Stat(dest)
		if err != nil {
			continue // not there: nothing to hide
		}
		if st.IsDir() {
			err = unix.Mount("tmpfs", dest, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0")
		} else {
			var null string
			if null, err = securejoin.SecureJoin(root, "/dev/null"); err == nil {
				err = unix.Mount(null, dest, "", unix.MS_BIND, "")
			}
		}
		if err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
	}
	return nil
}

// readonlyPaths binds each path on itself and makes the bind read-only.
func readonlyPaths(root string, paths []string) error {
	for _, p := range paths {
		dest, err := securejoin.SecureJoin(root, p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(dest); err != nil {
			continue
		}
		if err := bindMount(dest, dest, unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
			return fmt.Errorf("making %s read-only: %w", p, err)
		}
	}
	return nil
}
