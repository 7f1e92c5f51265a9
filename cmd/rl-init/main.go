// Command rl-init is I, the container's first process, in the rl that make
// build ships: a small binary (container/child and little else) that the
// shipped rl carries inside itself and executes from a sealed memfd, so a
// start pays for a 2 MB Go program here instead of rl's own (see
// cmd/rl/light.go). It is not meant to be run by hand: it expects its
// parent's socket on fd 3.
package main

import (
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"rl/container/child"
)

// Package init runs on the process's main thread, and a lock taken here
// keeps main (all of I) there (runtime.LockOSThread): credentials, the
// capability sets and the parent-death signal are per thread.
func init() { runtime.LockOSThread() }

func main() {
	// Executed from a memfd, the kernel names this process after the fd
	// number ("100"): name it for ps and top until the command's execve.
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("rl-init\x00")[0])), 0, 0, 0)
	os.Exit(child.Main())
}
