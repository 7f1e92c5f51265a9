package main

import (
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nameSelf names this process rl when it was executed through
// /proc/self/exe (the front as rl run's C) or from a memfd (the core by
// the front where its cached copy cannot be used, the default build by
// the core), which the kernel would name "exe" or after the fd number
// ("101") in ps, top and pgrep.
func nameSelf() {
	// prctl(2) PR_GET_NAME, not /proc/self/comm: every rl process asks,
	// and reading the file was ~2% of P's CPU.
	var buf [16]byte
	if unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&buf[0])), 0, 0, 0) != nil {
		return
	}
	c := unix.ByteSliceToString(buf[:])
	if _, err := strconv.Atoi(c); err == nil || c == "exe" {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("rl\x00")[0])), 0, 0, 0)
	}
}
