package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"rl/spec"
)

func TestFileName(t *testing.T) {
	env := []string{"HOME=/h", "XDG_DATA_HOME"}
	tests := []struct {
		name string
		env  []string
		same bool
	}{
		{"busybox", env, true},
		{"busybox:latest", env, false},
		{"busybox", []string{"HOME=/h", "XDG_DATA_HOME="}, false}, // set but empty is not unset
		{"busybox", []string{"HOME=/h2", "XDG_DATA_HOME"}, false},
		{"busybox\x00HOME=/h", []string{"XDG_DATA_HOME"}, false},
	}
	base := FileName("busybox", env)
	if !strings.HasPrefix(base, "image-") || len(base) != len("image-")+24 {
		t.Fatalf("FileName = %q", base)
	}
	for _, tt := range tests {
		if got := FileName(tt.name, tt.env) == base; got != tt.same {
			t.Errorf("FileName(%q, %q) == FileName(busybox, %q): %v, want %v", tt.name, tt.env, env, got, tt.same)
		}
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/somewhere")
	os.Unsetenv("STORAGE_DRIVER")
	env := strings.Join(Environment(), " ")
	for _, want := range []string{"XDG_DATA_HOME=", "HOME=/somewhere", "STORAGE_DRIVER"} {
		if !strings.Contains(" "+env+" ", " "+want+" ") {
			t.Errorf("Environment() = %s: no %q", env, want)
		}
	}
}

// TestFresh changes a stamped file in each way containers/storage (or a
// user) can, on the real file system.
func TestFresh(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "images.json")
	missing := filepath.Join(dir, "storage.conf")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		change func()
		fresh  bool
	}{
		{"nothing", func() {}, true},
		{"read", func() { os.ReadFile(f) }, true},
		{"replaced by rename, same content", func() {
			write(f+".tmp", "[]")
			os.Rename(f+".tmp", f)
		}, false},
		{"rewritten in place", func() { write(f, "[{}]") }, false},
		{"touched", func() {
			later := time.Now().Add(time.Minute)
			os.Chtimes(f, later, later)
		}, false},
		{"chmod", func() { os.Chmod(f, 0o644) }, false},
		{"a missing file appears", func() { write(missing, "") }, false},
		{"removed", func() { os.Remove(f) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(missing)
			write(f, "[]")
			stamps, err := Stat([]string{f, missing})
			if err != nil {
				t.Fatal(err)
			}
			if !stamps[1].Absent || stamps[0].Absent || stamps[0].Ino == 0 {
				t.Fatalf("Stat = %+v", stamps)
			}
			tt.change()
			if got := Fresh(stamps); got != tt.fresh {
				t.Errorf("Fresh after %s = %v, want %v", tt.name, got, tt.fresh)
			}
		})
	}
}

