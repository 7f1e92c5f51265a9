package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"rl/cgroupv2"
	"rl/container"
	"rl/container/child"
	"rl/image/inuse"
	"rl/network"
	"rl/rootfs"
	"rl/spec"
	"rl/userns"
)

// runInside is C: uid 0 in rl's user namespace, in a private mount
// namespace. Steps in order; each undoes itself on the way out.
func runInside(cfg *runConfig) error {
	// Every helper C starts (fuse-overlayfs, I, slirp4netns) gets
	// Pdeathsig, and the kernel sends it when the *thread* that forked it
	// exits, not the process (prctl(2), PR_SET_PDEATHSIG). Go ends a thread
	// when a goroutine that locked it returns without unlocking, which is
	// what the port driver's netns switch does on every connection: it can
	// enter the container's net namespace but not return to the host's,
	// owned by the initial user namespace. Pin C's main goroutine, which
	// forks all helpers, to its own thread so no such goroutine runs there.
	runtime.LockOSThread()
	defer trace("C cleaned up")
	// Last of all: wait for helpers that were told to stop (their exit
	// overlaps the rest of the clean-up).
	var helpers []func()
	defer waitHelpers(&helpers)
	id := containerID(cfg)
	// I starts first: it initialises (the start of a Go program, ~10 ms
	// here) while P runs newuidmap and newgidmap for C, and while C finds
	// the image, mounts the rootfs and builds the Spec. I needs no maps
	// to start, unless it gets a user namespace of its own (keep-id: the
	// kernel wants the creator of a user namespace mapped). With a cgroup
	// it starts last instead, since it is created in the cgroup, and the
	// cgroup step comes after every check (below).
	var ctr *container.Container
	defer func() { ctr.Close() }() // whichever start below ran (Close takes nil)
	early := !cfg.Flags.dryRun && !cfg.Cgroup
	startEarly := func() (err error) {
		ctr, err = startContainer(cfg, nil, &helpers)
		return err
	}
	if early && !cfg.Opts.KeepID {
		if err := startEarly(); err != nil {
			return err
		}
	}
	if err := userns.WaitMapped(); err != nil {
		return exitStatus(exitRLFailed) // P could not map C and has said why
	}
	trace("C mapped")
	if early && cfg.Opts.KeepID {
		if err := startEarly(); err != nil {
			return err
		}
	}
	if ctr != nil {
		// The network helpers need the maps.
		if err := ctr.Prepare(); err != nil {
			return err
		}
	}
	var m *mounted
	var err error
	if cfg.Rootfs != "" {
		// --rootfs: the user's directory as it is, no store, no overlay.
		m = &mounted{root: cfg.Rootfs, release: func() {}}
		var base string
		if base, err = runtimeBase(); err == nil {
			m.dir, _, err = containerDir(base, id)
		}
	} else {
		m, err = imageRoot(cfg, id)
	}
	if err != nil {
		return err
	}
	// Order: I is gone before the rootfs is unmounted, and the rootfs is
	// unmounted before its directory is removed.
	defer func() { ctr.Close(); m.release(); removeContainerDir(m.dir) }()
	uid, gid := userns.HostIDs()
	in, err := specInput(cfg, m, id, idView{uid: uid, gid: gid, uids: mapSize("/proc/self/uid_map"), gids: mapSize("/proc/self/gid_map")})
	if err != nil {
		return err
	}
	s, err := spec.Build(in)
	if err != nil {
		return &usageError{Msg: "run: " + err.Error(), Code: exitRLFailed}
	}
	if cfg.Flags.dryRun {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	var beforeExec func() error
	if cfg.Cgroup {
		cg, before, done, err := containerCgroup(cfg, id)
		if err != nil {
			return err
		}
		defer done(true)
		beforeExec = before
		if ctr, err = startContainer(cfg, cg.Dir(), &helpers); err != nil {
			return err
		}
	}
	trace("spec built")
	st, err := ctr.Run(s, beforeExec)
	trace("container exited")
	if err != nil {
		return err
	}
	return exitStatus(st)
}

// startContainer starts I with the container's namespaces, in cgroup when
// it is not nil, and connects its network.
func startContainer(cfg *runConfig, cgroup *os.File, helpers *[]func()) (*container.Container, error) {
	// Mounts C makes after this (the rootfs) must reach I's copy of the
	// mount tree, which clone makes now: a shared tree propagates them
	// (mount_namespaces(7); C may change its tree unmapped: its mount
	// namespace belongs to its user namespace, where it holds every
	// capability). Nothing travels back: I makes its copy a
	// slave, and C's tree is a slave of the host's (a namespace owned by
	// a less privileged user namespace gets slave copies of shared mounts).
	if err := unix.Mount("", "/", "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return nil, fmt.Errorf("making rl's mount tree shared: %w", err)
	}
	c := container.Config{Namespaces: spec.Namespaces(cfg.Opts), Init: initBinary(), Argv0: os.Args[0],
		Prepare: prepareNetwork(cfg, helpers, false), Cgroup: cgroup}
	if cfg.Opts.KeepID { // (only then are rl's maps read: C may not be mapped yet otherwise)
		uid, gid := userns.HostIDs()
		c.UIDMappings, c.GIDMappings = spec.IDMappings(cfg.Opts, uint32(uid), uint32(gid),
			mapSize("/proc/self/uid_map"), mapSize("/proc/self/gid_map"))
	}
	if cfg.Flags.interactive {
		c.Stdin = os.Stdin
	}
	if cfg.Opts.Terminal {
		c.Console = os.NewFile(4, "console")
	}
	return container.Start(c)
}

// mounted is a container's root file system, mounted.
type mounted struct {
	root  string     // the rootfs
	image spec.Image // what the spec takes from the image's configuration
	// users: passwd and group hold the image's /etc/passwd and /etc/group
	// (from its record, or read once); else specInput reads them.
	users         bool
	passwd, group string
	dir           string // the container's directory (upper dir, hostname, ...)
	release       func() // unmounts and unmarks; dir stays
	// lateRoot: root is not mounted yet (a direct start: I mounts it), so
	// specInput leaves keep-id's passwd line for I (passwdLine).
	lateRoot   bool
	passwdLine string
	// leftovers: directories of killed runs that containerDir set aside
	// and could not remove (a direct start's P, files of other uids).
	leftovers []string
}

// mountImage mounts an image's layers (found by imageRoot) as container
// id's root: its directory in the store's graph root, the image marked in
// use in the run root (rl rmi refuses it), the overlay.
func mountImage(graphRoot, runRoot, imageID string, layers []string, id string) (*mounted, error) {
	m, err := claimImage(graphRoot, runRoot, imageID, layers, id)
	if err != nil {
		return nil, err
	}
	rfs, err := rootfs.Mount(rootfs.Config{Layers: layers, Dir: m.dir, Driver: os.Getenv("RL_OVERLAY")})
	if err != nil {
		m.release()
		removeRunDir(m.dir)
		return nil, err
	}
	trace("rootfs mounted")
	if verbose() {
		fmt.Fprintf(os.Stderr, "rl: rootfs: %s overlay, container %s\n", rfs.Driver, id[:min(12, len(id))])
	}
	unmark := m.release
	m.root, m.release = rfs.Path, func() { rfs.Release(); trace("rootfs released"); unmark() }
	return m, nil
}

// claimImage makes container id's directory, marks the image in use and
// checks its layers are all there; the mounted it returns has no root
// yet, and its release unmarks.
func claimImage(graphRoot, runRoot, imageID string, layers []string, id string) (*mounted, error) {
	dir, leftovers, err := containerDir(filepath.Join(graphRoot, "rl-containers"), id)
	if err != nil {
		return nil, err
	}
	unmark, err := inuse.Mark(runRoot, id, imageID)
	if err != nil {
		os.RemoveAll(dir)
		if re := (*inuse.RemovingError)(nil); errors.As(err, &re) {
			err = &hintErr{err, "run again once it is removed: rl pulls it again if --pull allows"}
		}
		return nil, err
	}
	// An rl rmi since the image was found (by the core, or by P's check
	// of its record) has removed its layers (one that is removing them
	// now made Mark refuse); one from now on sees the mark and refuses.
	for _, l := range layers {
		if _, err := os.Stat(l); err != nil {
			unmark()
			os.RemoveAll(dir)
			return nil, &hintErr{fmt.Errorf("image %s was removed while rl started (%w)", imageID[:min(12, len(imageID))], err),
				"run again: rl pulls it if --pull allows"}
		}
	}
	return &mounted{dir: dir, leftovers: leftovers, release: unmark}, nil
}

// removeDir removes a container's directory. overlayfs leaves work/work
// (and what it makes in it) with mode 0: C may enter it (uid 0 of its
// namespace, CAP_DAC_OVERRIDE), P on the host may not, but the user owns
// it and may chmod it, as any directory the container made unreadable or
// read-only (P's direct start: every file is the user's but files of
// other uids of a subuid mapping, see removeDirectDir).
func removeDir(dir string) error {
	// (Not os.RemoveAll first: it stops at work/work's first entry, and
	// the walk below then starts again.)
	parent, err := unix.Open(filepath.Dir(dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: filepath.Dir(dir), Err: err}
	}
	defer unix.Close(parent)
	if err := removeAt(parent, filepath.Base(dir)); err != nil {
		return &os.PathError{Op: "remove", Path: dir, Err: err}
	}
	return nil
}

// removeAt removes name in the directory parent and everything below it,
// opening each directory by its fd (O_NOFOLLOW), never by a path: a tree
// deeper than PATH_MAX is removed too, and a directory without read,
// write or search permission for its owner gets them first. What is gone
// before removeAt gets to it (ENOENT) counts as removed: two runs may
// remove the same .dead-* directory at once (setAsideStale).
func removeAt(parent int, name string) error {
	err := removeTree(parent, name)
	if errors.Is(err, unix.ENOENT) { // (also a directory's read: it was removed meanwhile)
		return nil
	}
	return err
}

// removeTree is removeAt's walk.
func removeTree(parent int, name string) error {
	err := unix.Unlinkat(parent, name, 0)
	if err == nil {
		return nil
	}
	if err != unix.EISDIR {
		return err
	}
	open := func() (int, error) {
		return unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	fd, err := open()
	if err == unix.EACCES {
		// (name is a directory, not a symlink: unlinkat said EISDIR.)
		unix.Fchmodat(parent, name, 0o700, 0)
		fd, err = open()
	}
	if err != nil {
		return err
	}
	unix.Fchmod(fd, 0o700) // entries are unlinked: write and search
	if _, err := removeEntries(fd, name, ""); err != nil {
		return err
	}
	return unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
}

// removeEntries removes every entry of the open directory fd (named
// name) but keep, and closes fd. It returns the first error, and the
// entry it came from ("" for reading the directory).
func removeEntries(fd int, name, keep string) (failed string, err error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	for _, n := range names {
		if n == keep {
			continue
		}
		if rerr := removeAt(fd, n); rerr != nil && err == nil {
			failed, err = n, rerr
		}
	}
	return failed, err
}

// removeContainerDir removes the directory of the container that ran,
// and says so if it cannot.
func removeContainerDir(dir string) { reportRemoval(removeRunDir(dir)) }

// removeRunDir removes dir, a container's directory made by
// containerDir: its contents, then, under the lock containerDir takes,
// its pid file and itself. Removed in one walk, the pid file went first,
// and a run starting meanwhile took the directory for a killed run's
// (setAsideStale: no pid file) and renamed it under the remover, which
// then failed (seen: 16 warnings in 64 runs, 16 at a time). If the
// contents cannot all be removed, the pid file stays: the directory is
// still its run's (a C removes the rest, removeDirectDir).
func removeRunDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	if n, err := removeEntries(fd, dir, "pid"); n != "" {
		return &os.PathError{Op: "remove", Path: filepath.Join(dir, n), Err: err}
	} else if err != nil {
		return err
	}
	if lock, err := os.OpenFile(filepath.Join(filepath.Dir(dir), ".lock"), os.O_RDWR, 0); err == nil {
		defer lock.Close() // (closing releases the lock)
		unix.Flock(int(lock.Fd()), unix.LOCK_EX)
	}
	if err := os.Remove(filepath.Join(dir, "pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Remove(dir)
}

// reportRemoval says, as a warning, that the container's directory could
// not be removed (err), and marks the step for RL_TRACE.
func reportRemoval(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "rl: warning: removing the container's directory: %v\n", err)
	}
	trace("dir removed")
}

// containerID is the container's id: its --name, else a new random one.
func containerID(cfg *runConfig) string {
	if cfg.Flags.name != "" {
		return cfg.Flags.name
	}
	return newID()
}

// waitHelpers waits for the helpers a run told to stop (their exit
// overlaps the rest of its clean-up, so it comes last).
func waitHelpers(helpers *[]func()) {
	for _, wait := range *helpers {
		wait()
	}
}

// containerCgroup makes the container's cgroup (after every check and
// before the command: the step may move the caller's processes, see
// cgroupv2.Create). beforeExec, when not nil, writes pids.max once I is
// set up (I's own threads count against it); done prints the stats when
// --stats-at-exit asks and stats is true, then removes the cgroup.
func containerCgroup(cfg *runConfig, id string) (cg *cgroupv2.Cgroup, beforeExec func() error, done func(stats bool), err error) {
	cg, err = cgroupv2.Create(cgroupv2.Config{Name: "rl-" + id[:min(12, len(id))], Limits: cfg.Limits,
		Accounting: []string{"memory", "pids", "cpu", "io"}})
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.Limits != nil && cfg.Limits.PidsMax > 0 {
		beforeExec = func() error { return cg.SetPids(cfg.Limits) }
	}
	trace("cgroup created")
	done = func(stats bool) {
		if stats && cfg.Flags.statsAtExit {
			fmt.Fprintln(os.Stderr, "rl: stats:", cg.Stats())
		}
		if err := cg.Remove(); err != nil {
			fmt.Fprintln(os.Stderr, "rl: warning:", err)
		}
	}
	return cg, beforeExec, done, nil
}

// containerDir makes the directory of container id below base, with a
// pid file naming this C from its first instant, after setting aside the
// directories of containers whose rl was killed. Both happen under an
// exclusive lock on base/.lock (flock(2)): a directory is never seen
// without its pid file (and taken for a dead one while its run is still
// setting up), and two runs with one --name cannot both have it (docker
// refuses a name in use; the second would have mounted over the first's
// upper directory). The dead directories are removed after the lock;
// those this process cannot remove are returned as leftovers.
func containerDir(base, id string) (dir string, leftovers []string, err error) {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", nil, fmt.Errorf("creating %s: %w", base, err)
	}
	lock, err := os.OpenFile(filepath.Join(base, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("locking %s: %w", base, err)
	}
	defer lock.Close() // (closing releases the lock)
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", nil, fmt.Errorf("locking %s: %w", base, err)
	}
	dead := setAsideStale(base)
	defer func() {
		for _, d := range dead {
			// A directory of a subuid run may hold files P cannot
			// remove: the caller's leftovers (removeDirectDir).
			if removeDir(d) != nil {
				leftovers = append(leftovers, d)
			}
		}
	}()
	dir = filepath.Join(base, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", nil, &hintErr{fmt.Errorf("the container name %q is already in use by a running container", id),
				"choose another --name, or wait until that container exits"}
		}
		return "", nil, fmt.Errorf("creating the container directory %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		os.Remove(dir)
		return "", nil, fmt.Errorf("creating the container directory %s: %w", dir, err)
	}
	lock.Close() // the dead directories go without holding it
	return dir, nil, nil
}

