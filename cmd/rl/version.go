package main

import (
	"fmt"
	"runtime"
)

// Set by the Makefile with -ldflags -X.
var (
	version = "dev"
	commit  = "unknown"
)

func init() { implement("version", runVersion) }

func runVersion(args []string) error {
	if len(args) > 0 {
		return &usageError{Msg: "version takes no arguments", Code: exitUsage}
	}
	fmt.Printf("rl version %s\ncommit: %s\ngo: %s\n", version, commit, runtime.Version())
	return nil
}
