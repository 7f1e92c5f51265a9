// Package ports publishes a container's ports on the host (-p) with
// rootlesskit's builtin port driver. It is a package of its own because
// rootlesskit's port API links net/http, whose package inits every exec
// of a program that links it pays: the rl that users run (the front,
// cmd/rl/front.go) parses -p with package network and leaves this to C.
package ports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin/child"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin/parent"
	"golang.org/x/sys/unix"

	"rl/network"
)

// Ports is the port forwarder of one container.
type Ports struct{ stop func() }

// Stop ends the forwarding.
func (p *Ports) Stop() {
	if p != nil && p.stop != nil {
		p.stop()
	}
}

// Publish forwards the host ports of ps to the container whose first
// process is pid, with rootlesskit's builtin port driver. Both of its
// halves run here, in C: the parent half listens in the host's network
// namespace (C shares it), the child half dials 127.0.0.1:CTRPORT inside
// the container's namespace from a thread that enters it (setns of a net
// namespace is allowed to one thread of a Go process).
func Publish(pid int, ps []network.Port) (*Ports, error) {
	// The driver's socket path must stay below 108 bytes: use a short
	// private directory rather than the container directory.
	state, err := os.MkdirTemp("", "rl-ports-")
	if err != nil {
		return nil, err
	}
	pd, err := parent.NewDriver(portLog(), state, false, "")
	if err != nil {
		os.RemoveAll(state)
		return nil, fmt.Errorf("port driver: %w", err)
	}
	quit := make(chan struct{})
	stop := func() { close(quit); os.RemoveAll(state) }
	errs := make(chan error, 2)
	go func() {
		errs <- child.NewDriver(portLog()).RunChildDriver(pd.OpaqueForChild(), quit, fmt.Sprintf("/proc/%d/ns/net", pid))
	}()
	ready := make(chan struct{}, 1)
	go func() { errs <- pd.RunParentDriver(ready, quit, nil) }()
	select {
	case <-ready:
	case err := <-errs:
		stop()
		return nil, fmt.Errorf("port driver: %v", err)
	case <-time.After(10 * time.Second):
		stop()
		return nil, fmt.Errorf("port driver did not start within 10s")
	}
	for _, p := range ps {
		_, err := pd.AddPort(context.Background(), port.Spec{Proto: p.Proto, ParentIP: p.HostIP,
			ParentPort: p.HostPort, ChildPort: p.CtrPort, ChildIP: "127.0.0.1"})
		if err != nil {
			stop()
			return nil, publishError(p, err)
		}
	}
	return &Ports{stop: stop}, nil
}

func publishError(p network.Port, err error) error {
	switch {
	case errors.Is(err, unix.EADDRINUSE) || strings.Contains(err.Error(), "address already in use"):
		return fmt.Errorf("-p %d:%d: host port %d is already in use", p.HostPort, p.CtrPort, p.HostPort)
	case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || strings.Contains(err.Error(), "permission denied"):
		return &hintError{fmt.Errorf("-p %d:%d: host port %d is privileged: a normal user may not listen on it", p.HostPort, p.CtrPort, p.HostPort),
			fmt.Sprintf("publish on a port >= 1024, or ask an administrator for: sysctl net.ipv4.ip_unprivileged_port_start=%d", p.HostPort)}
	case errors.Is(err, unix.EADDRNOTAVAIL) || strings.Contains(err.Error(), "assign requested address"):
		return fmt.Errorf("-p %s: %s is not an address of this host", p, p.HostIP)
	}
	return fmt.Errorf("-p %s: %v", p, lastLine(err.Error()))
}

func lastLine(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}

// portLog is where the port driver logs: nowhere, or stderr with RL_DEBUG.
func portLog() io.Writer {
	if os.Getenv("RL_DEBUG") != "" {
		return os.Stderr
	}
	return io.Discard
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }
