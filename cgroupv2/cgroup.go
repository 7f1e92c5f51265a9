package cgroupv2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroup is the cgroup of one container: a leaf below the caller's
// delegated cgroup. See the kernel's cgroup-v2.rst, "Delegation" and
// "No Internal Process Constraint".
type Cgroup struct {
	Path string
	dir  *os.File
}

// Config says what cgroup to make.
type Config struct {
	Name   string  // the leaf's name, e.g. rl-<id>
	Limits *Limits // nil: no limits, only accounting
	// Controllers enabled for the leaf besides those the limits need
	// (for accounting); missing ones are skipped.
	Accounting []string
}

// InitLeaf is where the processes of the caller's cgroup move when
// controllers must be enabled below it; podman uses the same name.
const InitLeaf = "init"

// Create makes the container's cgroup below the calling process's own
// (delegated) cgroup and writes the limits into it. Steps in order:
//  1. find the caller's cgroup and check that it is delegated;
//  2. enable the controllers the limits need in its subtree_control; a
//     cgroup with processes cannot do that (EBUSY), so first move all of
//     its processes, rl included, into the leaf InitLeaf;
//  3. remove leaves of earlier containers whose rl was killed (rmdir
//     fails on a cgroup that still has processes, so live ones stay);
//  4. make the container's leaf and write the limit files;
//  5. open the leaf, for clone3(CLONE_INTO_CGROUP), which places the
//     container's first process there before it runs a single instruction.
func Create(c Config) (*Cgroup, error) {
	h := Base(os.Getuid())
	if !h.Delegated {
		return nil, &refusal{msg: "cannot create a cgroup: " + h.Reason, hint: hintFor(h)}
	}
	var need []string
	if c.Limits != nil {
		need = c.Limits.Controllers()
	}
	if ctl := missingController(h, need); ctl != "" {
		return nil, &refusal{msg: fmt.Sprintf("the %s controller is not delegated to your cgroup %s", ctl, h.Path), hint: hintControllerIn(h.Path)}
	}
	for _, ctl := range c.Accounting {
		if slices.Contains(h.Controllers, ctl) && !slices.Contains(need, ctl) {
			need = append(need, ctl)
		}
	}
	if err := enable(h.Path, need); err != nil {
		return nil, err
	}
	removeStale(h.Path)
	cg := &Cgroup{Path: filepath.Join(h.Path, c.Name)}
	if err := os.Mkdir(cg.Path, 0o755); err != nil {
		return nil, fmt.Errorf("creating cgroup %s: %w", cg.Path, err)
	}
	if c.Limits != nil {
		for _, f := range c.Limits.Files() {
			if f[0] == "pids.max" {
				continue // see SetPids
			}
			if err := os.WriteFile(filepath.Join(cg.Path, f[0]), []byte(f[1]), 0); err != nil {
				cg.Remove()
				return nil, fmt.Errorf("setting %s to %q in %s: %w", f[0], f[1], cg.Path, unwrap(err))
			}
		}
	}
	dir, err := os.OpenFile(cg.Path, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		cg.Remove()
		return nil, fmt.Errorf("opening cgroup %s: %w", cg.Path, unwrap(err))
	}
	cg.dir = dir
	return cg, nil
}

// SetPids writes pids.max. It is not written by Create: the container's
// first process is rl's own init, a Go program whose runtime starts
// several threads, and threads count against pids.max; with a low limit
// it could not even start. rl writes it once that init has set everything
// up and before it executes the command (container.Config.BeforeExec), so
// the command never runs without it. pids.current may exceed pids.max
// for that moment; the kernel then refuses new tasks only.
func (cg *Cgroup) SetPids(l *Limits) error {
	if l == nil || l.PidsMax <= 0 {
		return nil
	}
	v := strconv.FormatInt(l.PidsMax, 10)
	if err := os.WriteFile(filepath.Join(cg.Path, "pids.max"), []byte(v), 0); err != nil {
		return fmt.Errorf("setting pids.max to %q in %s: %w", v, cg.Path, unwrap(err))
	}
	return nil
}

// Dir is the open leaf, for SysProcAttr.CgroupFD.
func (cg *Cgroup) Dir() *os.File { return cg.dir }

// Remove deletes the leaf. Its processes are gone once the container's
// init has been reaped (the kernel reaps the rest of a pid namespace
// before its init's exit completes), but a dying task may linger in the
// cgroup for a moment: retry briefly on EBUSY.
func (cg *Cgroup) Remove() error {
	if cg.dir != nil {
		cg.dir.Close()
		cg.dir = nil
	}
	var err error
	for i := 0; i < 100; i++ {
		if err = unix.Rmdir(cg.Path); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", cg.Path, err)
}

// enable writes +CONTROLLER to dir's cgroup.subtree_control for each
// controller not yet enabled there, moving dir's processes to InitLeaf
// first if they are in the way.
func enable(dir string, ctls []string) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return err
	}
	on := strings.Fields(string(b))
	var todo []string
	for _, c := range ctls {
		if !slices.Contains(on, c) {
			todo = append(todo, c)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := moveProcs(dir, filepath.Join(dir, InitLeaf)); err != nil {
		return err
	}
	for _, c := range todo {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+"+c), 0); err != nil {
			return fmt.Errorf("enabling the %s controller in %s/cgroup.subtree_control: %w", c, dir, unwrap(err))
		}
	}
	return nil
}

