// Command rl-init is I, the container's first process, in the rl that make
// build ships: a small binary (container/child and little else) that the
// shipped rl carries inside itself and executes from a sealed memfd, so a
// start pays for a 2 MB Go program here instead of rl's own (see
// cmd/rl/light.go). It is not meant to be run by hand: it expects its
// parent's socket on fd 3.
package main

import (
	"os"

	"rl/container/child"
)

func main() { os.Exit(child.Main()) }
