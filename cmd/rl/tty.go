package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// terminal is P's side of `rl run -t`: I opens a pty inside the container
// and sends the master here over a socket (SCM_RIGHTS); P puts its own
// terminal in raw mode, sizes the pty like it, and copies both ways, so
// that Ctrl-C reaches the container as a character on its terminal.
type terminal struct {
	parentEnd, childEnd *os.File
	interactive         bool
	mu                  sync.Mutex
	master              *os.File
	restore             *term.State
	outDone             chan struct{}
	served              chan struct{} // closed when serve returns; nil before Start
}

func newTerminal(interactive bool) (*terminal, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	return &terminal{parentEnd: os.NewFile(uintptr(fds[0]), "console"), childEnd: os.NewFile(uintptr(fds[1]), "console-child"),
		interactive: interactive, outDone: make(chan struct{})}, nil
}

// Start serves the terminal (serve) in the background; Close waits for
// that to end before it closes the socket: serve reads it by fd number,
// which must not be reused meanwhile (a fallback to C makes a new
// terminal at once).
func (t *terminal) Start() {
	t.served = make(chan struct{})
	go func() {
		defer close(t.served)
		t.serve()
	}()
}

// serve receives the pty master and copies until the container is done.
func (t *terminal) serve() {
	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(t.parentEnd.Fd()), buf, oob, 0)
	if err != nil || oobn == 0 {
		return // C failed before the container started, and says why
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return
	}
	t.mu.Lock()
	t.master = os.NewFile(uintptr(fds[0]), "pty-master")
	t.mu.Unlock()
	t.Resize()
	if t.interactive && isTerminal(os.Stdin) {
		if st, err := term.MakeRaw(int(os.Stdin.Fd())); err == nil {
			t.mu.Lock()
			t.restore = st
			t.mu.Unlock()
		}
	}
	// The container may start only now that its terminal has its size.
	t.parentEnd.Write([]byte{1})
	go func() {
		io.Copy(os.Stdout, t.master) // ends with EIO when the last slave closes
		close(t.outDone)
	}()
	if t.interactive {
		go io.Copy(t.master, os.Stdin)
	}
}

// Resize gives the pty the size of rl's own terminal.
func (t *terminal) Resize() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.master == nil {
		return
	}
	for _, f := range []*os.File{os.Stdout, os.Stdin, os.Stderr} {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
			unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
			return
		}
	}
}

// Drain waits until the container's last output has been copied.
func (t *terminal) Drain() {
	t.mu.Lock()
	started := t.master != nil
	t.mu.Unlock()
	if !started {
		return
	}
	select {
	case <-t.outDone:
	case <-time.After(2 * time.Second):
	}
}

// Close restores rl's terminal. serve has returned by then, or returns
// soon: every other end of the socket is closed once the container's
// processes are gone (P closed its own after starting them).
func (t *terminal) Close() {
	if t.served != nil {
		select {
		case <-t.served:
		case <-time.After(2 * time.Second):
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.restore != nil {
		term.Restore(int(os.Stdin.Fd()), t.restore)
		t.restore = nil
	}
	t.parentEnd.Close()
}

// hostUser returns the name and home directory of uid on the host.
func hostUser(uid int) (string, string) {
	if u, err := user.LookupId(fmt.Sprint(uid)); err == nil {
		return u.Username, u.HomeDir
	}
	return fmt.Sprintf("user%d", uid), "/"
}
