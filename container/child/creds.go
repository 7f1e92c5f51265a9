package child

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"rl/capability"
)

func capBits(names []string) (lo, hi uint32) {
	for _, n := range names {
		c, ok := capability.Number(n)
		if !ok {
			continue
		}
		if c < 32 {
			lo |= 1 << c
		} else {
			hi |= 1 << (c - 32)
		}
	}
	return lo, hi
}

func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return len(capability.Names) - 1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return len(capability.Names) - 1
	}
	return n
}

// dropBounding removes from this thread's bounding set every capability
// the Spec does not list (prctl(2) PR_CAPBSET_DROP).
func dropBounding(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	keep := map[int]bool{}
	for _, n := range c.Bounding {
		if i, ok := capability.Number(n); ok {
			keep[i] = true
		}
	}
	// (lastCap reads a file: once, not in the loop condition, where it
	// cost ~1.4 ms of every start.)
	for i, last := 0, lastCap(); i <= last; i++ {
		if keep[i] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(i), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", i, err)
		}
	}
	return nil
}

// setUser switches this thread to the container's user. Raw syscalls:
// only this (locked) thread changes, and it is the one that calls execve.
func setUser(u specs.User) error {
	// Keep the permitted set across the uid change; setCaps trims it.
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_KEEPCAPS: %w", err)
	}
	groups := make([]uint32, len(u.AdditionalGids))
	copy(groups, u.AdditionalGids)
	var ptr unsafe.Pointer
	if len(groups) > 0 {
		ptr = unsafe.Pointer(&groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(ptr), 0); e != 0 {
		// A single-uid namespace has setgroups denied; an empty list is
		// then already what we have.
		if len(groups) > 0 {
			return &hinted{fmt.Errorf("setting supplementary groups %v: %w", groups, e), "supplementary groups need subordinate gids (/etc/subgid); rl runs in single-uid mode"}
		}
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return unmapped("gid", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return unmapped("uid", u.UID, e)
	}
	return nil
}

func unmapped(kind string, id uint32, e unix.Errno) error {
	err := fmt.Errorf("switching to %s %d: %w", kind, id, e)
	if e == unix.EINVAL {
		return &hinted{fmt.Errorf("%s %d is not mapped in rl's user namespace", kind, id),
			"only root exists in single-uid mode; add subordinate ids (usermod --add-subuids/--add-subgids) or use --userns=keep-id"}
	}
	return err
}

// setCaps sets the effective, permitted and inheritable sets, then the
// ambient set (capabilities(7)).
func setCaps(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_KEEPCAPS: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	data[0].Effective, data[1].Effective = capBits(c.Effective)
	data[0].Permitted, data[1].Permitted = capBits(c.Permitted)
	data[0].Inheritable, data[1].Inheritable = capBits(c.Inheritable)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("setting capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	for _, n := range c.Ambient {
		if i, ok := capability.Number(n); ok {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0); err != nil {
				return fmt.Errorf("raising ambient %s: %w", n, err)
			}
		}
	}
	return nil
}

type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Hint() string  { return e.hint }
