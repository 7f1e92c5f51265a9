package inuse

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMark(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) string // given a private directory, returns the run root
		err   string
	}{
		{"a private run root", func(d string) string { return d }, ""},
		{"rl-in-use made already", func(d string) string { os.Mkdir(filepath.Join(d, "rl-in-use"), 0o700); return d }, ""},
		{"a run root others may write", func(d string) string { os.Chmod(d, 0o777); return d }, "not a directory of yours"},
		{"a symlinked run root (storage allows it)", func(d string) string {
			os.Symlink(d, d+".link")
			return d + ".link"
		}, ""},
		{"a symlink to a run root others may write", func(d string) string {
			os.Chmod(d, 0o777)
			os.Symlink(d, d+".link")
			return d + ".link"
		}, "not a directory of yours"},
		{"a symlinked rl-in-use", func(d string) string {
			os.Mkdir(d+".elsewhere", 0o700)
			os.Symlink(d+".elsewhere", filepath.Join(d, "rl-in-use"))
			return d
		}, "not a directory"},
		{"a missing run root", func(d string) string { return filepath.Join(d, "gone") }, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			os.Mkdir(dir, 0o700)
			root := tt.setup(dir)
			unmark, err := Mark(root, "c1", "img1")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Mark: %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u := Users(root, "img1"); len(u) != 1 || u[0] != "c1" {
				t.Errorf("Users = %q, want [c1]", u)
			}
			if u := Users(root, "img2"); len(u) != 0 {
				t.Errorf("Users(img2) = %q", u)
			}
			unmark()
			if u := Users(root, "img1"); len(u) != 0 {
				t.Errorf("Users after unmark = %q", u)
			}
		})
	}
}

// A mark whose rl died does not count, and goes.
func TestUsersDead(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(Dir(root), 0o700)
	os.WriteFile(filepath.Join(Dir(root), "c1"), []byte("img1 999999999\n"), 0o600)
	if u := Users(root, "img1"); len(u) != 0 {
		t.Errorf("Users = %q, want none", u)
	}
	if _, err := os.Stat(filepath.Join(Dir(root), "c1")); err == nil {
		t.Errorf("the dead mark is still there")
	}
}

// TestLock: while rl rmi holds the lock (between its check and the
// deletion) a mark waits; marks do not wait for each other; the lock
// file is no container.
func TestLock(t *testing.T) {
	root := filepath.Join(t.TempDir(), "run")
	os.Mkdir(root, 0o700)
	un1, err := Mark(root, "c1", "img1") // (beside a mark taken before)
	if err != nil {
		t.Fatal(err)
	}
	defer un1()
	unlock, err := Lock(root)
	if err != nil {
		t.Fatal(err)
	}
	marked := make(chan error, 1)
	go func() {
		un2, err := Mark(root, "c2", "img2")
		if err == nil {
			defer un2()
			if u := Users(root, "img2"); len(u) != 1 || u[0] != "c2" {
				err = fmt.Errorf("Users(img2) = %q after the mark", u)
			}
		}
		marked <- err
	}()
	// (Waiting a while proves nothing, but a mark that did not wait
	// would show here, and in the Users below.)
	select {
	case err := <-marked:
		t.Fatalf("Mark returned while the lock was held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if u := Users(root, "img2"); len(u) != 0 {
		t.Fatalf("Users(img2) = %q while the lock was held", u)
	}
	unlock()
	if err := <-marked; err != nil {
		t.Fatal(err)
	}
	if u := Users(root, "img1"); len(u) != 1 || u[0] != "c1" {
		t.Errorf("Users(img1) = %q, want [c1] (the lock file is none)", u)
	}
}