// privateDir makes dir (0700) if need be and checks that it is a
// directory of this user's that nobody else can enter: C sees the user's
// own files as uid 0, its os.Getuid(). In a shared directory another user
// can make the name first, a directory of theirs or a symlink to one,
// and have rl create and remove container directories where they like.
func privateDir(dir string) error {
	os.MkdirAll(dir, 0o700)
	ok, err := ownDir(dir, 0o077)
	if err != nil {
		return err
	}
	if !ok {
		return &hintErr{fmt.Errorf("%s is not a private directory of yours: another user may have made it", dir),
			"remove it, or set XDG_RUNTIME_DIR or TMPDIR to a directory of your own"}
	}
	return nil
}

// hostUID is the user's uid on the host, in P (a direct start) and in C.
func hostUID() int {
	if userns.IsChild() {
		uid, _ := userns.HostIDs()
		return uid
	}
	return os.Getuid()
}

// runtimeBase holds the directories of --rootfs containers, which have no
// store: $XDG_RUNTIME_DIR/rl, else $TMPDIR/rl-UID, each used only if it
// is a private directory of the user's (privateDir), as containers/storage
// checks its own /tmp/storage-run-UID.
func runtimeBase() (string, error) {
	dir := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "rl")
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		uid := hostUID()
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("rl-%d", uid))
	}
	if err := privateDir(dir); err != nil {
		return "", err
	}
	return filepath.Join(dir, "containers"), nil
}

