package layer

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"./":                     ".",
		"/":                      ".",
		"":                       ".",
		"a/b/":                   "a/b",
		"./a/./b":                "a/b",
		"/etc/passwd":            "etc/passwd",
		"../../../../tmp/x":      "tmp/x",
		"a/../../b":              "b",
		"..":                     ".",
		"a/b/../../../../c/d/..": "c",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

type ent struct {
	name, body, link string
	typ              byte
	mode             int64
	pax              map[string]string
}

var mtime = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

func tarOf(t *testing.T, ents []ent) *bytes.Reader {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, ModTime: mtime,
			Uid: os.Getuid(), Gid: os.Getgid(), PAXRecords: e.pax, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Typeflag == tar.TypeChar {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			w.Write([]byte(e.body))
		}
	}
	w.Close()
	return bytes.NewReader(b.Bytes())
}

// unpack unpacks ents into outer/root and returns root; outer must hold
// nothing else afterwards.
func unpack(t *testing.T, ents []ent) (string, Result, error) {
	t.Helper()
	outer := t.TempDir()
	root := filepath.Join(outer, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Unpack(root, tarOf(t, ents), Options{OpaqueXattr: "user.overlay.opaque"})
	t.Cleanup(func() {
		ls, _ := os.ReadDir(outer)
		if len(ls) != 1 {
			t.Errorf("the layer wrote outside its directory: %v", ls)
		}
	})
	return root, res, err
}

func TestUnpackTree(t *testing.T) {
	root, res, err := unpack(t, []ent{
		{name: "./", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/motd", body: "hello\n", mode: 0o644},
		{name: "bin/tool", body: "#!/bin/sh\n", mode: 0o4755}, // parent made on the way
		{name: "etc/issue", typ: tar.TypeLink, link: "etc/motd", mode: 0o644},
		{name: "etc/localtime", typ: tar.TypeSymlink, link: "/usr/share/zoneinfo/UTC"},
		{name: "run/fifo", typ: tar.TypeFifo, mode: 0o600},
		{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		{name: "etc/x", body: "x", mode: 0o600, pax: map[string]string{"SCHILY.xattr.user.rl": "v"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/issue")); string(b) != "hello\n" {
		t.Errorf("hard link reads %q", b)
	}
	if fi, err := os.Stat(filepath.Join(root, "bin/tool")); err != nil || fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/tool: %v %v, want setuid 0755", fi.Mode(), err)
	}
	if l, _ := os.Readlink(filepath.Join(root, "etc/localtime")); l != "/usr/share/zoneinfo/UTC" {
		t.Errorf("symlink points to %q", l)
	}
	if fi, err := os.Lstat(filepath.Join(root, "run/fifo")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("run/fifo: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dev/null")); err == nil {
		t.Error("a device node was made")
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(root, "etc/x"), "user.rl", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr user.rl: %q %v", buf[:n], err)
	}
	// Directories get their times last, after their entries were added.
	for _, p := range []string{".", "etc", "etc/motd"} {
		if fi, err := os.Lstat(filepath.Join(root, p)); err != nil || !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v", p, fi.ModTime(), mtime)
		}
	}
	if len(res.UIDs) != 1 || res.UIDs[0] != uint32(os.Getuid()) {
		t.Errorf("UIDs = %v", res.UIDs)
	}
}

func TestUnpackStaysInside(t *testing.T) {
	root, _, err := unpack(t, []ent{
		{name: "../../../../../../rl-dotdot", body: "x", mode: 0o644},
		{name: "/rl-abs", body: "x", mode: 0o644},
		{name: "esc", typ: tar.TypeSymlink, link: "/"},
		{name: "esc/rl-via-abs-symlink", body: "x", mode: 0o644},
		{name: "up", typ: tar.TypeSymlink, link: "../../.."},
		{name: "up/rl-via-rel-symlink", body: "x", mode: 0o644},
		{name: "d/", typ: tar.TypeDir, mode: 0o755},
		{name: "d/f", body: "x", mode: 0o644},
		{name: "d", typ: tar.TypeSymlink, link: "/"}, // the directory is replaced, not followed
		{name: "d/rl-via-replaced", body: "x", mode: 0o644},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"rl-dotdot", "rl-abs", "rl-via-abs-symlink", "rl-via-rel-symlink", "rl-via-replaced"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("%s not at the layer's root: %v", f, err)
		}
	}
}

func TestUnpackHardLinkOutside(t *testing.T) {
	// A link to a file outside resolves inside, where there is none.
	_, _, err := unpack(t, []ent{{name: "pw", typ: tar.TypeLink, link: "../../../../etc/passwd"}})
	if err == nil || !strings.Contains(err.Error(), "hard link") {
		t.Errorf("err = %v, want a hard link error", err)
	}
}

func TestUnpackWhiteouts(t *testing.T) {
	root, _, err := unpack(t, []ent{
		{name: "gone/", typ: tar.TypeDir, mode: 0o755},
		{name: ".wh.old", mode: 0o644},
		{name: "opq/", typ: tar.TypeDir, mode: 0o755},
		{name: "opq/.wh..wh..opq", mode: 0o644},
		{name: ".wh.gone", mode: 0o644}, // replaces nothing: mknod refuses to overwrite
	})
	if err == nil || !strings.Contains(err.Error(), "whiteout") {
		// ".wh.gone" over an existing directory is refused (EEXIST).
		t.Fatalf("err = %v, want the whiteout over an existing directory refused", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "old"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("old: %v, mode %o rdev %d, want a 0/0 character device", err, st.Mode, st.Rdev)
	}
	buf := make([]byte, 4)
	if n, err := unix.Getxattr(filepath.Join(root, "opq"), "user.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opq: opaque xattr %q %v", buf[:n], err)
	}
	for _, bad := range []string{".wh.", ".wh..", ".wh..."} {
		if _, _, err := unpack(t, []ent{{name: bad, mode: 0o644}}); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestUnpackRootNotDir(t *testing.T) {
	if _, _, err := unpack(t, []ent{{name: ".", body: "x", mode: 0o644}}); err == nil {
		t.Error("a file as the root was accepted")
	}
}

func TestUnpackWhiteoutUnderWhiteout(t *testing.T) {
	// "rm -rf /foo/bar" in an image can give both; AUFS's metadata
	// (".wh..wh.plnk") is whited out like any name.
	root, _, err := unpack(t, []ent{
		{name: ".wh.foo", mode: 0o644},
		{name: "foo/.wh.bar", mode: 0o644},
		{name: ".wh..wh.plnk", mode: 0o644},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"foo", ".wh.plnk"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, p), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
			t.Errorf("%s: %v, want a whiteout", p, err)
		}
	}
}

func TestUnpackReplacedDirectory(t *testing.T) {
	// A directory a later entry replaces gets no directory times (no
	// error either), and a root entry's mode is reported.
	root, res, err := unpack(t, []ent{
		{name: "./", typ: tar.TypeDir, mode: 0o750},
		{name: "d/", typ: tar.TypeDir, mode: 0o755},
		{name: "d", body: "now a file", mode: 0o600},
		{name: "l/", typ: tar.TypeDir, mode: 0o755},
		{name: "l", typ: tar.TypeSymlink, link: "/nowhere"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "d")); string(b) != "now a file" {
		t.Errorf("d = %q", b)
	}
	if res.RootMode == nil || *res.RootMode != 0o750 {
		t.Errorf("RootMode = %v, want 0750", res.RootMode)
	}
	if fi, err := os.Stat(root); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("root mode %v %v", fi.Mode(), err)
	}
}
