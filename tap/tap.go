// Package tap creates the persistent tap device slirp4netns attaches to,
// in the calling thread's net namespace (TUNSETIFF, TUNSETPERSIST;
// Documentation/networking/tuntap.rst). C creates it from the host side
// of setns(2) (package network), I from inside the container's namespace
// when P started it directly (package container/child).
//
// Why persistent: when the last fd of a tap device that is not persistent
// is closed, the kernel unregisters the device synchronously, which waits
// for RCU grace periods: slirp4netns's exit took 20-30 ms here, all of it
// on rl's exit path. A persistent device outlives slirp4netns's fd and
// goes with its net namespace, which the kernel tears down in a worker
// once the container and slirp4netns are gone (net/core/net_namespace.c,
// cleanup_net), off rl's path.
package tap

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Create makes the persistent tap device name (IFF_TAP, no packet info).
func Create(name string) error {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/net/tun: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
		return fmt.Errorf("making %s persistent: %w", name, err)
	}
	return nil
}