// idView is the user's host uid and gid, and the sizes of the uid and gid
// maps of the user namespace the container's is made in (or will be).
type idView struct {
	uid, gid   int
	uids, gids uint32
}

// specInput gathers what spec.Build needs from the rootfs and the host.
func specInput(cfg *runConfig, m *mounted, id string, ids idView) (spec.Input, error) {
	root, dir, uid, gid := m.root, m.dir, ids.uid, ids.gid
	in := spec.Input{Options: cfg.Opts, Image: m.image, ID: newIDIfName(id), Rootfs: root,
		HostUID: uint32(uid), HostGID: uint32(gid), UIDs: ids.uids, GIDs: ids.gids}
	in.Passwd, in.Group = m.passwd, m.group
	if !m.users {
		in.Passwd = readInRoot(root, "/etc/passwd")
		in.Group = readInRoot(root, "/etc/group")
	}
	if cfg.Opts.KeepID {
		in.HostUser, in.HostHome = hostUser(uid)
		if !spec.HasUID(in.Passwd, uint32(uid)) {
			// podman adds the user to the image's passwd (in the upper
			// dir: the image stays untouched).
			line := spec.PasswdLine(in.HostUser, uint32(uid), uint32(gid), in.HostHome)
			// Not into a --rootfs directory: it is the user's, not a copy.
			switch {
			case cfg.Rootfs != "":
			case m.lateRoot:
				m.passwdLine = line // I appends it (run_direct.go)
			default:
				if err := child.AppendInRoot(root, "/etc/passwd", line); err != nil {
					return in, fmt.Errorf("adding your user to the image's /etc/passwd: %w", err)
				}
			}
			in.Passwd += line
		}
	}
	hostname := cfg.Opts.Hostname
	if hostname == "" {
		hostname = in.ID[:12]
	}
	files := map[string]string{"hostname": hostname + "\n"}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	files["resolv.conf"] = network.Resolv(network.ResolvInput{Mode: cfg.Network, HostFile: string(hostResolv),
		DNS: cfg.Flags.dns, Search: cfg.Flags.dnsSearch, Options: cfg.Flags.dnsOption})
	if !cfg.Flags.noHosts {
		hostHosts, _ := os.ReadFile("/etc/hosts")
		files["hosts"] = network.Hosts(network.HostsInput{Mode: cfg.Network, Hostname: hostname, Extra: cfg.AddHosts, HostFile: string(hostHosts)})
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return in, err
		}
	}
	in.HostnameFile = filepath.Join(dir, "hostname")
	in.ResolvFile = filepath.Join(dir, "resolv.conf")
	if !cfg.Flags.noHosts {
		in.HostsFile = filepath.Join(dir, "hosts")
	}
	return in, nil
}

