package main

import (
	"context"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// transferCommands move images in and out of the store with
// containers/image, and each build runs them differently (setTransferRun):
//
//   - the default build (go build, go test) links containers/image and runs
//     them in-process (full.go);
//   - the core of the rl that `make build` ships is built with the tag
//     rllight and leaves containers/image out: its package inits cost every
//     exec of rl about 20 ms (GODEBUG=inittrace=1). It carries the default
//     build inside itself and runs these commands there (light.go);
//   - the front of that rl (tag rlfront) hands them to the core (front.go).
var transferCommands = []string{"pull", "push", "load", "save", "import", "login", "logout"}

func init() {
	for _, n := range transferCommands {
		setTransferRun(commands[n])
	}
}

// interruptible returns a context cancelled by SIGINT or SIGTERM, so that
// an interrupted copy stops cleanly (containers/image then removes its
// staging files and registers no image).
func interruptible() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
}
