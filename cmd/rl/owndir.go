package main

import (
	"fmt"
	"os"
	"path/filepath"
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

// cacheDirErr returns rl's cache directory, $XDG_CACHE_HOME/rl (else
// ~/.cache/rl), made if need be, if it is a directory of the user's that
// no one else may write: the core's and rl-init's copies (front.go) and
// the image records (package record) are there.
func cacheDirErr() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "rl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ok, err := ownDir(dir, 0o022)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%s is not a private directory of yours", dir)
	}
	return dir, nil
}

// cacheDir is cacheDirErr without the reason ("": none to use).
func cacheDir() string {
	dir, _ := cacheDirErr()
	return dir
}
