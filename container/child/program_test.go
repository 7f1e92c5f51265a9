package child

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A Config as spec.Build makes it for `rl run --network none`, with a
// volume of a directory and one of a file.
func quickConfig(t *testing.T) *Config {
	file := t.TempDir() + "/motd"
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return &Config{Root: "/c/merged", Overlay: &Overlay{Lowers: []string{"/l1", "/l0"}, Upper: "/c/upper", Work: "/c/work"},
		Hostname: "h", NetNS: true, Cwd: "/w/x", Args: []string{"sh", "-c", "true"}, Env: []string{"PATH=/bin:/usr/bin"},
		MaskedPaths: []string{"/proc/kcore", "/sys/firmware"}, ReadonlyPaths: []string{"/proc/sys"},
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}, Effective: []string{"CAP_CHOWN"}, Permitted: []string{"CAP_CHOWN"}},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/src/a", Type: "bind", Source: t.TempDir(), Options: []string{"rbind", "rprivate"}},
			{Destination: "/etc/motd", Type: "bind", Source: file, Options: []string{"rbind", "ro"}},
		}}
}

func TestCompileRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(c *Config)
	}{
		{"terminal", func(c *Config) { c.Terminal = true }},
		{"handshake", func(c *Config) { c.BeforeExec = true }},
		{"no command", func(c *Config) { c.Args = nil }},
		{"NUL", func(c *Config) { c.Env = append(c.Env, "A=\x00") }},
		{"many layers", func(c *Config) { c.Overlay.Lowers = make([]string, 4096/8); fill(c.Overlay.Lowers, "/layer/x") }},
		{"missing bind source", func(c *Config) { c.Mounts[2].Source = "/nonexistent/rl-test" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := quickConfig(t)
			tc.mod(c)
			if _, err := Compile(c); !errors.Is(err, errNotCompiled) {
				t.Fatalf("Compile: %v, want errNotCompiled", err)
			}
		})
	}
}

func fill(s []string, v string) {
	for i := range s {
		s[i] = v
	}
}

// TestCompileJumps: every skip lands inside the program (or just past
// its end), every register is one of the registers, every op is named.
func TestCompileJumps(t *testing.T) {
	p, err := Compile(quickConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.notes) != len(p.Ops) {
		t.Fatalf("%d names for %d ops", len(p.notes), len(p.Ops))
	}
	for i, o := range p.Ops {
		if i+1+o.Skip > len(p.Ops) || i+1+o.ElseSkip > len(p.Ops) || o.Skip < 0 || o.ElseSkip < 0 {
			t.Errorf("op %d (%s): skips %d, %d out of %d ops", i, p.Name(i), o.Skip, o.ElseSkip, len(p.Ops))
		}
		regs := append(append([]uint8{o.Out}, o.In[:]...), o.FdPath[:]...)
		for _, r := range regs {
			if r >= Registers {
				t.Errorf("op %d (%s): register %d", i, p.Name(i), r)
			}
		}
		if o.ElseSkip != 0 && o.Else == 0 {
			t.Errorf("op %d (%s): ElseSkip without Else", i, p.Name(i))
		}
	}
}