// prepareNetwork returns the hook that connects the container's net
// namespace once its first process exists (fromHost: P's direct start,
// see network.SlirpConfig.UserNS). Its clean-up stops slirp4netns without
// waiting; the wait is appended to waits, for the end.
func prepareNetwork(cfg *runConfig, waits *[]func(), fromHost bool) func(int) (func() error, func(), error) {
	if cfg.Network.Kind != network.SlirpMode {
		return nil
	}
	return func(pid int) (func() error, func(), error) {
		sl, err := network.StartSlirp(network.SlirpConfig{PID: pid, Mode: cfg.Network, UserNS: fromHost})
		if err != nil {
			return nil, nil, err
		}
		*waits = append(*waits, sl.Wait)
		if len(cfg.Publish) == 0 {
			return sl.Ready, sl.Stop, nil
		}
		unpublish := func() {}
		ready := func() error {
			if err := sl.Ready(); err != nil {
				return err
			}
			unpublish, err = publish(pid, cfg)
			return err
		}
		stop := func() {
			unpublish()
			sl.Stop()
		}
		return ready, stop, nil
	}
}

// newID is a random container id, 64 hex digits as docker's. From
// getrandom(2) itself, not crypto/rand, whose package inits (its DRBG,
// AES, math/big) cost every start of rl's front ~0.5 ms.
func newID() string {
	b := make([]byte, 32)
	for n := 0; n < len(b); {
		m, err := unix.Getrandom(b[n:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// (Before Linux 3.17, or a seccomp profile that refuses it.)
			if f, err := os.Open("/dev/urandom"); err == nil {
				io.ReadFull(f, b[n:])
				f.Close()
			}
			break
		}
		n += m
	}
	return hex.EncodeToString(b)
}

// newIDIfName keeps a 64-hex id and derives one for a --name (the
// hostname defaults to the first 12 characters of the id, as docker).
func newIDIfName(id string) string {
	if len(id) == 64 {
		return id
	}
	return newID()
}

// setAsideStale renames the directories of containers whose rl was killed
// (their mounts went with their mount namespace; the upper dir did not)
// to .dead-* names, and returns those and any .dead-* left by a run
// killed while removing them, for the caller to remove. It runs under
// containerDir's lock, so a directory without a pid file is one whose
// run died before writing it.
func setAsideStale(base string) []string {
	var dead []string
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".dead-") {
			dead = append(dead, filepath.Join(base, name))
			continue
		}
		if !e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(base, name, "pid"))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && alive(pid) {
			continue
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
		to := filepath.Join(base, ".dead-"+name+"-"+newID()[:8])
		if os.Rename(filepath.Join(base, name), to) == nil {
			dead = append(dead, to)
		}
	}
	return dead
}

func mapSize(file string) uint32 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 1
	}
	var n uint64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 {
			s, _ := strconv.ParseUint(f[2], 10, 32)
			n += s
		}
	}
	return uint32(min(n, 1<<32-1))
}

// readInRoot reads a file of the image, resolving symlinks inside root.
func readInRoot(root, name string) string {
	p, err := securejoin.SecureJoin(root, name)
	if err != nil {
		return ""
	}
	b, _ := os.ReadFile(p)
	return string(b)
}

// alive reports whether pid runs (a zombie whose parent has not reaped it
// yet does not count).
func alive(pid int) bool {
	if unix.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
