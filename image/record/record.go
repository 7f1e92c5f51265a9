// Package record keeps, per image name, what rl run needs of the image
// (its ID, layer directories and configuration) together with stamps of
// every file whose change could change that answer: the store's image and
// layer lists and the storage.conf files it was opened with.
//
// rl's core writes a record after a lookup in containers/storage; a later
// rl run whose record is still fresh starts without the core and without
// opening the store (cmd/rl/front.go): opening containers/storage and the
// start of the program that links it were a quarter of a start here.
//
// A stamp is a file's device, inode, size, and modification and change
// times in nanoseconds, or its absence. containers/storage replaces
// images.json and layers.json by rename on every change (a new inode), so
// any write to the store, by rl or podman, makes every record stale; the
// next run of the core writes a fresh one. The package has no
// containers/storage in it: the front links it.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"rl/spec"
)

// Version is the format of the records this rl writes and reads: a record
// of another rl (before an upgrade) is looked up again.
// 2: the image's /etc/passwd and /etc/group (Users), for P's direct start.
const Version = 2

// Record is the answer of one lookup.
type Record struct {
	Version   int
	Name      string     // the image as the user named it
	Env       []string   // Environment() when it was looked up, and the variables storage.conf's paths name
	Stamps    []Stamp    // the files the answer depends on
	Links     []Link     // paths storage resolved through symlinks, and what they resolved to
	ImageID   string     // the store's image ID
	GraphRoot string     // the store's graph root (rl-containers is there)
	RunRoot   string     // the store's run root (rl-in-use is there)
	Layers    []string   // layer directories, top first (overlay lowerdir order)
	Config    spec.Image // what rl run takes from the image's configuration
	// Users says Passwd and Group were read: the image's /etc/passwd and
	// /etc/group as its rootfs shows them ("" where it has none), which
	// the Spec takes user names, groups and HOME from.
	Users         bool
	Passwd, Group string
	// Images is the store's listing (rl images), in the record of the
	// name "" (the listing record), which has no ImageID.
	Images []Listed
}

// Listed is one image of rl images.
type Listed struct {
	ID      string    `json:"Id"`
	Names   []string  `json:"Names"`
	Digest  string    `json:"Digest"`
	Created time.Time `json:"Created"`
	Size    int64     `json:"Size"`
}

// Stamp identifies one version of a file (Absent: there was none). A
// Presence stamp says only whether the path exists, whether it is this
// uid's (seen alike from the host and from rl's user namespace), and its
// permission bits: a directory whose entries come and go (/run/user/UID)
// but whose existence, owner and mode decide. (A full stamp's ctime
// changes with its owner and mode.)
type Stamp struct {
	Path     string
	Absent   bool
	Presence bool
	Own      bool
	Perm     uint32
	Dev      uint64
	Ino      uint64
	Size     int64
	Mtime    int64
	Ctime    int64
}

// envNames are the variables containers/storage reads to find its
// configuration files and its default graph and run roots.
var envNames = []string{"CONTAINERS_STORAGE_CONF", "CONTAINERS_STORAGE_CONF_OVERRIDE",
	"STORAGE_DRIVER", "STORAGE_OPTS", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "HOME", "TMPDIR"}

// Keyed reports whether Environment has the variable name.
func Keyed(name string) bool { return slices.Contains(envNames, name) }

// Environment returns those variables as EnvEntry does.
func Environment() []string {
	env := make([]string, len(envNames))
	for i, n := range envNames {
		env[i] = EnvEntry(n)
	}
	return env
}

// EnvEntry is NAME=VALUE, or NAME alone when the variable is unset
// (storage tells an empty XDG_CONFIG_HOME from an unset one).
func EnvEntry(name string) string {
	if v, ok := os.LookupEnv(name); ok {
		return name + "=" + v
	}
	return name
}

// Link is a path containers/storage resolved through symlinks
// (filepath.EvalSymlinks, else filepath.Clean), and what it resolved to.
type Link struct{ Path, Target string }

// Resolve resolves p as containers/storage does.
func Resolve(p string) string {
	if t, err := filepath.EvalSymlinks(p); err == nil {
		return t
	}
	return filepath.Clean(p)
}

// FilePrefix begins the name of every record (FileName), and TempPrefix
// that of a record being written: rl's cache directory also holds other
// files.
const (
	FilePrefix = "image-"
	TempPrefix = ".rl-tmp-"
)