func TestSaveOpen(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	store := filepath.Join(dir, "layers.json")
	os.WriteFile(store, []byte("[]"), 0o600)
	stamps, err := Stat([]string{store})
	if err != nil {
		t.Fatal(err)
	}
	r := &Record{Name: "busybox", Env: Environment(), Stamps: stamps, ImageID: "abc", GraphRoot: "/g", RunRoot: "/r",
		Layers: []string{"/g/overlay/2/diff", "/g/overlay/1/diff"}, Config: spec.Image{Cmd: []string{"sh"}, Env: []string{"A=1"}}, Users: true, Passwd: "root:x:0:0::/root:/bin/sh\n"}
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	f, got, err := Open(dir, "busybox")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Read(f)
	f.Close()
	if err != nil || again.ImageID != "abc" || got.Layers[1] != "/g/overlay/1/diff" || got.Config.Cmd[0] != "sh" {
		t.Fatalf("Open = %+v, Read = %+v, %v", got, again, err)
	}
	// An image with a large /etc/passwd (2 MiB: read whole, not cut at
	// 1 MiB as it was) and one larger than a record may hold (not kept).
	big := *r
	big.Name, big.Passwd = "big", strings.Repeat("u:x:1000:1000::/home/u:/bin/sh\n", 2<<20/32)
	if err := big.Save(dir); err != nil {
		t.Fatal(err)
	}
	if f, got, err := Open(dir, "big"); err != nil || got.Passwd != big.Passwd {
		t.Fatalf("Open(big): %v", err)
	} else {
		f.Close()
	}
	huge := big
	huge.Name, huge.Passwd = "huge", strings.Repeat("u", MaxSize)
	if err := huge.Save(dir); err == nil || !strings.Contains(err.Error(), "more than a record may hold") {
		t.Fatalf("Save(huge) = %v", err)
	}
	if _, _, err := Open(dir, "huge"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open(huge) = %v, want no record", err)
	}
	path := filepath.Join(dir, FileName("busybox", Environment()))
	os.Mkdir(filepath.Join(dir, "a"), 0o700) // (a link to nothing resolves to itself, as in storage)
	os.Mkdir(filepath.Join(dir, "b"), 0o700)

	fails := []struct {
		name, want string
		setup      func(t *testing.T)
	}{
		{"another name", "no such file", func(*testing.T) {}},
		{"another environment", "no such file", func(t *testing.T) { t.Setenv("XDG_DATA_HOME", "/elsewhere") }},
		{"others may write it", "not a private file", func(*testing.T) { os.Chmod(path, 0o620) }},
		{"a symlink", "too many levels", func(*testing.T) {
			os.Rename(path, path+".real")
			os.Symlink(path+".real", path)
		}},
		{"stale", "stale", func(*testing.T) { os.WriteFile(store, []byte("[1]"), 0o600) }},
		{"of another rl", "another rl", func(*testing.T) { os.WriteFile(path, []byte("rl-record 0\n"), 0o600) }},
		{"an old JSON record", "not a record", func(*testing.T) { os.WriteFile(path, []byte(`{"Version":1}`), 0o600) }},
		{"incomplete", "incomplete record", func(*testing.T) {
			os.WriteFile(path, []byte(fmt.Sprintf("rl-record %d\nname \"busybox\"\n", Version)), 0o600)
		}},
		{"copied from another name", "another name", func(*testing.T) {
			b, _ := os.ReadFile(path)
			os.WriteFile(filepath.Join(dir, FileName("busybox:latest", Environment())), b, 0o600)
		}},
		{"a variable of storage.conf changed", "environment", func(t *testing.T) { t.Setenv("RLSTORE", "/b") }},
		{"a symlink of storage.conf points elsewhere", "store path", func(*testing.T) {
			os.Remove(filepath.Join(dir, "link"))
			os.Symlink(filepath.Join(dir, "b"), filepath.Join(dir, "link"))
		}},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(path)
			os.Remove(path + ".real")
			os.WriteFile(store, []byte("[]"), 0o600)
			r.Stamps, _ = Stat([]string{store})
			t.Setenv("RLSTORE", "/a")
			r.Env = append(Environment(), EnvEntry("RLSTORE"))
			os.Remove(filepath.Join(dir, "link"))
			os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link"))
			r.Links = []Link{{Path: filepath.Join(dir, "link"), Target: Resolve(filepath.Join(dir, "link"))}}
			if err := r.Save(dir); err != nil {
				t.Fatal(err)
			}
			tt.setup(t)
			name := "busybox"
			if strings.HasPrefix(tt.name, "another name") || strings.HasPrefix(tt.name, "copied") {
				name = "busybox:latest"
			}
			f, _, err := Open(dir, name)
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPresence(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "run-user")
	os.Mkdir(d, 0o700)
	stamps, err := StatPresence([]string{d, filepath.Join(dir, "none")})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d, "entry"), nil, 0o600) // its times change
	if !Fresh(stamps) {
		t.Errorf("a presence stamp went stale when the directory's entries changed")
	}
	os.Mkdir(filepath.Join(dir, "none"), 0o700)
	if Fresh(stamps) {
		t.Errorf("a presence stamp stayed fresh when the path appeared")
	}
	os.Remove(filepath.Join(dir, "none"))
	os.Chmod(d, 0o755) // storage's GetRuntimeDir then passes /run/user/UID by
	if Fresh(stamps) {
		t.Errorf("a presence stamp stayed fresh when the mode changed")
	}
}

func TestKeyed(t *testing.T) {
	for name, want := range map[string]bool{"HOME": true, "XDG_RUNTIME_DIR": true, "SCRATCH": false, "UID": false} {
		if Keyed(name) != want {
			t.Errorf("Keyed(%s) = %v", name, !want)
		}
	}
}

// TestText round-trips records with every kind of string a path, an
// environment or a command can hold.
func TestText(t *testing.T) {
	odd := []string{"", " ", "a b", `"quoted"`, "new\nline", "tab\t", "back\\slash", "nul\x00", "ünï", "\xff\xfe", "rl-record 1"}
	r := &Record{Version: Version, Name: "busybox:latest", Env: append([]string{"HOME=/h", "XDG_DATA_HOME"}, odd...),
		Stamps: []Stamp{{Path: "/a b", Dev: 1, Ino: 2, Size: 3, Mtime: -4, Ctime: 5, Perm: 0o755, Own: true},
			{Path: "/x\ny", Absent: true, Presence: true}},
		Links: []Link{{Path: "$odd\n", Target: "/t"}}, ImageID: "abc", GraphRoot: "/g\"", RunRoot: "/r",
		Layers: odd,
		Config: spec.Image{User: "1000:1000", Env: odd, Entrypoint: []string{}, Cmd: odd, WorkingDir: "/w d"},
		Users:  true, Passwd: "root:x:0:0::/root:/bin/sh\nnul\x00:\xff\n", Group: ""}
	got, err := unmarshal(string(r.marshal()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %#v\nwant %#v", got, r)
	}
	// Unset Entrypoint and Cmd stay unset (docker's merge tells nil from empty).
	r.Config.Entrypoint, r.Config.Cmd = nil, nil
	if got, _ := unmarshal(string(r.marshal())); got.Config.Entrypoint != nil || got.Config.Cmd != nil {
		t.Errorf("nil Entrypoint/Cmd came back as %q, %q", got.Config.Entrypoint, got.Config.Cmd)
	}
	// A record without the image's users says so (an empty passwd is one).
	r.Users, r.Passwd = false, ""
	if got, _ := unmarshal(string(r.marshal())); got.Users {
		t.Errorf("a record without users came back with them")
	}
	v := fmt.Sprintf("rl-record %d\n", Version)
	for _, bad := range []string{"", "{}", "rl-record x\n", v + "name \"a\" \"b\"\n", v + "name \"unterminated\n",
		v + "stamp \"/p\" true\n", v + "what \"x\"\n", v + "link \"a\"\n", v + "passwd \"a\" \"b\"\n"} {
		if _, err := unmarshal(bad); err == nil {
			t.Errorf("unmarshal(%q) succeeded", bad)
		}
	}
}
