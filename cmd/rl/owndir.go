package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"rl/image/record"
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
// the image records (package record) are there. Looked up once per
// process (a start asks up to three times).
var cacheDirErr = sync.OnceValues(func() (string, error) {
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
})

// cacheDir is cacheDirErr without the reason ("": none to use).
func cacheDir() string {
	dir, _ := cacheDirErr()
	return dir
}

// sweepCache removes from rl's cache directory what rl runs that were
// killed left there (temporary files older than an hour: a copy of a
// program or a record being written; ".rl-core-" is what rl called them
// before) and image records not rewritten for 30 days (an image used
// since has had a new one whenever the store changed; one untouched that
// long costs one lookup). It runs before a program's copy or a record is
// written.
func sweepCache(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		var max time.Duration
		switch n := e.Name(); {
		case strings.HasPrefix(n, record.TempPrefix), strings.HasPrefix(n, ".rl-core-"):
			max = time.Hour
		case strings.HasPrefix(n, record.FilePrefix):
			max = 30 * 24 * time.Hour
		default:
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > max {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
