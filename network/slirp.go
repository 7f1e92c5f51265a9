package network

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"rl/tap"
)

// ValidIP reports whether s is an IPv4 or IPv6 address.
func ValidIP(s string) bool { return net.ParseIP(s) != nil }

// Slirp is a running slirp4netns attached to a container's net namespace.
type Slirp struct {
	cmd    *exec.Cmd
	exit   *os.File // closing it tells slirp4netns to exit
	done   chan struct{}
	ready  chan error
	stderr bytes.Buffer
}

// SlirpConfig says which net namespace slirp4netns serves.
type SlirpConfig struct {
	PID  int // a process in the container's net namespace
	Mode Mode
	// UserNS: PID has a user namespace of its own, which owns its net
	// namespace, and the caller runs on the host (P's direct start):
	// slirp4netns joins that user namespace first (--userns-path), and
	// the container has made tap0 itself (the caller may not enter its
	// net namespace).
	UserNS bool
}

// StartSlirp starts slirp4netns for the net namespace of c.PID; Ready
// waits until it has configured tap0 there. It runs as a child of C
// (inside rl's user namespace, which owns the container's net namespace)
// or of P (c.UserNS), with Pdeathsig and an exit fd, so it ends with the
// container even when rl is killed.
func StartSlirp(c SlirpConfig) (*Slirp, error) {
	pid, m := c.PID, c.Mode
	path, err := exec.LookPath("slirp4netns")
	if err != nil {
		return nil, Check(m)
	}
	if !c.UserNS {
		if err := persistentTap(pid, "tap0"); err != nil {
			return nil, fmt.Errorf("slirp4netns: %w", err)
		}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyR.Close()
		readyW.Close()
		return nil, err
	}
	args := []string{"--configure", "--mtu=65520", "--enable-sandbox", "--enable-seccomp",
		"--exit-fd=3", "--ready-fd=4"}
	if !m.AllowHostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	if c.UserNS {
		args = append(args, fmt.Sprintf("--userns-path=/proc/%d/ns/user", pid))
	}
	args = append(args, strconv.Itoa(pid), "tap0")
	s := &Slirp{exit: exitW, done: make(chan struct{}), ready: make(chan error, 1)}
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{exitR, readyW}
	cmd.Stderr = &s.stderr
	// A mount namespace of its own, private (Go makes / MS_REC|MS_PRIVATE
	// before execve): C's tree is shared with I's (see startContainer in
	// cmd/rl/run.go), and the sandbox (--enable-sandbox) unshares only
	// CLONE_NEWNS and mounts a tmpfs on /tmp. From a shared copy, that tmpfs
	// propagated back into C and I where /tmp is a mount of its own (a
	// tmpfs /tmp, as on Fedora or Arch), and its pivot_root then failed
	// (the parent of the new root was shared).
	// From the host (c.UserNS), the tree is the host's, not shared with
	// the container's, and an unprivileged process may not unshare it:
	// slirp4netns's sandbox makes its mount namespace in the container's
	// user namespace, and its mounts stay there.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL, Setpgid: true}
	if !c.UserNS {
		cmd.SysProcAttr.Unshareflags = unix.CLONE_NEWNS
	}
	err = cmd.Start()
	exitR.Close()
	readyW.Close()
	if err != nil {
		readyR.Close()
		exitW.Close()
		return nil, fmt.Errorf("starting slirp4netns: %w", err)
	}
	s.cmd = cmd
	go func() { cmd.Wait(); close(s.done) }()
	go func() {
		defer readyR.Close()
		var b [1]byte
		_, err := readyR.Read(b[:])
		s.ready <- err
	}()
	return s, nil
}

// Ready waits until slirp4netns has configured the container's network,
// or says why it could not.
func (s *Slirp) Ready() error {
	select {
	case err := <-s.ready:
		if err == nil {
			return nil
		}
		<-s.done
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.Stop()
		s.Wait()
		return fmt.Errorf("slirp4netns did not get ready within 10s")
	}
	msg := strings.TrimSpace(s.stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	return fmt.Errorf("slirp4netns failed: %s", msg)
}

// Stop ends slirp4netns; Wait waits until it is gone. The container has
// exited, so slirp4netns has nothing left to do and gets SIGKILL. Stop
// does not wait, so that the rest of rl's clean-up overlaps its exit;
// call Wait last.
func (s *Slirp) Stop() {
	s.cmd.Process.Kill()
	s.exit.Close()
}

// Wait blocks until slirp4netns has exited.
func (s *Slirp) Wait() { <-s.done }

// persistentTap creates tap0 in the net namespace of pid, persistent
// (package tap), before slirp4netns starts; slirp4netns then attaches to
// it instead of creating its own.
//
// setns(2) into a net namespace is allowed for one thread of a Go
// process; the thread is locked and thrown away afterwards (its goroutine
// returns locked), so that no other goroutine ever runs in the
// container's namespace.
func persistentTap(pid int, name string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: Go ends this thread
		errc <- func() error {
			target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
			if err != nil {
				return err
			}
			defer target.Close()
			if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("entering the container's net namespace: %w", err)
			}
			return tap.Create(name)
		}()
	}()
	return <-errc
}
