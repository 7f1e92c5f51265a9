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

func init() {
	register(&command{
		Name:  "version",
		Short: "Show the rl version",
		Usage: "rl version",
		Run: func(args []string) error {
			if len(args) > 0 {
				return &usageError{Msg: "version takes no arguments", Code: exitUsage}
			}
			fmt.Printf("rl version %s\ncommit: %s\ngo: %s\n", version, commit, runtime.Version())
			return nil
		},
	})
}
