package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"rl/cgroupv2"
	"rl/container"
	"rl/container/child"
	"rl/idmap"
	"rl/image/record"
	"rl/spec"
	"rl/userns"
)

// A direct start: P starts I itself, in a user namespace of I's own, and
// there is no C. It is taken for a run of an image whose record is fresh,
// or of a --rootfs directory, when the run needs nothing only C can do
// (directWhyNot). Each Go program started costs ~7 ms here (a Go hello
// world: 6.6 ms of CPU, 183 page faults of ~30 us), and C was one of
// three per start.
//
// What C did moves: P makes the cgroup for limits, starts I first (vforked,
// container.Start) and maps it (I writes a single-uid map itself before
// its execve; newuidmap and newgidmap write subuid maps while I starts;
// with keep-id, maps composed as C and its nested namespace showed them),
// makes the container's directory and marks the image in use
// (claimImage), builds the Spec (the image's /etc/passwd and /etc/group
// come from the record, the rootfs not being mounted yet), and waits,
// serving the terminal for -t as before; I mounts the overlay in
// its own mount namespace before the rest of its set-up
// (child.Config.Overlay). The mount goes with that namespace when the
// container's last process exits, and P removes the directory: every
// file in it is the user's, but for files of other uids of a subuid
// mapping, which only a process in such a namespace can remove: then P
// runs one (removeDirectDir).
//
// Unless the run has -t or limits, there is not even I: P compiles I's
// set-up, and the container's first process runs it and executes the
// command itself (container.Exec, runQuick); P then does its own work
// first, and I's start only if that fails.

// directWhyNot says why a run of an image with a fresh record, or of a
// --rootfs directory, needs C ("" when P can start it directly): kernel
// is the kernel's release (uname -r), overlayEnv RL_OVERLAY.
func directWhyNot(cfg *runConfig, kernel, overlayEnv string) string {
	switch {
	case cfg.Flags.dryRun:
		return "--dry-run"
	case len(cfg.Publish) > 0:
		return "-p (rootlesskit's port driver is in rl's core)"
	case cfg.Limits != nil && cfg.Limits.CpusetCPUs != "":
		// Enabling cpuset moves every process of rl's cgroup, and the
		// kernel lets only a process with a superset of their permitted
		// capabilities move them (cpuset_can_attach, cap_safe_nice): C
		// has all of them in its namespace, P none. Seen in the VM, whose
		// delegated cgroup also holds su, a root process.
		return "--cpuset-cpus (enabling cpuset needs C's capabilities)"
	case cfg.Rootfs != "":
		return "" // no overlay
	case overlayEnv != "" && overlayEnv != "native":
		return "RL_OVERLAY=" + overlayEnv
	case !kernelAtLeast(kernel, 5, 11):
		return "Linux " + kernel + " has no overlayfs option userxattr (5.11): C may need fuse-overlayfs"
	}
	return ""
}

