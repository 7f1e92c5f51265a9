package inuse

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// TestRemove: rl rmi's check lists the image's users; with none, runs
// of that image are refused until rmi is done (or dead), runs of other
// images are not; Mark waits while rmi checks; the lock and the note are
// no containers.
func TestRemove(t *testing.T) {
	root := filepath.Join(t.TempDir(), "run")
	os.Mkdir(root, 0o700)
	un1, err := Mark(root, "c1", "img1")
	if err != nil {
		t.Fatal(err)
	}
	users, done, err := Remove(root, "img1", false)
	if err != nil || len(users) != 1 || users[0] != "c1" {
		t.Fatalf("Remove(img1) = %q, %v; want [c1]", users, err)
	}
	done()
	un1()
	users, done, err = Remove(root, "img1", false)
	if err != nil || len(users) != 0 {
		t.Fatalf("Remove(img1) = %q, %v; want none", users, err)
	}
	var re *RemovingError
	if _, err := Mark(root, "c2", "img1"); !errors.As(err, &re) || !strings.Contains(err.Error(), "is being removed") {
		t.Fatalf("Mark(img1) while removed = %v", err)
	}
	un3, err := Mark(root, "c3", "img2")
	if err != nil {
		t.Fatalf("Mark(img2) while img1 is removed: %v", err)
	}
	defer un3()
	if u := Users(root, "img1"); len(u) != 0 {
		t.Errorf("Users(img1) = %q (the note is none)", u)
	}
	done()
	un4, err := Mark(root, "c4", "img1")
	if err != nil {
		t.Fatalf("Mark(img1) after rmi: %v", err)
	}
	un4()

	// A note whose rmi died (nothing holds its lock) does not count, and
	// goes.
	note := filepath.Join(Dir(root), removingPrefix+"img1")
	os.WriteFile(note, nil, 0o600)
	un5, err := Mark(root, "c5", "img1")
	if err != nil {
		t.Fatalf("Mark(img1) beside a dead rmi's note: %v", err)
	}
	un5()
	if _, err := os.Stat(note); !os.IsNotExist(err) {
		t.Errorf("a dead rmi's note is still there: %v", err)
	}

	// Mark waits while rmi holds the lock.
	dir, err := openMarks(root)
	if err != nil {
		t.Fatal(err)
	}
	lk, err := lock(dir, unix.LOCK_EX, lockName)
	if err != nil {
		t.Fatal(err)
	}
	marked := make(chan error, 1)
	go func() {
		un, err := Mark(root, "c6", "img2")
		if err == nil {
			un()
		}
		marked <- err
	}()
	// (Waiting a while proves nothing, but a mark that did not wait
	// would show here.)
	select {
	case err := <-marked:
		t.Fatalf("Mark returned while the lock was held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	unix.Close(lk)
	unix.Close(dir)
	if err := <-marked; err != nil {
		t.Fatal(err)
	}
}
