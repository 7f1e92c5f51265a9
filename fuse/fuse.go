// Package fuse runs FUSE file systems for rl: it checks whether /dev/fuse
// can be used, and runs a FUSE server (fuse-overlayfs) in the foreground as
// a child that dies with rl, waiting until its mount is in place.
//
// FUSE works in a user namespace only when /dev/fuse is opened inside it
// (fuse(4); FACTS.md), so everything here runs in C.
package fuse

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Usable reports why /dev/fuse cannot be used, or nil when it can.
func Usable() error {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("/dev/fuse: %w", errors.Unwrap(err))
	}
	f.Close()
	return nil
}

// Mount is a FUSE file system served by a child process.
type Mount struct {
	Target string
	cmd    *exec.Cmd
	done   chan struct{}
}

// Start runs program with args (which must keep it in the foreground, -f)
// and waits until target is a mount point. The server gets Pdeathsig so it
// does not outlive rl.
func Start(program string, args []string, target string) (*Mount, error) {
	path, err := exec.LookPath(program)
	if err != nil {
		return nil, fmt.Errorf("%s not found", program)
	}
	var before unix.Stat_t
	if err := unix.Stat(target, &before); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", program, err)
	}
	m := &Mount{Target: target, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(m.done) }()
	// A new mount shows as a new device number on target.
	deadline := time.Now().Add(10 * time.Second)
	for delay := 200 * time.Microsecond; ; delay = min(delay*2, 10*time.Millisecond) {
		var st unix.Stat_t
		if unix.Stat(target, &st) == nil && st.Dev != before.Dev {
			return m, nil
		}
		select {
		case <-m.done:
			msg := strings.TrimSpace(stderr.String())
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			if msg == "" {
				msg = cmd.ProcessState.String()
			}
			return nil, fmt.Errorf("%s: %s", program, msg)
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, fmt.Errorf("%s: %s did not appear within 10s", program, target)
		}
	}
}

// Stop unmounts the file system and ends the server.
func (m *Mount) Stop() {
	unix.Unmount(m.Target, unix.MNT_DETACH)
	select {
	case <-m.done:
		return
	case <-time.After(2 * time.Second):
	}
	m.cmd.Process.Kill()
	<-m.done
}