// kernelAtLeast reports whether release ("6.1.0-13-amd64") is at least
// major.minor; an unreadable one is not.
func kernelAtLeast(release string, major, minor int) bool {
	var ma, mi int
	if n, _ := fmt.Sscanf(release, "%d.%d", &ma, &mi); n != 2 {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// runDirect runs the container with P as its parent, if it can: done is
// false when the run needs C after all (the caller starts it, with the
// record, which runDirect leaves open and unread: record.Read reads at
// offsets). It is false also when I could not mount the overlay, which
// C's way (with fuse-overlayfs to fall back on) may still do.
func runDirect(cfg *runConfig, rec *os.File) (done bool, err error) {
	// Order: the rules first, so that a run that needs C reads the subuid
	// files and looks for the helpers once (userns.Start), not twice.
	if why := directWhyNot(cfg, kernelRelease(), os.Getenv("RL_OVERLAY")); why != "" {
		if verbose() {
			fmt.Fprintf(os.Stderr, "rl: starting the container through C: %s\n", why)
		}
		return false, nil
	}
	plan, err := userns.Choose()
	if err != nil {
		return false, nil // userns.Start says it again, with C's path
	}
	if verbose() {
		fmt.Fprintln(os.Stderr, "rl: "+plan.Note())
	}
	st, err := runDirectWith(cfg, plan, rec)
	if retryThroughC(err) {
		if verbose() {
			fmt.Fprintf(os.Stderr, "rl: %v; trying again through C\n", err)
		}
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return true, exitStatus(st)
}

// directIO is what I gets of P's besides its namespaces: the terminal
// (-t) and the cgroup to be created in (limits).
type directIO struct {
	term   *terminal
	cgroup *os.File
}

// directMaps are the id maps of I's user namespace: the plan's, or with
// --userns=keep-id the user at their own ids, as C's nested namespace
// showed them (idmap.KeepID over the plan's maps, composed into one).
// uid and gid are the user's.
func directMaps(keepID bool, uid, gid uint32, plan *userns.Plan) (uids, gids []idmap.Mapping, err error) {
	if !keepID {
		return plan.UIDMap, plan.GIDMap, nil
	}
	if uids, err = idmap.Compose(idmap.KeepID(uid, mapIDs(plan.UIDMap)), plan.UIDMap); err != nil {
		return nil, nil, err
	}
	if gids, err = idmap.Compose(idmap.KeepID(gid, mapIDs(plan.GIDMap)), plan.GIDMap); err != nil {
		return nil, nil, err
	}
	if len(uids) > idmap.MaxLines || len(gids) > idmap.MaxLines {
		// Composing may split a line of the plan's: C's nested maps
		// (two namespaces, each within the limit) still work.
		return nil, nil, &needC{fmt.Errorf("--userns=keep-id needs %d and %d map lines, more than the kernel takes (%d)", len(uids), len(gids), idmap.MaxLines)}
	}
	return uids, gids, nil
}

// mapIDs is the number of ids m maps, as many as a namespace can show.
func mapIDs(m []idmap.Mapping) uint32 { return uint32(min(idmap.Size(m), 1<<32-1)) }

// startDirect starts I in the container's namespaces and a user namespace
// of its own, mapped as plan says; it waits for the Spec.
func startDirect(cfg *runConfig, plan *userns.Plan, io directIO, helpers *[]func()) (ctr *container.Container, mapped func() error, err error) {
	c, uids, gids, err := directConfig(cfg, plan, io, helpers)
	if err != nil {
		return nil, nil, err
	}
	ctr, err = container.Start(c)
	if err != nil {
		// A host that forbids user namespaces (or this clone) says so
		// through C's way, with its hint.
		return nil, nil, &needC{err}
	}
	if c.Prepare != nil {
		// slirp4netns, from the host, attaches to a tap device that I
		// makes (P cannot enter I's net namespace to make it).
		ctr.Tap = "tap0"
	}
	if plan.Mode == userns.ModeSingle {
		return ctr, func() error { return nil }, nil
	}
	// Subuid maps: newuidmap and newgidmap, while I starts and P goes on.
	// I executed unmapped, with its capabilities raised to ambient ones
	// (as C does, see userns.Start), and waits for its configuration,
	// which Run sends only once mapped has returned.
	done := make(chan error, 1)
	go func() { done <- plan.Map(ctr.Pid(), uids, gids) }()
	return ctr, sync.OnceValue(func() error {
		err := <-done
		trace("I mapped")
		return err
	}), nil
}

// directConfig is the container.Config of a direct start, and the maps
// of its user namespace.
func directConfig(cfg *runConfig, plan *userns.Plan, io directIO, helpers *[]func()) (c container.Config, uids, gids []idmap.Mapping, err error) {
	uids, gids, err = directMaps(cfg.Opts.KeepID, uint32(os.Getuid()), uint32(os.Getgid()), plan)
	if err != nil {
		return c, nil, nil, err
	}
	ns := spec.Namespaces(cfg.Opts)
	if !cfg.Opts.KeepID { // (keep-id has one already)
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	c = container.Config{Namespaces: ns, Init: initForP(), Argv0: os.Args[0],
		Prepare: prepareNetwork(cfg, helpers, true), Cgroup: io.cgroup}
	if io.term != nil {
		c.Console = io.term.childEnd
	}
	if plan.Mode == userns.ModeSingle {
		// I writes the maps itself before its execve (container.Start):
		// one line each, the user's own ids, which an unprivileged
		// process may write.
		c.UIDMappings, c.GIDMappings, c.DenySetgroups = spec.LinuxIDMappings(uids), spec.LinuxIDMappings(gids), true
	}
	if cfg.Flags.interactive {
		c.Stdin = os.Stdin
	}
	return c, uids, gids, nil
}

// removeDirectDir removes the container's directory. With subuid mapping
// its upper directory may hold files of other uids than the user's
// (written by a non-root user in the container, or copied up from the
// image), which P cannot remove: then a C of this program does, mapped as
// the container was (~20 ms more, only for such containers), and with it
// leftovers, the directories of killed runs that P could not remove
// either (containerDir; without this they would wait for a run through
// C).
func removeDirectDir(dir string, leftovers []string, plan *userns.Plan) {
	err := removeRunDir(dir)
	if plan.Mode == userns.ModeSubuid {
		if err != nil {
			leftovers = append(leftovers, dir)
		}
		if len(leftovers) > 0 {
			var st int
			st, err = userns.Reexec(userns.Config{Args: append([]string{os.Args[0], rmdirCommand}, leftovers...), Env: serialEnv()})
			if err == nil && st != 0 {
				err = fmt.Errorf("rl %s exited with status %d", rmdirCommand, st)
			}
		}
	}
	reportRemoval(err)
}

// runDirectWith makes the cgroup, starts I, makes the container's
// directory, builds the Spec and waits for the container; then it cleans
// up.
func runDirectWith(cfg *runConfig, plan *userns.Plan, rec *os.File) (st int, err error) {
	// Last of all: wait for helpers that were told to stop (slirp4netns;
	// their exit overlaps the rest of the clean-up).
	var helpers []func()
	defer waitHelpers(&helpers)
	id := containerID(cfg)
	// Without rl-init (container.Exec) when the run needs nothing of I
	// but its set-up: no pty to hand over, no cgroup handshake (limits).
	// Single-uid maps are written by the child itself, subuid maps by
	// newuidmap while it waits; slirp4netns starts once it has made the
	// tap device, and the command waits for it. P's own work then comes
	// first: the child's set-up needs all of it.
	quick := !cfg.Opts.Terminal && !cfg.Cgroup && os.Getenv("RL_INIT") != "always"
	var sigs *earlySignals
	if quick {
		// Signals are the container's from here on: relayed once it runs
		// (container.Config.Signals), as docker relays them from the
		// start of a run; made now, beside P's own work, for they cost
		// ~1 ms.
		sigs = notifyEarly()
		defer sigs.stop()
	}
	var cgroup *os.File
	var beforeExec func() error
	if cfg.Cgroup {
		// Before I, which is cloned into it; after every flag check.
		var cg *cgroupv2.Cgroup
		var done func(stats bool)
		// (err, not a new one: the deferred check reads the result.)
		if cg, beforeExec, done, err = containerCgroup(cfg, id); err != nil {
			return 0, err
		}
		defer func() { done(!retryThroughC(err)) }() // (C prints its own stats)
		cgroup = cg.Dir()
	}
	var term *terminal
	if cfg.Opts.Terminal {
		// P's own, as with C (tty.go); I sends it the pty master.
		if term, err = newTerminal(cfg.Flags.interactive); err != nil {
			return 0, err
		}
		defer term.Close() // (last: restores rl's terminal)
	}
	var ctr *container.Container
	mapped := func() error { return nil }
	// endI ends I if Run did not: killed, newuidmap done with its pid
	// (mapped is once; nil after a failed fall-back), then reaped, after
	// which the pid may be another process's. Each step is a no-op once
	// done.
	endI := func() {
		ctr.Kill()
		if mapped != nil {
			mapped()
		}
		ctr.Close()
	}
	if !quick {
		// I starts before P's own work, which its start (a Go runtime,
		// ~8 ms here) and, with subuid mapping, newuidmap and newgidmap
		// overlap. I only waits for its configuration until Run; it is
		// vforked (container.Start), so P's pages do not become
		// copy-on-write. (When it was forked, P paid ~60 more page
		// faults for starting it first than for starting it last, and
		// the overlap saved nothing.)
		if ctr, mapped, err = startDirect(cfg, plan, directIO{term: term, cgroup: cgroup}, &helpers); err != nil {
			return 0, err
		}
		// (Last of these: no newuidmap outlives a run that failed first.)
		defer endI()
	}
	m, ov, err := directRoot(cfg, rec, id)
	if err != nil {
		return 0, err
	}
	defer func() {
		// Order: I is gone (Run waited for it; endI ends it if not), and
		// with it its mount namespace and the overlay, before the
		// directory goes.
		endI()
		m.release()
		removeDirectDir(m.dir, m.leftovers, plan)
	}()
	in, err := specInput(cfg, m, id, idView{uid: os.Getuid(), gid: os.Getgid(), uids: mapIDs(plan.UIDMap), gids: mapIDs(plan.GIDMap)})
	if err != nil {
		return 0, err
	}
	s, err := spec.Build(in)
	if err != nil {
		return 0, &usageError{Msg: "run: " + err.Error(), Code: exitRLFailed}
	}
	trace("spec built")
	if quick {
		st, ran, qe := runQuick(cfg, plan, s, ov, m.passwdLine, sigs, &helpers)
		if ran {
			// The command ran: signals stay taken while P cleans up and
			// exits (as container.Container.Close leaves them).
			sigs.stopped = true
			return st, qe
		}
		// A signal that came meanwhile does now what it would have done
		// without the early Notify (SIGINT ends rl).
		sigs.stop()
		if qe, ok := qe.(*container.QuickError); ok && qe.PasswdAdded {
			// (In the upper directory, which rl-init mounts again.)
			m.passwdLine = ""
		}
		// Through rl-init, which does the same and fails with its own
		// message and exit code, or succeeds where the compiled set-up
		// was too strict. The child may have mounted the overlay: its
		// work directory then holds overlayfs's incompat/volatile, with
		// which a second mount fails (EINVAL: a volatile upper directory
		// may not be reused), so it is made afresh (the child is gone,
		// and its mount with it).
		if ov != nil {
			if err := removeDir(ov.Work); err != nil {
				return 0, err
			}
			if err := os.Mkdir(ov.Work, 0o755); err != nil {
				return 0, err
			}
		}
		if ctr, mapped, err = startDirect(cfg, plan, directIO{}, &helpers); err != nil {
			return 0, err
		}
	}
	if err := mapped(); err != nil {
		return 0, err
	}
	if term != nil {
		term.childEnd.Close()
		term.Start()
		// The pty follows rl's terminal's size (Run does not relay
		// SIGWINCH to a container with a console).
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				term.Resize()
			}
		}()
	}
	ctr.Overlay, ctr.PasswdLine = ov, m.passwdLine
	st, err = ctr.Run(s, beforeExec)
	trace("container exited")
	if term != nil {
		term.Drain()
	}
	return st, err
}

// runQuick runs the container without rl-init (container.Exec); ran is
// false when the command did not start (err says why: a
// *container.QuickError or nil), and rl-init should try.
func runQuick(cfg *runConfig, plan *userns.Plan, s *specs.Spec, ov *child.Overlay, passwdLine string, sigs *earlySignals, helpers *[]func()) (st int, ran bool, err error) {
	c, uids, gids, err := directConfig(cfg, plan, directIO{}, helpers)
	if err != nil {
		return 0, false, nil
	}
	c.Signals = sigs.ch
	if plan.Mode == userns.ModeSubuid {
		// newuidmap and newgidmap, while the child waits.
		c.MapIDs = func(pid int) error {
			err := plan.Map(pid, uids, gids)
			trace("command's child mapped")
			return err
		}
	}
	ctr, err := container.Exec(c, s, ov, passwdLine)
	if err != nil {
		if verbose() {
			fmt.Fprintf(os.Stderr, "rl: %v; starting it through rl-init\n", err)
		}
		return 0, false, err
	}
	defer ctr.Close()
	if verbose() {
		fmt.Fprintln(os.Stderr, "rl: the command started without rl-init")
	}
	st, err = ctr.Wait()
	trace("container exited")
	return st, true, err
}

// earlySignals is a signal.Notify made in a goroutine.
type earlySignals struct {
	ch       chan os.Signal
	notified chan struct{}
	stopped  bool
}

// notifyEarly makes ch the target of the signals rl relays, beside the
// caller's work.
func notifyEarly() *earlySignals {
	e := &earlySignals{ch: make(chan os.Signal, 16), notified: make(chan struct{})}
	go func() {
		signal.Notify(e.ch, userns.Relayed()...)
		close(e.notified)
	}()
	return e
}

// stop undoes notifyEarly, once, and raises again what came meanwhile:
// it ends rl as it would have without the Notify, or is ignored.
func (e *earlySignals) stop() {
	if e.stopped {
		return
	}
	e.stopped = true
	<-e.notified // (a Stop before the Notify would leave it in place)
	signal.Stop(e.ch)
	for {
		select {
		case s := <-e.ch:
			if n, ok := s.(syscall.Signal); ok {
				syscall.Kill(os.Getpid(), n)
			}
		default:
			return
		}
	}
}

// directRoot makes container id's directory and says what its rootfs is:
// the image's layers, from the record (which I mounts as ov), or the
// --rootfs directory as it is (ov nil: I binds it).
func directRoot(cfg *runConfig, rec *os.File, id string) (*mounted, *child.Overlay, error) {
	short := id[:min(12, len(id))]
	if cfg.Rootfs != "" {
		base, err := runtimeBase()
		if err != nil {
			return nil, nil, err
		}
		dir, _, err := containerDir(base, id)
		if err != nil {
			return nil, nil, err
		}
		if verbose() {
			fmt.Fprintf(os.Stderr, "rl: rootfs: %s as it is; started directly, container %s\n", cfg.Rootfs, short)
		}
		return &mounted{root: cfg.Rootfs, dir: dir, release: func() {}}, nil, nil
	}
	r, err := record.Read(rec)
	if err != nil {
		return nil, nil, err
	}
	trace("record read")
	if verbose() {
		fmt.Fprintf(os.Stderr, "rl: image %s: %s, from rl's record; started directly, container %s\n",
			cfg.Image, r.ImageID[:min(12, len(r.ImageID))], short)
	}
	m, err := claimImage(r.GraphRoot, r.RunRoot, r.ImageID, r.Layers, id)
	if err != nil {
		return nil, nil, err
	}
	ov, err := overlayDirs(m.dir, r.Layers)
	if err != nil {
		m.release()
		removeRunDir(m.dir)
		return nil, nil, err
	}
	m.root, m.image, m.lateRoot = filepath.Join(m.dir, "merged"), r.Config, true
	m.users, m.passwd, m.group = true, r.Passwd, r.Group
	if verbose() {
		fmt.Fprintf(os.Stderr, "rl: rootfs: native overlay, container %s\n", short)
	}
	return m, ov, nil
}

// needC is a failure of the direct start that C's way may not have.
type needC struct{ error }

func (e *needC) Unwrap() error { return e.error }

// retryThroughC reports whether err ends a direct start that C may still
// make: I could not mount the overlay, or a needC.
func retryThroughC(err error) bool {
	var ce *container.Error
	var nc *needC
	return errors.As(err, &ce) && ce.R.Overlay || errors.As(err, &nc)
}

// overlayDirs makes the upper, work and merged directories in dir, and
// says what I mounts.
func overlayDirs(dir string, layers []string) (*child.Overlay, error) {
	o := &child.Overlay{Lowers: layers, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work")}
	mk := []string{o.Upper, o.Work, filepath.Join(dir, "merged")}
	if len(layers) == 0 {
		// overlayfs needs a lower directory; a scratch image has none.
		empty := filepath.Join(dir, "empty")
		o.Lowers = []string{empty}
		mk = append(mk, empty)
	}
	for _, d := range mk {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	return o, nil
}