// moveProcs moves every process of cgroup from into cgroup to (made if
// missing). Processes that exit meanwhile (ESRCH) are fine.
func moveProcs(from, to string) error {
	if err := os.Mkdir(to, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating cgroup %s: %w", to, err)
	}
	// New processes may be forked while we move: repeat until empty.
	for round := 0; round < 10; round++ {
		b, err := os.ReadFile(filepath.Join(from, "cgroup.procs"))
		if err != nil {
			return err
		}
		pids := strings.Fields(string(b))
		if len(pids) == 0 {
			return nil
		}
		for _, p := range pids {
			err := os.WriteFile(filepath.Join(to, "cgroup.procs"), []byte(p), 0)
			if err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("moving process %s from %s to %s (cgroup v2 allows no processes in a cgroup that has controllers enabled for its children): %w", p, from, to, unwrap(err))
			}
		}
	}
	return fmt.Errorf("cgroup %s keeps getting new processes: cannot empty it", from)
}

// removeStale removes empty leaves of earlier containers (rl-*).
func removeStale(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "rl-") {
			unix.Rmdir(filepath.Join(dir, e.Name()))
		}
	}
}

// unwrap drops the *PathError wrapper: messages name the file themselves.
func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Stats are what a container used, read from its cgroup.
type Stats struct {
	MemoryPeak   int64 // bytes (memory.peak; -1 if unknown)
	OOMKills     int64 // memory.events oom_kill
	CPUUsec      int64 // cpu.stat usage_usec
	Throttled    int64 // cpu.stat nr_throttled
	ThrottledUs  int64 // cpu.stat throttled_usec
	PidsPeak     int64 // pids.peak (-1 if unknown)
	PidsEvents   int64 // pids.events max: forks refused by pids.max
	IOReadBytes  int64 // io.stat rbytes, summed
	IOWriteBytes int64 // io.stat wbytes, summed
}

// Stats reads the leaf's accounting files. Missing files (a controller
// not enabled) leave their fields at -1 or 0.
func (cg *Cgroup) Stats() Stats {
	s := Stats{MemoryPeak: -1, PidsPeak: -1}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(cg.Path, name))
		return string(b)
	}
	if v, err := strconv.ParseInt(strings.TrimSpace(read("memory.peak")), 10, 64); err == nil {
		s.MemoryPeak = v
	}
	if v, err := strconv.ParseInt(strings.TrimSpace(read("pids.peak")), 10, 64); err == nil {
		s.PidsPeak = v
	}
	kv := ParseKeyed(read("memory.events"))
	s.OOMKills = kv["oom_kill"]
	kv = ParseKeyed(read("cpu.stat"))
	s.CPUUsec, s.Throttled, s.ThrottledUs = kv["usage_usec"], kv["nr_throttled"], kv["throttled_usec"]
	s.PidsEvents = ParseKeyed(read("pids.events"))["max"]
	s.IOReadBytes, s.IOWriteBytes = ParseIOStat(read("io.stat"))
	return s
}

// ParseKeyed parses a flat keyed file ("key value" per line), such as
// cpu.stat or memory.events. Lines that do not fit are skipped.
func ParseKeyed(s string) map[string]int64 {
	m := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			m[f[0]] = v
		}
	}
	return m
}

// ParseIOStat sums rbytes and wbytes over the devices of an io.stat file
// ("8:0 rbytes=1 wbytes=2 rios=3 ..." per line).
func ParseIOStat(s string) (read, write int64) {
	for _, line := range strings.Split(s, "\n") {
		for _, f := range strings.Fields(line) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "rbytes":
				read += n
			case "wbytes":
				write += n
			}
		}
	}
	return read, write
}

// String is the one-line summary of --stats-at-exit.
func (s Stats) String() string {
	var parts []string
	if s.MemoryPeak >= 0 {
		parts = append(parts, fmt.Sprintf("memory peak %.1f MiB", float64(s.MemoryPeak)/(1<<20)))
	}
	parts = append(parts, fmt.Sprintf("oom kills %d", s.OOMKills))
	parts = append(parts, fmt.Sprintf("cpu %.3f s", float64(s.CPUUsec)/1e6))
	parts = append(parts, fmt.Sprintf("throttled %d times for %.3f s", s.Throttled, float64(s.ThrottledUs)/1e6))
	if s.PidsPeak >= 0 {
		parts = append(parts, fmt.Sprintf("pids peak %d", s.PidsPeak))
	}
	parts = append(parts, fmt.Sprintf("forks refused %d", s.PidsEvents))
	parts = append(parts, fmt.Sprintf("io read %d B written %d B", s.IOReadBytes, s.IOWriteBytes))
	return strings.Join(parts, ", ")
}
