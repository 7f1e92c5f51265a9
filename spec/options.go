// Package spec turns the flags of `rl run` and an image's configuration into
// an OCI runtime-spec Spec (config.json), the way docker and podman merge
// them. Everything here is pure: no file is read and no syscall is made;
// what the host or the image provides comes in through Input.
package spec

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"rl/capability"
)

// Options are the parsed flags of `rl run` that shape the Spec.
type Options struct {
	Args       []string // CMD and its arguments (empty: the image's Cmd)
	Entrypoint *string  // --entrypoint; "" clears the image's entrypoint
	Env        []string // -e and --env-file, in command-line order, already K=V
	Workdir    string   // -w
	User       string   // -u
	GroupAdd   []string // --group-add
	Hostname   string   // --hostname
	Mounts     []Mount  // -v, --mount, --tmpfs in order
	Terminal   bool     // -t
	ReadOnly   bool     // --read-only
	Init       string   // --init: host path of the init binary, "" without --init
	KeepID     bool     // --userns=keep-id
	CapAdd     []string // --cap-add, canonical CAP_ names or "ALL"
	CapDrop    []string // --cap-drop
	Privileged bool
	NoNewPrivs bool // --security-opt no-new-privileges
	HostNet    bool // --network host: /sys is bound from the host, no net namespace
	// Cgroup: the container has a cgroup of its own (and a cgroup
	// namespace rooted there): cgroup2 is mounted at /sys/fs/cgroup, as
	// docker and podman do, read-only unless Privileged.
	Cgroup      bool
	OOMScoreAdj *int // --oom-score-adj
}

// Mount is one -v, --mount or --tmpfs request.
type Mount struct {
	Type        string // "bind" or "tmpfs"
	Source      string // absolute host path (bind)
	Destination string // absolute path in the container
	Options     []string
}

// ParseVolume parses -v HOST:CTR[:OPTIONS]. HOST must be an absolute path or
// start with "." (relative to cwd); named and anonymous volumes are refused
// because rl keeps no volume store. OPTIONS: ro, rw, z, Z (accepted and
// ignored: there is no SELinux relabelling in a user namespace), and the
// propagation modes.
func ParseVolume(v, cwd string) (Mount, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		if len(parts) == 1 && strings.HasPrefix(v, "/") {
			return Mount{}, fmt.Errorf("-v %s: anonymous volumes are not supported; use -v HOST:%s or --tmpfs %s", v, v, v)
		}
		return Mount{}, fmt.Errorf("-v %q: want HOST-PATH:CONTAINER-PATH[:ro|rw]", v)
	}
	host, ctr := parts[0], parts[1]
	switch {
	case host == "":
		return Mount{}, fmt.Errorf("-v %q: empty host path", v)
	case !strings.HasPrefix(host, "/") && !strings.HasPrefix(host, "."):
		return Mount{}, fmt.Errorf("-v %q: named volumes are not supported; give a host path (absolute, or starting with ./)", v)
	}
	if !strings.HasPrefix(host, "/") {
		host = filepath.Join(cwd, host)
	}
	if !path.IsAbs(ctr) {
		return Mount{}, fmt.Errorf("-v %q: container path %q is not absolute", v, ctr)
	}
	m := Mount{Type: "bind", Source: filepath.Clean(host), Destination: path.Clean(ctr), Options: []string{"rbind"}}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro", "rw":
				m.Options = append(m.Options, o)
			case "z", "Z":
			case "private", "rprivate", "shared", "rshared", "slave", "rslave":
				m.Options = append(m.Options, o)
			default:
				return Mount{}, fmt.Errorf("-v %q: unknown option %q (want ro, rw, z, Z)", v, o)
			}
		}
	}
	return m, nil
}

// ParseMount parses --mount type=bind|tmpfs,source=,target=,readonly,....
func ParseMount(v, cwd string) (Mount, error) {
	m := Mount{Type: "bind"}
	var ro bool
	var size, mode string
	for _, kv := range strings.Split(v, ",") {
		k, val, hasVal := strings.Cut(kv, "=")
		switch k {
		case "type":
			if val != "bind" && val != "tmpfs" {
				return Mount{}, fmt.Errorf("--mount %q: type %q is not supported (want bind or tmpfs)", v, val)
			}
			m.Type = val
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Destination = val
		case "readonly", "ro":
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return Mount{}, fmt.Errorf("--mount %q: %s=%q is not a boolean", v, k, val)
				}
				ro = b
			} else {
				ro = true
			}
		case "bind-propagation":
			m.Options = append(m.Options, val)
		case "tmpfs-size":
			size = val
		case "tmpfs-mode":
			mode = val
		case "z", "Z", "relabel":
		default:
			return Mount{}, fmt.Errorf("--mount %q: unknown key %q", v, k)
		}
	}
	if m.Destination == "" || !path.IsAbs(m.Destination) {
		return Mount{}, fmt.Errorf("--mount %q: target must be an absolute path", v)
	}
	m.Destination = path.Clean(m.Destination)
	switch m.Type {
	case "bind":
		if m.Source == "" {
			return Mount{}, fmt.Errorf("--mount %q: bind needs source=", v)
		}
		if !strings.HasPrefix(m.Source, "/") {
			m.Source = filepath.Join(cwd, m.Source)
		}
		m.Source = filepath.Clean(m.Source)
		m.Options = append([]string{"rbind"}, m.Options...)
		if ro {
			m.Options = append(m.Options, "ro")
		}
	case "tmpfs":
		if m.Source != "" {
			return Mount{}, fmt.Errorf("--mount %q: tmpfs takes no source", v)
		}
		m.Source = "tmpfs"
		m.Options = tmpfsOptions(ro, size, mode)
	}
	return m, nil
}

