package spec

import (
	"errors"
	"fmt"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"rl/idmap"
)

// Input is everything Build needs: the flags, the image, and what rl
// learned about the host and the rootfs.
type Input struct {
	Options Options
	Image   Image
	ID      string // container id (64 hex)
	Rootfs  string // where the rootfs is mounted, as seen by the runtime
	// Contents of the image's /etc/passwd and /etc/group ("" if absent).
	Passwd, Group string
	// Host user, for --userns=keep-id.
	HostUID, HostGID uint32
	HostUser         string
	HostHome         string
	// Number of uids and gids in rl's user namespace (1 in single-uid mode).
	UIDs, GIDs uint32
	// Host files bind-mounted over /etc/hostname, /etc/hosts,
	// /etc/resolv.conf ("" leaves the image's file).
	HostnameFile, HostsFile, ResolvFile string
}

// Image is what Build uses of an image's configuration: the fields of OCI
// image-spec's ImageConfig of the same names. Not that type itself: its
// package links go-digest, which compiles regexps at init, and the rl
// users run (cmd/rl/front.go) parses flags with this package.
type Image struct {
	User       string
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
}

// DefaultPath is docker's PATH for images that set none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNoCommand is returned when neither the flags nor the image name a command.
var ErrNoCommand = errors.New("no command specified: the image has no Cmd or Entrypoint; give one after the image name")

// Build makes the runtime Spec of a container.
func Build(in Input) (*specs.Spec, error) {
	o := in.Options
	args, err := command(o, in.Image)
	if err != nil {
		return nil, err
	}
	if o.Init != "" {
		args = append([]string{"/dev/init", "--"}, args...)
	}
	user, err := processUser(in)
	if err != nil {
		return nil, err
	}
	hostname := o.Hostname
	if hostname == "" {
		hostname = in.ID[:12]
	}
	cwd := o.Workdir
	if cwd == "" {
		cwd = in.Image.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		if o.Workdir != "" {
			return nil, fmt.Errorf("-w %q: the working directory must be an absolute path", o.Workdir)
		}
		cwd = "/" + cwd
	}
	s := &specs.Spec{
		Version:  specs.Version,
		Hostname: hostname,
		Root:     &specs.Root{Path: in.Rootfs, Readonly: o.ReadOnly},
		Process: &specs.Process{
			Terminal:        o.Terminal,
			Args:            args,
			Env:             env(in, hostname, user),
			Cwd:             path.Clean(cwd),
			User:            specs.User{UID: user.UID, GID: user.GID, AdditionalGids: user.Additional},
			Capabilities:    capabilities(o, user.UID),
			NoNewPrivileges: o.NoNewPrivs,
			OOMScoreAdj:     o.OOMScoreAdj,
		},
		Mounts: mounts(in),
		Linux: &specs.Linux{
			Namespaces: Namespaces(o),
		},
		Annotations: map[string]string{"io.container.manager": "rl"},
	}
	s.Linux.UIDMappings, s.Linux.GIDMappings = IDMappings(o, in.HostUID, in.HostGID, in.UIDs, in.GIDs)
	if !o.Privileged {
		s.Linux.MaskedPaths = MaskedPaths
		s.Linux.ReadonlyPaths = ReadonlyPaths
	}
	return s, nil
}

// command merges the image's Entrypoint and Cmd with the flags exactly as
// docker does: --entrypoint replaces the entrypoint and drops the image's
// Cmd; arguments after the image replace Cmd.
func command(o Options, img Image) ([]string, error) {
	entry, cmd := img.Entrypoint, img.Cmd
	if o.Entrypoint != nil {
		entry, cmd = nil, nil
		if *o.Entrypoint != "" {
			entry = []string{*o.Entrypoint}
		}
	}
	if len(o.Args) > 0 {
		cmd = o.Args
	}
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 || args[0] == "" {
		return nil, ErrNoCommand
	}
	return args, nil
}

func processUser(in Input) (User, error) {
	o := in.Options
	spec := o.User
	if spec == "" && o.KeepID {
		spec = fmt.Sprintf("%d:%d", in.HostUID, in.HostGID)
	}
	if spec == "" {
		spec = in.Image.User
	}
	u, err := ResolveUser(spec, in.Passwd, in.Group, o.GroupAdd)
	if err != nil {
		return User{}, err
	}
	if o.KeepID && o.User == "" && u.Home == "" {
		u.Home = in.HostHome
	}
	return u, nil
}

