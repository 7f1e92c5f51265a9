package network

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ValidIP reports whether s is an IPv4 or IPv6 address.
func ValidIP(s string) bool { return net.ParseIP(s) != nil }

// Slirp is a running slirp4netns attached to a container's net namespace.
type Slirp struct {
	cmd  *exec.Cmd
	exit *os.File // closing it tells slirp4netns to exit
	done chan struct{}
}

// StartSlirp runs slirp4netns for the net namespace of pid and waits until
// it has configured tap0 in it. It runs as a child of C (inside rl's user
// namespace, which owns the container's net namespace), with Pdeathsig and
// an exit fd, so it ends with the container even when rl is killed.
func StartSlirp(pid int, m Mode) (*Slirp, error) {
	path, err := exec.LookPath("slirp4netns")
	if err != nil {
		return nil, Check(m)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, err
	}
	args := []string{"--configure", "--mtu=65520", "--enable-sandbox", "--enable-seccomp",
		"--exit-fd=3", "--ready-fd=4"}
	if !m.AllowHostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	args = append(args, strconv.Itoa(pid), "tap0")
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{exitR, readyW}
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL, Setpgid: true}
	err = cmd.Start()
	exitR.Close()
	readyW.Close()
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("starting slirp4netns: %w", err)
	}
	s := &Slirp{cmd: cmd, exit: exitW, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	ready := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := readyR.Read(b[:])
		ready <- err
	}()
	select {
	case err := <-ready:
		if err == nil {
			return s, nil
		}
		<-s.done
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.Stop()
		s.Wait()
		return nil, fmt.Errorf("slirp4netns did not get ready within 10s")
	}
	msg := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	return nil, fmt.Errorf("slirp4netns failed: %s", msg)
}

// Stop ends slirp4netns; Wait waits until it is gone. The container has
// exited, so slirp4netns has nothing left to do and gets SIGKILL. Its
// exit still takes about 20 ms (the kernel unregisters its tap device,
// which waits for an RCU grace period): Stop does not wait, so that the
// rest of rl's clean-up overlaps it; call Wait last.
func (s *Slirp) Stop() {
	s.cmd.Process.Kill()
	s.exit.Close()
}

// Wait blocks until slirp4netns has exited.
func (s *Slirp) Wait() { <-s.done }
