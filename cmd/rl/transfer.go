package main

import (
	"context"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// transferCommands move images in and out of the store with
// containers/image. They are listed here, not in their own files, because
// two builds run them differently (setTransferRun):
//
//   - the default build (go build, go test) links containers/image and runs
//     them in-process (full.go);
//   - the rl that `make build` ships is built with the tag rllight and
//     leaves containers/image out: its package inits cost every exec of rl
//     about 20 ms (GODEBUG=inittrace=1), paid three times by each rl run.
//     It carries the default build inside itself and runs these commands
//     there (light.go).
var transferCommands = []*command{
	{Name: "pull", Short: "Pull an image from a registry", Usage: "rl pull [OPTIONS] IMAGE", Store: true},
	{Name: "push", Short: "Push an image to a registry", Usage: "rl push [OPTIONS] IMAGE [DESTINATION]", Store: true},
	{Name: "load", Short: "Load images from a docker-archive or oci-archive", Usage: "rl load [-i FILE]", Store: true},
	{Name: "save", Short: "Save images to an archive", Usage: "rl save -o FILE [--format docker-archive|oci-archive] IMAGE [IMAGE...]", Store: true},
	{Name: "import", Short: "Create an image from a root filesystem tarball", Usage: "rl import TARBALL NAME", Store: true},
	// login and logout run on the host: credentials need no user namespace.
	{Name: "login", Short: "Log in to a registry", Usage: "rl login [OPTIONS] REGISTRY"},
	{Name: "logout", Short: "Log out of a registry", Usage: "rl logout [--all] [REGISTRY]"},
}

func init() {
	for _, c := range transferCommands {
		setTransferRun(c)
		register(c)
	}
}

// interruptible returns a context cancelled by SIGINT or SIGTERM, so that
// an interrupted copy stops cleanly (containers/image then removes its
// staging files and registers no image).
func interruptible() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
}
