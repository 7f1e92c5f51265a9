//go:build !rllight || !rlfront

package main

import (
	"os"
	"runtime"

	"rl/container/child"
)

// runInit is I: it sets the container up and executes its command.
func runInit() int { return child.Main() }

// As I (`rl __init`, the default build), keep main on the process's main
// thread, as cmd/rl-init does: credentials, capabilities and the
// parent-death signal are per thread.
func init() {
	if len(os.Args) > 1 && os.Args[1] == initCommand {
		runtime.LockOSThread()
	}
}
