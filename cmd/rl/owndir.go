package main

import (
	"os"
	"syscall"
)

// ownDir reports whether dir itself (a symlink is not followed) is a
// directory of this process's uid with none of the permission bits in
// others set. In C the user's own files show as uid 0, its os.Getuid().
// The error is Lstat's.
func ownDir(dir string, others os.FileMode) (bool, error) {
	fi, err := os.Lstat(dir)
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.IsDir() && st.Uid == uint32(os.Getuid()) && fi.Mode().Perm()&others == 0, nil
}