// env: image Env, then PATH and HOSTNAME defaults, TERM for -t, HOME from
// passwd, then -e/--env-file in order (docker's precedence).
func env(in Input, hostname string, u User) []string {
	base := []string{"PATH=" + DefaultPath, "HOSTNAME=" + hostname}
	if in.Options.Terminal {
		base = append(base, "TERM=xterm")
	}
	home := u.Home
	if home == "" {
		home = "/"
	}
	e := MergeEnv(base, in.Image.Env, []string{"HOSTNAME=" + hostname}, in.Options.Env)
	for _, kv := range e {
		if strings.HasPrefix(kv, "HOME=") {
			return e
		}
	}
	return append(e, "HOME="+home)
}

// capabilities: root gets the set in bounding, effective and permitted;
// any other user gets it in the bounding set only, so that a setuid
// binary or file capabilities can use it (docker 20.10+ and podman).
func capabilities(o Options, uid uint32) *specs.LinuxCapabilities {
	caps := Caps(o.CapAdd, o.CapDrop, o.Privileged)
	c := &specs.LinuxCapabilities{Bounding: caps}
	if uid == 0 {
		c.Effective, c.Permitted = caps, caps
	}
	return c
}

// Namespaces are the namespaces of the container (those Build puts in the
// Spec). They follow from the flags alone: rl starts the container's
// first process with them before it has looked the image up.
func Namespaces(o Options) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace},
		{Type: specs.UTSNamespace}, {Type: specs.IPCNamespace}, {Type: specs.CgroupNamespace}}
	if !o.HostNet {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	if o.KeepID {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	return ns
}

// IDMappings are the id maps of the container's own user namespace, which
// it has with --userns=keep-id only: uids and gids are the sizes of rl's
// own maps.
func IDMappings(o Options, hostUID, hostGID, uids, gids uint32) (u, g []specs.LinuxIDMapping) {
	if !o.KeepID {
		return nil, nil
	}
	return LinuxIDMappings(idmap.KeepID(hostUID, uids)), LinuxIDMappings(idmap.KeepID(hostGID, gids))
}

// LinuxIDMappings is m in the runtime-spec's type.
func LinuxIDMappings(m []idmap.Mapping) []specs.LinuxIDMapping {
	out := make([]specs.LinuxIDMapping, len(m))
	for i, l := range m {
		out[i] = specs.LinuxIDMapping{ContainerID: l.ContainerID, HostID: l.HostID, Size: l.Size}
	}
	return out
}

// MaskedPaths are hidden from the container (bind of /dev/null over files,
// an empty read-only tmpfs over directories), as in docker's default.
var MaskedPaths = []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap"}

// ReadonlyPaths are made read-only.
var ReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// mounts: the kernel file systems first (in the order they nest), then the
// generated /etc files, then the user's mounts, which may cover any of
// them (docker lets -v override /etc/hosts).
func mounts(in Input) []specs.Mount {
	o := in.Options
	ms := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		// newinstance: the container's own pty numbering; no gid=5 option,
		// gid 5 may not exist in a single-uid namespace.
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
	}
	if o.HostNet {
		// sysfs can only be mounted by the owner of the net namespace;
		// with the host's network, bind the host's /sys read-only.
		ms = append(ms, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}})
	} else {
		ms = append(ms, specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}})
	}
	if o.Cgroup {
		cg := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup2", Source: "cgroup2", Options: []string{"nosuid", "noexec", "nodev", "ro"}}
		if o.Privileged {
			cg.Options[3] = "rw"
		}
		ms = append(ms, cg)
	}
	for _, f := range []struct{ dst, src string }{{"/etc/hostname", in.HostnameFile}, {"/etc/hosts", in.HostsFile}, {"/etc/resolv.conf", in.ResolvFile}} {
		if f.src != "" {
			ms = append(ms, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: []string{"bind", "nosuid", "nodev", "noexec"}})
		}
	}
	if o.Init != "" {
		ms = append(ms, specs.Mount{Destination: "/dev/init", Type: "bind", Source: o.Init, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	}
	for _, m := range o.Mounts {
		ms = append(ms, specs.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: m.Options})
	}
	return ms
}
