package main

import (
	"rl/container"
	"rl/container/child"
)

// initCommand is argv[1] of I, the container's first process (see DESIGN.md).
const initCommand = container.InitCommand

// runInit is I: it sets the container up and executes its command.
func runInit() int { return child.Main() }