// TestCompileSteps checks the ops of one step each: a directory made
// inside the rootfs, a mask, sysfs with its fall-back, a file bind.
func TestCompileSteps(t *testing.T) {
	p, err := Compile(quickConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	// find returns the ops from the first one named name, n of them.
	find := func(name string, n int) []Op {
		for i := range p.Ops {
			if p.Name(i) == name {
				if i+n > len(p.Ops) {
					t.Fatalf("%s: too few ops after it", name)
				}
				return p.Ops[i : i+n]
			}
		}
		t.Fatalf("no op %q", name)
		return nil
	}
	type want struct {
		trap           uintptr
		skip, elseSkip int
		els            unix.Errno
		ok             unix.Errno
	}
	check := func(step string, ops []Op, w []want) {
		t.Helper()
		for i, o := range ops {
			got := want{o.Trap, o.Skip, o.ElseSkip, unix.Errno(o.Else), unix.Errno(o.OK)}
			if got != w[i] {
				t.Errorf("%s, op %d: %+v, want %+v", step, i, got, w[i])
			}
		}
	}
	// /src/a: "src" and "src/a", each opened or else made and opened.
	check("mkdir -p /src/a", find("resolving src in the rootfs", 6), []want{
		{unix.SYS_OPENAT2, 2, 0, unix.ENOENT, 0}, {unix.SYS_MKDIRAT, 0, 0, 0, unix.EEXIST}, {unix.SYS_OPENAT2, 0, 0, 0, 0},
		{unix.SYS_OPENAT2, 2, 0, unix.ENOENT, 0}, {unix.SYS_MKDIRAT, 0, 0, 0, unix.EEXIST}, {unix.SYS_OPENAT2, 0, 0, 0, 0},
	})
	// A mask: not there, skip it; /dev/null, or a tmpfs if a directory.
	check("mask", find("resolving /proc/kcore", 4), []want{
		{unix.SYS_OPENAT2, 0, 3, unix.ENOENT, 0}, {unix.SYS_OPENAT2, 0, 0, 0, 0},
		{unix.SYS_MOUNT, 1, 0, unix.ENOTDIR, 0}, {unix.SYS_MOUNT, 0, 0, 0, 0},
	})
	// sysfs, or the host's /sys bound read-only.
	check("sysfs", find("mounting sysfs on /sys", 4), []want{
		{unix.SYS_MOUNT, 3, 0, unix.EPERM, 0}, {unix.SYS_MOUNT, 0, 0, 0, 0}, {unix.SYS_OPENAT2, 0, 0, 0, 0}, {unix.SYS_MOUNT_SETATTR, 0, 0, 0, 0},
	})
	// A file's mount point is created; the bind is made read-only on
	// the new mount (opened again), and a volume's propagation set.
	check("file bind", find("creating the mount point /etc/motd", 4), []want{
		{unix.SYS_OPENAT2, 0, 0, 0, 0}, {unix.SYS_MOUNT, 0, 0, 0, 0}, {unix.SYS_OPENAT2, 0, 0, 0, 0}, {unix.SYS_MOUNT_SETATTR, 0, 0, 0, 0},
	})
	check("propagation", find("setting the propagation of /src/a", 1), []want{{unix.SYS_MOUNT, 0, 0, 0, 0}})
	if p.Waits {
		t.Error("Waits without a tap device")
	}
	// The default network: the tap device made and closed, P told, and
	// the wait for slirp4netns just before the end.
	c := quickConfig(t)
	c.Tap = "tap0"
	if p, err = Compile(c); err != nil {
		t.Fatal(err)
	}
	check("tap", find("opening /dev/net/tun", 5), []want{
		{unix.SYS_OPENAT, 0, 0, 0, 0}, {unix.SYS_IOCTL, 0, 0, 0, 0}, {unix.SYS_IOCTL, 0, 0, 0, 0}, {unix.SYS_CLOSE, 0, 0, 0, 0}, {TrapReport, 0, 0, 0, 0},
	})
	if !p.Waits || indexOf(p, "waiting for slirp4netns") < indexOf(p, "pivot_root") {
		t.Errorf("Waits %v; the wait for slirp4netns at op %d, pivot_root at %d", p.Waits, indexOf(p, "waiting for slirp4netns"), indexOf(p, "pivot_root"))
	}
	// The working directory is made after pivot_root, one mkdir a level.
	check("cwd", find("creating the working directory /w/x", 2), []want{
		{unix.SYS_MKDIRAT, 0, 0, 0, unix.EEXIST}, {unix.SYS_MKDIRAT, 0, 0, 0, unix.EEXIST},
	})
	if i, j := indexOf(p, "pivot_root"), indexOf(p, "creating the working directory /w/x"); i < 0 || j < i {
		t.Errorf("the working directory is made at op %d, pivot_root is op %d", j, i)
	}
}

func indexOf(p *Program, name string) int {
	for i := range p.Ops {
		if p.Name(i) == name {
			return i
		}
	}
	return -1
}

func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"/bin/sh", nil, []string{"/bin/sh"}},
		{"./run", []string{"PATH=/bin"}, []string{"./run"}},
		{"sh", nil, strings.Split("/usr/local/sbin/sh /usr/local/bin/sh /usr/sbin/sh /usr/bin/sh /sbin/sh /bin/sh", " ")},
		{"sh", []string{"PATH=/a:/b", "PATH=/c::/d/"}, []string{"/c/sh", "sh", "/d/sh"}},
		{"sh", []string{"PATH="}, nil},
	} {
		if got := candidates(tc.name, tc.env); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("candidates(%q, %q) = %q, want %q", tc.name, tc.env, got, tc.want)
		}
	}
}