// FileName is the name of the record of image name for the environment
// env, in rl's cache directory.
func FileName(name string, env []string) string {
	var b strings.Builder
	for _, s := range append([]string{name}, env...) {
		b.WriteString(strconv.Quote(s) + " ") // unambiguous
	}
	sum := sha256.Sum256([]byte(b.String()))
	return FilePrefix + hex.EncodeToString(sum[:12])
}

// Stat stamps each path (a missing one as Absent). Any other error is
// returned: the answer cannot be vouched for.
func Stat(paths []string) ([]Stamp, error) {
	out := make([]Stamp, 0, len(paths))
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				out = append(out, Stamp{Path: p, Absent: true})
				continue
			}
			return nil, &os.PathError{Op: "stat", Path: p, Err: err}
		}
		out = append(out, Stamp{Path: p, Dev: st.Dev, Ino: st.Ino, Size: st.Size,
			Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(), Own: int(st.Uid) == os.Getuid(), Perm: st.Mode & 0o7777})
	}
	return out, nil
}

// StatPresence makes Presence stamps of paths.
func StatPresence(paths []string) ([]Stamp, error) {
	out, err := Stat(paths)
	for i := range out {
		out[i] = presence(out[i])
	}
	return out, err
}

func presence(s Stamp) Stamp {
	return Stamp{Path: s.Path, Absent: s.Absent, Presence: true, Own: s.Own, Perm: s.Perm}
}

// Paths lists the stamped paths, in order.
func Paths(stamps []Stamp) []string {
	out := make([]string, len(stamps))
	for i, s := range stamps {
		out[i] = s.Path
	}
	return out
}

// Fresh reports whether every stamped file is as it was.
func Fresh(stamps []Stamp) bool {
	now, err := Stat(Paths(stamps))
	if err != nil {
		return false
	}
	for i, s := range stamps {
		if s.Presence {
			now[i] = presence(now[i])
		}
		if now[i] != s {
			return false
		}
	}
	return true
}

// current reports whether r was looked up in this environment, with the
// same symlinks.
func (r *Record) current() bool {
	for _, e := range r.Env {
		name, _, _ := strings.Cut(e, "=")
		if EnvEntry(name) != e {
			return false
		}
	}
	for _, l := range r.Links {
		if Resolve(l.Path) != l.Target {
			return false
		}
	}
	return true
}

// Save writes r into dir (rl's private cache directory) under its
// FileName, through a temporary file (TempPrefix) renamed over the old
// record: a reader sees a whole record, the old or the new.
func (r *Record) Save(dir string) error {
	r.Version = Version
	b := r.marshal()
	if len(b) > MaxSize {
		return fmt.Errorf("%d bytes, more than a record may hold (%d)", len(b), MaxSize)
	}
	tmp, err := os.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, FileName(r.Name, r.keyEnv())))
	}
	return err
}

// keyEnv is the part of r.Env that names the record (Environment's).
func (r *Record) keyEnv() []string {
	var env []string
	for _, e := range r.Env {
		name, _, _ := strings.Cut(e, "=")
		if slices.Contains(envNames, name) {
			env = append(env, e)
		}
	}
	return env
}

// Open opens the record of name for the current environment in dir and
// checks it: a regular file of this uid's that no one else may write
// (O_NOFOLLOW, checked on the open file), for this name and environment,
// with every stamp fresh. The caller reads it with Read; the open file
// is what was checked, whatever happens to the name meanwhile.
func Open(dir, name string) (*os.File, *Record, error) {
	env := Environment()
	p := filepath.Join(dir, FileName(name, env))
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG ||
		int(st.Uid) != os.Getuid() || st.Mode&0o022 != 0 {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not a private file of yours", p)
	}
	r, err := Read(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	switch {
	case r.Name != name || !r.current():
		err = fmt.Errorf("%s: a record of another name, environment or store path", p)
	case !Fresh(r.Stamps):
		err = fmt.Errorf("%s: stale (the store or its configuration changed)", p)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, r, nil
}

// MaxSize is the largest record Save writes and Read reads (an image's
// /etc/passwd and /etc/group are in it, of any size).
const MaxSize = 16 << 20

// Read decodes a record from the start of f.
func Read(f *os.File) (*Record, error) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("reading %s: more than a record may hold (%d bytes)", f.Name(), MaxSize)
	}
	r, err := unmarshal(string(b))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("reading %s: a record of another rl (format %d, not %d)", f.Name(), r.Version, Version)
	}
	if r.Name != "" && (r.ImageID == "" || !r.Users) || r.GraphRoot == "" || r.RunRoot == "" {
		return nil, fmt.Errorf("reading %s: incomplete record", f.Name())
	}
	return r, nil
}
