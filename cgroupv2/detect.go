package cgroupv2

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Host is what detection found about the caller's cgroup.
type Host struct {
	Layout      string // "v2", "hybrid", "v1" or "none"
	Path        string // the caller's cgroup directory (v2 only)
	Delegated   bool   // owned by the caller and writable
	Controllers []string
	Reason      string // why limits cannot be enforced ("" when they can)
}

// Detect inspects the calling process's cgroup. uid is the host user
// (files of a delegated cgroup are owned by it).
func Detect(uid int) Host {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return Host{Layout: "none", Reason: "no cgroup file system is mounted at /sys/fs/cgroup"}
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		if unix.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return Host{Layout: "hybrid", Reason: "this host uses hybrid cgroups (v1 controllers, an empty v2 tree): limits need the unified cgroup v2 hierarchy"}
		}
		return Host{Layout: "v1", Reason: "this host uses cgroup v1: rootless limits need cgroup v2"}
	}
	rel, err := ownCgroup("/proc/self/cgroup")
	if err != nil {
		return Host{Layout: "v2", Reason: err.Error()}
	}
	h := inspect(filepath.Join("/sys/fs/cgroup", rel), uid)
	if h.Reason != "" {
		h.Reason = fmt.Sprintf("your cgroup %s is not delegated to you (%s)", rel, h.Reason)
	}
	return h
}

// Base is the cgroup below which rl makes containers' cgroups: the
// caller's own, or its parent when the caller is in the init/ leaf an
// earlier run moved it to (the parent is ours too; without this every
// run would nest one level deeper).
func Base(uid int) Host {
	h := Detect(uid)
	if h.Delegated && filepath.Base(h.Path) == InitLeaf {
		if p := inspect(filepath.Dir(h.Path), uid); p.Delegated {
			return p
		}
	}
	return h
}

// inspect reports whether the cgroup directory dir is delegated to uid.
func inspect(dir string, uid int) Host {
	h := Host{Layout: "v2", Path: dir}
	b, err := os.ReadFile(filepath.Join(h.Path, "cgroup.controllers"))
	if err == nil {
		h.Controllers = strings.Fields(string(b))
	}
	var fst unix.Stat_t
	if err := unix.Stat(h.Path, &fst); err != nil {
		h.Reason = err.Error()
		return h
	}
	if int(fst.Uid) != uid {
		h.Reason = fmt.Sprintf("owned by uid %d", fst.Uid)
		return h
	}
	if err := unix.Access(filepath.Join(h.Path, "cgroup.subtree_control"), unix.W_OK); err != nil {
		h.Reason = "cgroup.subtree_control: " + err.Error()
		return h
	}
	h.Delegated = true
	return h
}

// ownCgroup reads the cgroup v2 path ("0::/...") of a /proc/PID/cgroup file.
func ownCgroup(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s has no cgroup v2 entry", file)
}

// Hint tells how to get a delegated subtree.
const Hint = "boot with systemd.unified_cgroup_hierarchy=1 and enable delegation (systemctl edit user@.service: [Service] Delegate=memory pids cpu cpuset io), or run without limit flags"

// HintDelegate tells how to get a subtree delegated on a cgroup v2 host.
const HintDelegate = "run rl in a scope of your systemd user manager (systemd-run --user --scope -p Delegate=yes -p OOMPolicy=continue rl run ...), or ask your administrator for a delegated cgroup (systemd: Delegate= in user@.service; elsewhere: chown of a cgroup subtree to you), or run without limit flags"

// hintFor is the hint for a host whose cgroup is not usable.
func hintFor(h Host) string {
	if h.Layout == "v2" {
		return HintDelegate
	}
	return Hint
}

// HintController tells how to get one more controller delegated.
const HintController = "ask your administrator to delegate it (systemctl edit user@.service: [Service] Delegate=memory pids cpu cpuset io), or run without that flag"

// hintControllerIn is HintController for the cgroup at path. Under a
// systemd user manager (user@UID.service), a plain `systemd-run --user
// --scope` gets only the controllers the manager enables by default
// (memory and pids on Debian 12); -p Delegate=yes gets all it has.
// -p OOMPolicy=continue, in both hints: by default systemd stops a scope
// in which the kernel OOM-killed a process, and that includes rl itself
// when a container hits its --memory (seen in the VM test: rl got
// SIGTERM, exit 143, instead of reporting 137).
func hintControllerIn(path string) string {
	if strings.Contains(path, "/user@") && strings.Contains(path, ".service") {
		return "run rl in a scope with every controller your systemd user manager has (systemd-run --user --scope -p Delegate=yes -p OOMPolicy=continue rl run ...); if it is still missing, " + HintController
	}
	return HintController
}

// CanEnforce reports, as an error naming the first limit flag, why the
// limits cannot be enforced here, or nil when they can.
func CanEnforce(l *Limits) error {
	h := Base(os.Getuid())
	flag := "limits"
	if len(l.Set) > 0 {
		flag = l.Set[0]
	}
	if h.Reason != "" {
		if len(l.Controllers()) == 0 { // --stats-at-exit: accounting only
			return &refusal{fmt.Sprintf("%s needs a cgroup of its own, and rl cannot make one: %s", flag, h.Reason), hintFor(h)}
		}
		return &refusal{fmt.Sprintf("%s cannot be enforced: %s", flag, h.Reason), hintFor(h)}
	}
	if c := missingController(h, l.Controllers()); c != "" {
		return &refusal{fmt.Sprintf("%s cannot be enforced: the %s controller is not delegated to your cgroup %s", flag, c, h.Path), hintControllerIn(h.Path)}
	}
	return nil
}

// missingController is the first of need that h's cgroup does not offer,
// or "".
func missingController(h Host, need []string) string {
	for _, c := range need {
		if !slices.Contains(h.Controllers, c) {
			return c
		}
	}
	return ""
}

type refusal struct{ msg, hint string }

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Hint() string  { return e.hint }
