package child

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setupTerminal opens a pty in the container's own devpts (so the
// container sees its own /dev/pts/0), hands the master to P over the
// console socket, waits until P has sized it, and makes the slave the
// controlling terminal and stdio of the command. I is already a session
// leader (started with Setsid).
func setupTerminal(uid, gid uint32) error {
	master, err := unix.Open("/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/pts/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlocking the pty: %w", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("finding the pty number: %w", err)
	}
	slavePath := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", slavePath, err)
	}
	if unix.Fchown(slave, int(uid), int(gid)) != nil {
		unix.Fchown(slave, int(uid), -1) // the gid may not be mapped
	}
	if err := unix.Sendmsg(ConsoleFD, []byte{'t'}, unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("sending the pty to rl: %w", err)
	}
	var ack [1]byte
	if _, err := unix.Read(ConsoleFD, ack[:]); err != nil {
		return fmt.Errorf("waiting for rl to take the pty: %w", err)
	}
	unix.Close(ConsoleFD)
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("making %s the controlling terminal: %w", slavePath, err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup2(slave, fd); err != nil {
			return fmt.Errorf("dup2 pty: %w", err)
		}
	}
	if slave > 2 {
		unix.Close(slave)
	}
	return nil
}
