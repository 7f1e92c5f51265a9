package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"rl/userns"
)

// rmdirCommand removes directories of containers that P started directly
// with subuid mapping and cannot remove itself: their upper directories
// hold files of other uids of the user namespace (run_direct.go). P runs
// it as C, uid 0 of a namespace mapped as the containers' were.
const rmdirCommand = "__rmdir"

func init() { implement(rmdirCommand, runRmdir) }

// runRmdir removes each DIR, a container's directory (its parent is a
// store's rl-containers): nothing else.
func runRmdir(args []string) error {
	if !userns.IsChild() || len(args) == 0 {
		return &usageError{Msg: rmdirCommand + ": internal to rl run", Code: 2}
	}
	var errs []error
	for _, dir := range args {
		if !filepath.IsAbs(dir) || filepath.Base(filepath.Dir(dir)) != "rl-containers" {
			errs = append(errs, fmt.Errorf("%s: not a container's directory", dir))
			continue
		}
		if strings.HasPrefix(filepath.Base(dir), ".dead-") {
			errs = append(errs, removeDir(dir))
		} else {
			errs = append(errs, removeRunDir(dir)) // (P's, still its run's)
		}
	}
	return errors.Join(errs...)
}
