package main

// initCommand is argv[1] of I, the container's first process (see DESIGN.md).
const initCommand = "__init"

// runInit is replaced by the container/init package's entry point.
func runInit() int { return exitRLFailed }
