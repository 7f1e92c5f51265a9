// Package layer unpacks an image layer, a tar stream, into a directory in
// the form overlayfs reads as a lower layer: a deleted file (".wh.NAME") is
// a 0/0 character device, an opaque directory (".wh..wh..opq") carries the
// opaque xattr (overlayfs.rst, "whiteouts and opaque directories").
//
// Nothing is written outside the directory, whatever the layer says: every
// parent directory is opened with openat2(2) RESOLVE_IN_ROOT, so "..",
// absolute names and symlinks (absolute or not) resolve inside it, as
// if the directory were the root. That is the meaning containers/storage
// gives a layer too (it unpacks in a chroot), so both agree on where every
// file goes. The last component of a name is never followed: files are
// created with O_EXCL|O_NOFOLLOW, links and nodes with the *at calls.
//
// Ownership, mode, times and xattrs are applied as containers/storage
// does (pkg/archive extractTarFileEntry), in the user namespace rl runs
// in: device nodes cannot be made there and are skipped; xattrs the kernel
// refuses there (EPERM) or the file system does not know (ENOTSUP) are
// skipped. Directories get their times last, once nothing is added to them.
package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Options say how to unpack.
type Options struct {
	// OpaqueXattr is the xattr that marks an opaque directory:
	// "user.overlay.opaque" for overlayfs mounted with userxattr.
	OpaqueXattr string
	// IgnoreChownErrors: ownership that cannot be set is left as it is
	// (single-uid mode, where only one uid exists).
	IgnoreChownErrors bool
}

// Result is what the layer held.
type Result struct {
	UIDs, GIDs []uint32 // owners named by its entries (whiteouts aside), sorted
	// RootMode is the mode the layer gives its root directory ("./"),
	// nil when it has no such entry.
	RootMode *os.FileMode
}

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	paxXattr       = "SCHILY.xattr."
)

// Unpack writes the layer read from r below dir, which must exist.
func Unpack(dir string, r io.Reader, o Options) (Result, error) {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Result{}, fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(root)
	u := &unpacker{root: root, o: o, uids: map[uint32]bool{}, gids: map[uint32]bool{}, buf: make([]byte, 1<<20)}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, fmt.Errorf("reading the layer: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return Result{}, fmt.Errorf("unpacking %q: %w", hdr.Name, err)
		}
	}
	// Last: adding entries changed the directories' times. In the order of
	// the entries (a later entry for the same directory wins), and only
	// where a directory is still there (a later entry may have replaced it).
	for _, d := range u.dirs {
		if err := u.at(d.name, func(dfd int, base string) error {
			var st unix.Stat_t
			if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return nil
			}
			return unix.UtimesNanoAt(dfd, base, d.times, unix.AT_SYMLINK_NOFOLLOW)
		}); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			return Result{}, fmt.Errorf("setting the times of %q: %w", d.name, err)
		}
	}
	return Result{UIDs: sortedKeys(u.uids), GIDs: sortedKeys(u.gids), RootMode: u.rootMode}, nil
}

type dirTimes struct {
	name  string
	times []unix.Timespec
}

type unpacker struct {
	root       int
	o          Options
	dirs       []dirTimes
	uids, gids map[uint32]bool
	buf        []byte
	rootMode   *os.FileMode
}