// ParseTmpfs parses --tmpfs PATH[:OPTIONS] (mount(8) tmpfs options).
func ParseTmpfs(v string) (Mount, error) {
	dst, opts, _ := strings.Cut(v, ":")
	if !path.IsAbs(dst) {
		return Mount{}, fmt.Errorf("--tmpfs %q: path must be absolute", v)
	}
	m := Mount{Type: "tmpfs", Source: "tmpfs", Destination: path.Clean(dst)}
	m.Options = []string{"rw", "nosuid", "nodev"}
	if opts != "" {
		m.Options = append(m.Options, strings.Split(opts, ",")...)
	}
	return m, nil
}

func tmpfsOptions(ro bool, size, mode string) []string {
	o := []string{"nosuid", "nodev"}
	if ro {
		o = append(o, "ro")
	}
	if size != "" {
		o = append(o, "size="+size)
	}
	if mode != "" {
		o = append(o, "mode="+mode)
	}
	return o
}

// ParseEnv expands one -e value: K=V as is, K alone takes the host's value
// (and is dropped when the host has none, as docker does).
func ParseEnv(v string, lookup func(string) (string, bool)) ([]string, error) {
	k, _, hasVal := strings.Cut(v, "=")
	if k == "" {
		return nil, fmt.Errorf("-e %q: empty variable name", v)
	}
	if strings.ContainsAny(k, " \t\n") {
		return nil, fmt.Errorf("-e %q: variable name contains whitespace", v)
	}
	if hasVal {
		return []string{v}, nil
	}
	if hv, ok := lookup(k); ok {
		return []string{k + "=" + hv}, nil
	}
	return nil, nil
}

// ParseEnvFile parses the content of an --env-file: one K=V or K per line,
// blank lines and lines starting with # ignored (docker's format: no
// quoting, no expansion).
func ParseEnvFile(name, content string, lookup func(string) (string, bool)) ([]string, error) {
	var out []string
	for i, line := range strings.Split(content, "\n") {
		line = strings.TrimLeft(line, " \t")
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := ParseEnv(line, lookup)
		if err != nil {
			return nil, fmt.Errorf("--env-file %s line %d: %v", name, i+1, err)
		}
		out = append(out, e...)
	}
	return out, nil
}

// MergeEnv merges environment lists; later entries win, order is kept by
// first appearance.
func MergeEnv(lists ...[]string) []string {
	idx := map[string]int{}
	var out []string
	for _, l := range lists {
		for _, e := range l {
			k, _, _ := strings.Cut(e, "=")
			if i, ok := idx[k]; ok {
				out[i] = e
				continue
			}
			idx[k] = len(out)
			out = append(out, e)
		}
	}
	return out
}

// DefaultCaps is docker's default capability set
// (moby/oci/caps/defaults.go), granted to the container's root.
var DefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// AllCaps are the capabilities rl knows by name, in the order of their
// numbers.
var AllCaps = capability.Names

// ParseCap canonicalises a --cap-add/--cap-drop value: "net_admin",
// "NET_ADMIN" and "CAP_NET_ADMIN" are the same; "ALL" is kept.
func ParseCap(v string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(v))
	if u == "ALL" {
		return u, nil
	}
	if !strings.HasPrefix(u, "CAP_") {
		u = "CAP_" + u
	}
	if _, ok := capability.Number(u); !ok {
		return "", fmt.Errorf("unknown capability %q", v)
	}
	return u, nil
}

// Caps computes the capability set from the defaults, --cap-add,
// --cap-drop and --privileged, as docker does: drops apply to the
// defaults, adds win over drops, ALL means every known capability.
func Caps(add, drop []string, privileged bool) []string {
	set := map[string]bool{}
	base := DefaultCaps
	if privileged {
		base = AllCaps
	}
	for _, c := range base {
		set[c] = true
	}
	for _, c := range drop {
		if c == "ALL" {
			set = map[string]bool{}
			continue
		}
		delete(set, c)
	}
	for _, c := range add {
		if c == "ALL" {
			for _, a := range AllCaps {
				set[a] = true
			}
			continue
		}
		set[c] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := capability.Number(out[i])
		b, _ := capability.Number(out[j])
		return a < b
	})
	return out
}
