// Package network gives a container its network: a private network
// namespace connected to the outside through slirp4netns (a user-space
// TCP/IP stack, no root and no bridge needed), the host's network, or
// none (only lo). It also writes the container's /etc/hosts and
// /etc/resolv.conf. The content functions are pure and table-tested.
package network

import (
	"fmt"
	"os/exec"
	"strings"
)

// Mode kinds.
const (
	SlirpMode = "slirp4netns"
	Host      = "host"
	None      = "none"
)

// Mode is a parsed --network value.
type Mode struct {
	Kind              string
	AllowHostLoopback bool // slirp4netns:allow_host_loopback=true
	// Defaulted is set when the user gave no --network.
	Defaulted bool
}

// Addresses inside slirp4netns's default 10.0.2.0/24 network
// (slirp4netns(1)).
const (
	SlirpGateway   = "10.0.2.2" // the host, when allow_host_loopback is set
	SlirpDNS       = "10.0.2.3"
	SlirpGuestAddr = "10.0.2.100"
)

// ParseMode parses --network. "" means the default, slirp4netns.
func ParseMode(s string) (Mode, error) {
	if s == "" {
		return Mode{Kind: SlirpMode, Defaulted: true}, nil
	}
	kind, opts, _ := strings.Cut(s, ":")
	switch kind {
	case Host, None:
		if opts != "" {
			return Mode{}, fmt.Errorf("--network %s takes no options", kind)
		}
		return Mode{Kind: kind}, nil
	case SlirpMode, "private", "bridge":
		m := Mode{Kind: SlirpMode}
		if opts == "" {
			return m, nil
		}
		for _, o := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(o, "=")
			switch {
			case k == "allow_host_loopback" && (v == "true" || v == ""):
				m.AllowHostLoopback = true
			case k == "allow_host_loopback" && v == "false":
			default:
				return Mode{}, fmt.Errorf("--network %s: unknown option %q (want allow_host_loopback=true|false)", kind, o)
			}
		}
		return m, nil
	case "pasta":
		return Mode{}, &hintError{fmt.Errorf("--network pasta: not supported by rl (Debian 12's pasta is unreliable)"), "use the default, --network slirp4netns"}
	}
	return Mode{}, fmt.Errorf("--network %q: unknown network mode (want slirp4netns, host or none)", s)
}

// Check says whether the helper for m is installed.
func Check(m Mode) error {
	if m.Kind != SlirpMode {
		return nil
	}
	if _, err := exec.LookPath("slirp4netns"); err != nil {
		return &hintError{fmt.Errorf("slirp4netns not found: the default network needs it"),
			"install it (apt-get install slirp4netns), or run with --network none or --network host"}
	}
	return nil
}

// HostEntry is one --add-host NAME:IP.
type HostEntry struct{ Name, IP string }

// ParseAddHost parses --add-host NAME:IP (IPv6 addresses keep their colons).
func ParseAddHost(s string) (HostEntry, error) {
	name, ip, ok := strings.Cut(s, ":")
	if !ok || name == "" || ip == "" {
		return HostEntry{}, fmt.Errorf("--add-host %q: want NAME:IP", s)
	}
	ip = strings.Trim(ip, "[]")
	if !ValidIP(ip) {
		return HostEntry{}, fmt.Errorf("--add-host %q: %q is not an IP address", s, ip)
	}
	return HostEntry{name, ip}, nil
}

// HostsInput is what goes into /etc/hosts.
type HostsInput struct {
	Mode     Mode
	Hostname string
	Extra    []HostEntry
	HostFile string // the host's /etc/hosts (for --network host)
}

// Hosts returns the content of the container's /etc/hosts.
func Hosts(in HostsInput) string {
	var b strings.Builder
	if in.Mode.Kind == Host {
		b.WriteString(in.HostFile)
		if in.HostFile != "" && !strings.HasSuffix(in.HostFile, "\n") {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	}
	for _, e := range in.Extra {
		fmt.Fprintf(&b, "%s\t%s\n", e.IP, e.Name)
	}
	switch in.Mode.Kind {
	case SlirpMode:
		fmt.Fprintf(&b, "%s\t%s\n", SlirpGuestAddr, in.Hostname)
		if in.Mode.AllowHostLoopback {
			fmt.Fprintf(&b, "%s\thost.containers.internal host.docker.internal\n", SlirpGateway)
		}
	case None:
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", in.Hostname)
	case Host:
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", in.Hostname)
	}
	return b.String()
}

// ResolvInput is what goes into /etc/resolv.conf.
type ResolvInput struct {
	Mode     Mode
	HostFile string // the host's /etc/resolv.conf
	DNS      []string
	Search   []string
	Options  []string
}

// Resolv returns the content of the container's /etc/resolv.conf: the
// host's search and options, and its name servers, except that with
// slirp4netns loopback servers (unreachable from the container) are
// replaced by slirp's forwarder; --dns, --dns-search, --dns-option win.
func Resolv(in ResolvInput) string {
	var servers, search, options []string
	for _, line := range strings.Split(in.HostFile, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "nameserver":
			servers = append(servers, f[1])
		case "search", "domain":
			search = f[1:]
		case "options":
			options = append(options, f[1:]...)
		}
	}
	if in.Mode.Kind == SlirpMode {
		// slirp4netns forwards DNS to the host's resolvers, loopback
		// ones included.
		servers = []string{SlirpDNS}
	}
	if len(in.DNS) > 0 {
		servers = in.DNS
	}
	if len(in.Search) > 0 {
		search = in.Search
		if len(search) == 1 && search[0] == "." {
			search = nil
		}
	}
	if len(in.Options) > 0 {
		options = in.Options
	}
	var b strings.Builder
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.String()
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }
