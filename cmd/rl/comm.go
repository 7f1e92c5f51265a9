package main

import (
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nameSelf names this process rl when it was executed through
// /proc/self/exe (the front as rl run's C) or from a memfd (the core by
// the front where its cached copy cannot be used, the default build by
// the core), which the kernel would name "exe" or after the fd number
// ("101") in ps, top and pgrep.
func nameSelf() {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		return
	}
	c := strings.TrimSpace(string(comm))
	if _, err := strconv.Atoi(c); err == nil || c == "exe" {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("rl\x00")[0])), 0, 0, 0)
	}
}