// Clean turns an entry's name into a path relative to the layer's root:
// "." for the root itself. Leading "/" and ".." go, as they would in a
// chroot; what is left never starts with "..".
func Clean(name string) string {
	p := path.Clean("/" + name) // "/../x" cleans to "/x"
	if p == "/" {
		return "."
	}
	return p[1:]
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	name := Clean(hdr.Name)
	dir, base := path.Split(name)
	if name == "." {
		// The root itself ("./"): only its metadata, and only as a
		// directory (it cannot become anything else).
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("the layer's root is not a directory")
		}
		dir, base = "", "."
		m := os.FileMode(hdr.Mode & 0o777)
		u.rootMode = &m
	}
	isWhiteout := strings.HasPrefix(base, whiteoutPrefix)
	if !isWhiteout {
		// As containers/storage counts them: the ids every entry names.
		u.uids[uint32(hdr.Uid)] = true
		u.gids[uint32(hdr.Gid)] = true
	}
	pfd, err := u.parent(dir)
	if isWhiteout && errors.Is(err, unix.ENOTDIR) {
		// "rm -rf /foo/bar" can give ".wh.foo" and "foo/.wh.bar": foo is
		// a whiteout already, there is nothing below it to hide.
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if base == whiteoutOpaque {
		return u.setxattrAt(pfd, ".", u.o.OpaqueXattr, []byte("y"), true)
	}
	if orig, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		// (".wh..wh.plnk", AUFS's, whites out ".wh.plnk", as in
		// containers/storage.)
		if orig == "" || orig == "." || orig == ".." {
			return fmt.Errorf("invalid whiteout %q", hdr.Name)
		}
		// mknod fails with EEXIST on anything there, a symlink included.
		err := unix.Mknodat(pfd, orig, unix.S_IFCHR, 0)
		if errors.Is(err, unix.ENOTDIR) {
			return nil // the parent was itself whited out: nothing to hide
		}
		if err != nil {
			return fmt.Errorf("making the whiteout of %s: %w", orig, err)
		}
		return u.chown(pfd, orig, hdr, -1)
	}
	if base != "." {
		if err := u.clear(pfd, base, hdr.Typeflag == tar.TypeDir); err != nil {
			return err
		}
	}
	mode := uint32(hdr.Mode) & 0o7777
	fd := -1
	linkToSymlink := false
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	case tar.TypeReg, tar.TypeRegA:
		fd, err = unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		defer func() {
			if fd >= 0 {
				unix.Close(fd)
			}
		}()
		if _, err := io.CopyBuffer(fdWriter(fd), r, u.buf); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return err
		}
	case tar.TypeLink:
		tdir, tbase := path.Split(Clean(hdr.Linkname))
		if tbase == "" || tbase == "." {
			return fmt.Errorf("invalid hard link target %q", hdr.Linkname)
		}
		tfd, err := u.open(tdir)
		if err != nil {
			return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
		}
		err = unix.Linkat(tfd, tbase, pfd, base, 0) // 0: a symlink target is linked, not followed
		unix.Close(tfd)
		if err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		// The header's metadata is applied to the inode again, as
		// containers/storage does; a symlink's mode and times are not.
		var st unix.Stat_t
		if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		linkToSymlink = st.Mode&unix.S_IFMT == unix.S_IFLNK
	case tar.TypeChar, tar.TypeBlock:
		return nil // no device nodes in a user namespace
	case tar.TypeFifo:
		if err := unix.Mknodat(pfd, base, unix.S_IFIFO|0o600, 0); err != nil {
			return err
		}
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("unknown tar entry type %q", hdr.Typeflag)
	}
	// Order: chown may clear the set-id bits, so the mode comes after it.
	if err := u.chown(pfd, base, hdr, fd); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeSymlink && !linkToSymlink {
		if fd >= 0 {
			err = unix.Fchmod(fd, mode)
		} else {
			err = unix.Fchmodat(pfd, base, mode, 0)
		}
		if err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	for key, value := range hdr.PAXRecords {
		if x, ok := strings.CutPrefix(key, paxXattr); ok && x != "security.selinux" { // as containers/storage
			if err := u.setxattrAt(pfd, base, x, []byte(value), false); err != nil {
				return err
			}
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		// The header's own access time, as containers/storage sets it.
		u.dirs = append(u.dirs, dirTimes{name, []unix.Timespec{timespec(hdr.AccessTime), timespec(hdr.ModTime)}})
		return nil
	}
	if linkToSymlink {
		return nil
	}
	atime := hdr.AccessTime
	if atime.Before(hdr.ModTime) {
		atime = hdr.ModTime // an access never precedes the last change
	}
	times := []unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
	if err := unix.UtimesNanoAt(pfd, base, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times: %w", err)
	}
	return nil
}

// clear removes what an earlier layer entry left at base, unless both it
// and the new entry are directories (then they merge, as in docker).
func (u *unpacker) clear(pfd int, base string, isDir bool) error {
	var st unix.Stat_t
	err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.Unlinkat(pfd, base, 0)
	}
	if isDir {
		return nil
	}
	// /proc/self/fd/N is pfd itself; RemoveAll follows no symlink below it.
	return os.RemoveAll("/proc/self/fd/" + strconv.Itoa(pfd) + "/" + base)
}

func (u *unpacker) chown(pfd int, base string, hdr *tar.Header, fd int) error {
	uid, gid := hdr.Uid, hdr.Gid
	var err error
	if fd >= 0 {
		err = unix.Fchown(fd, uid, gid)
	} else {
		err = unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil && !u.o.IgnoreChownErrors {
		return fmt.Errorf("chown to %d:%d: %w", uid, gid, err)
	}
	return nil
}

// setxattrAt sets an xattr on base (".": the directory pfd itself) without
// following a symlink there. xattrs the user namespace or the file system
// refuse are skipped unless must is set.
func (u *unpacker) setxattrAt(pfd int, base, name string, value []byte, must bool) error {
	p := "/proc/self/fd/" + strconv.Itoa(pfd) + "/" + base
	err := unix.Lsetxattr(p, name, value, 0)
	if err != nil && !must && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("setting xattr %s: %w", name, err)
	}
	return nil
}

// parent opens dir (relative to the root, "" for the root) as a directory,
// creating what is missing of it (0777 less the umask, owned by the
// unpacker, as containers/storage does).
func (u *unpacker) parent(dir string) (int, error) {
	fd, err := u.open(dir)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	// Create it one component at a time, each resolved in the root.
	cur := ""
	for _, c := range strings.Split(strings.Trim(dir, "/"), "/") {
		pfd, err := u.open(cur)
		if err != nil {
			return -1, err
		}
		err = unix.Mkdirat(pfd, c, 0o777)
		unix.Close(pfd)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, fmt.Errorf("creating %s: %w", path.Join(cur, c), err)
		}
		cur = path.Join(cur, c)
	}
	return u.open(dir)
}

// open opens dir below the root with every component resolved inside it.
func (u *unpacker) open(dir string) (int, error) {
	if dir == "" {
		dir = "."
	}
	return unix.Openat2(u.root, dir, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// at runs f with the opened parent of name and name's last component.
func (u *unpacker) at(name string, f func(dfd int, base string) error) error {
	dir, base := path.Split(name)
	if name == "." {
		dir, base = "", "."
	}
	pfd, err := u.open(dir)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	return f(pfd, base)
}

// fdWriter writes to a raw fd. (An *os.File would close the fd from a
// finalizer of its own, possibly after the number was reused.)
type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(int(w), p[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// timespec is t for utimensat, the epoch where t is before it or past what
// nanoseconds since it can hold (as containers/storage's system.Chtimes).
func timespec(t time.Time) unix.Timespec {
	if t.Before(time.Unix(0, 0)) || t.After(time.Unix(0, math.MaxInt64)) {
		return unix.Timespec{}
	}
	return unix.NsecToTimespec(t.UnixNano())
}

func sortedKeys(m map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
