package main

import "rl/userns"

// rmdirCommand removes the directory of a container that P started
// directly with subuid mapping and cannot remove itself: its upper
// directory holds files of other uids of the user namespace (run_direct.go).
// P runs it as C, uid 0 of a namespace mapped as the container's was.
const rmdirCommand = "__rmdir"

func init() { implement(rmdirCommand, runRmdir) }

func runRmdir(args []string) error {
	if !userns.IsChild() || len(args) != 1 {
		return &usageError{Msg: rmdirCommand + ": internal to rl run", Code: 2}
	}
	return removeDir(args[0])
}
