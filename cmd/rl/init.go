package main

import (
	"os"
	"runtime"

	"rl/container"
	"rl/container/child"
)

// initCommand is argv[1] of I, the container's first process (see DESIGN.md).
const initCommand = container.InitCommand

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
