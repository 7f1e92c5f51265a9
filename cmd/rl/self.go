//go:build !rllight || !rlfront

package main

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cBinary is the program that runs as C: "" is this one.
func cBinary() (string, error) { return "", nil }

// cForRun chooses the program that runs as C for rl run: this one, which
// finds the image in the store itself (no record).
func cForRun(*runConfig) (cChoice, error) { return cChoice{}, nil }

// releaseCore: there is no other program to let go of.
func releaseCore() {}

// execCore: this build implements every command itself.
func execCore() error { return errors.New("internal error: a command without an implementation") }

// nameSelf names this process rl when it was executed from a memfd (the
// core by the front where its cached copy cannot be used, the default
// build by the core), which the kernel would name after the fd number
// ("101") in ps, top and pgrep.
func nameSelf() {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		return
	}
	if _, err := strconv.Atoi(strings.TrimSpace(string(comm))); err == nil {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("rl\x00")[0])), 0, 0, 0)
	}
}
