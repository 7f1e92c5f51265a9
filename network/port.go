package network

import (
	"fmt"
	"strconv"
	"strings"
)

// Port is one -p [IP:]HOSTPORT:CTRPORT[/tcp|/udp].
type Port struct {
	HostIP   string // "" listens on all addresses
	HostPort int
	CtrPort  int
	Proto    string // "tcp" or "udp"
}

func (p Port) String() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.CtrPort, p.Proto)
}

// ParsePort parses one -p value. Ports below the host's unprivileged
// limit are checked when binding, where the kernel decides.
func ParsePort(s string) (Port, error) {
	p := Port{Proto: "tcp"}
	rest := s
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		p.Proto = rest[i+1:]
		rest = rest[:i]
		if p.Proto != "tcp" && p.Proto != "udp" {
			return Port{}, fmt.Errorf("-p %q: protocol %q (want tcp or udp)", s, p.Proto)
		}
	}
	var host, ctr string
	if strings.HasPrefix(rest, "[") { // [v6]:host:ctr
		end := strings.Index(rest, "]:")
		if end < 0 {
			return Port{}, fmt.Errorf("-p %q: want [IP:]HOSTPORT:CONTAINERPORT", s)
		}
		p.HostIP = rest[1:end]
		rest = rest[end+2:]
	}
	parts := strings.Split(rest, ":")
	switch {
	case len(parts) == 2:
		host, ctr = parts[0], parts[1]
	case len(parts) == 3 && p.HostIP == "":
		p.HostIP, host, ctr = parts[0], parts[1], parts[2]
	default:
		return Port{}, fmt.Errorf("-p %q: want [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]", s)
	}
	if p.HostIP != "" && !ValidIP(p.HostIP) {
		return Port{}, fmt.Errorf("-p %q: %q is not an IP address", s, p.HostIP)
	}
	var err error
	if p.HostPort, err = portNumber(host); err != nil {
		return Port{}, fmt.Errorf("-p %q: host port: %v", s, err)
	}
	if p.CtrPort, err = portNumber(ctr); err != nil {
		return Port{}, fmt.Errorf("-p %q: container port: %v", s, err)
	}
	return p, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return n, nil
}
