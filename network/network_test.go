package network

import (
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mode
		err  string
	}{
		{in: "", want: Mode{Kind: SlirpMode, Defaulted: true}},
		{in: "slirp4netns", want: Mode{Kind: SlirpMode}},
		{in: "private", want: Mode{Kind: SlirpMode}},
		{in: "bridge", want: Mode{Kind: SlirpMode}},
		{in: "slirp4netns:allow_host_loopback=true", want: Mode{Kind: SlirpMode, AllowHostLoopback: true}},
		{in: "slirp4netns:allow_host_loopback", want: Mode{Kind: SlirpMode, AllowHostLoopback: true}},
		{in: "slirp4netns:allow_host_loopback=false", want: Mode{Kind: SlirpMode}},
		{in: "host", want: Mode{Kind: Host}},
		{in: "none", want: Mode{Kind: None}},
		{in: "host:x", err: "takes no options"},
		{in: "slirp4netns:mtu=1500", err: `unknown option "mtu=1500"`},
		{in: "pasta", err: "not supported"},
		{in: "container:abc", err: "unknown network mode"},
	} {
		got, err := ParseMode(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseMode(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMode(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Port
		err  string
	}{
		{in: "8080:80", want: Port{HostPort: 8080, CtrPort: 80, Proto: "tcp"}},
		{in: "8080:80/tcp", want: Port{HostPort: 8080, CtrPort: 80, Proto: "tcp"}},
		{in: "5353:53/udp", want: Port{HostPort: 5353, CtrPort: 53, Proto: "udp"}},
		{in: "127.0.0.1:8080:80", want: Port{HostIP: "127.0.0.1", HostPort: 8080, CtrPort: 80, Proto: "tcp"}},
		{in: "[::1]:8080:80/udp", want: Port{HostIP: "::1", HostPort: 8080, CtrPort: 80, Proto: "udp"}},
		{in: "80", err: "want [IP:]HOSTPORT:CONTAINERPORT"},
		{in: "8080:80/sctp", err: `protocol "sctp"`},
		{in: "host:8080:80", err: "is not an IP address"},
		{in: "0:80", err: "host port"},
		{in: "8080:65536", err: "container port"},
		{in: "a:b", err: "not a port number"},
		{in: "[::1:8080:80", err: "want [IP:]HOSTPORT"},
		{in: "1.2.3.4:5:6:7", err: "want [IP:]HOSTPORT"},
	} {
		got, err := ParsePort(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePort(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	if s := (Port{HostPort: 1, CtrPort: 2, Proto: "udp"}).String(); s != "0.0.0.0:1->2/udp" {
		t.Errorf("Port.String() = %q", s)
	}
}

func TestParseAddHost(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want HostEntry
		bad  bool
	}{
		{in: "db:10.0.0.5", want: HostEntry{"db", "10.0.0.5"}},
		{in: "v6:[2001:db8::1]", want: HostEntry{"v6", "2001:db8::1"}},
		{in: "v6:2001:db8::1", want: HostEntry{"v6", "2001:db8::1"}},
		{in: "db", bad: true},
		{in: ":10.0.0.5", bad: true},
		{in: "db:", bad: true},
		{in: "db:not-an-ip", bad: true},
	} {
		got, err := ParseAddHost(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseAddHost(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestHosts(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   HostsInput
		want string
	}{
		{name: "slirp", in: HostsInput{Mode: Mode{Kind: SlirpMode}, Hostname: "c1", Extra: []HostEntry{{"db", "10.1.1.1"}}},
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.1.1\tdb\n10.0.2.100\tc1\n"},
		{name: "slirp with host loopback", in: HostsInput{Mode: Mode{Kind: SlirpMode, AllowHostLoopback: true}, Hostname: "c1"},
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.2.100\tc1\n10.0.2.2\thost.containers.internal host.docker.internal\n"},
		{name: "none", in: HostsInput{Mode: Mode{Kind: None}, Hostname: "c1"},
			want: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tc1\n"},
		{name: "host keeps the host's file", in: HostsInput{Mode: Mode{Kind: Host}, Hostname: "c1", HostFile: "127.0.0.1 localhost\n10.9.9.9 nas"},
			want: "127.0.0.1 localhost\n10.9.9.9 nas\n127.0.1.1\tc1\n"},
	} {
		if got := Hosts(tc.in); got != tc.want {
			t.Errorf("%s: Hosts() =\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

func TestResolv(t *testing.T) {
	host := "# comment\nnameserver 127.0.0.53\nnameserver 192.168.1.1\nsearch corp.example lab.example\noptions edns0 trust-ad\n"
	for _, tc := range []struct {
		name string
		in   ResolvInput
		want string
	}{
		{name: "slirp: the forwarder replaces all servers",
			in:   ResolvInput{Mode: Mode{Kind: SlirpMode}, HostFile: host},
			want: "search corp.example lab.example\nnameserver 10.0.2.3\noptions edns0 trust-ad\n"},
		{name: "host: the host's servers",
			in:   ResolvInput{Mode: Mode{Kind: Host}, HostFile: host},
			want: "search corp.example lab.example\nnameserver 127.0.0.53\nnameserver 192.168.1.1\noptions edns0 trust-ad\n"},
		{name: "flags win",
			in:   ResolvInput{Mode: Mode{Kind: SlirpMode}, HostFile: host, DNS: []string{"9.9.9.9"}, Search: []string{"a.example"}, Options: []string{"ndots:2"}},
			want: "search a.example\nnameserver 9.9.9.9\noptions ndots:2\n"},
		{name: "--dns-search . clears the search list",
			in:   ResolvInput{Mode: Mode{Kind: None}, HostFile: host, Search: []string{"."}},
			want: "nameserver 127.0.0.53\nnameserver 192.168.1.1\noptions edns0 trust-ad\n"},
		{name: "empty host file", in: ResolvInput{Mode: Mode{Kind: None}}, want: ""},
	} {
		if got := Resolv(tc.in); got != tc.want {
			t.Errorf("%s: Resolv() =\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

func TestValidIP(t *testing.T) {
	for s, want := range map[string]bool{
		"10.0.2.2": true, "127.0.0.1": true, "::1": true, "fe80::1": true, "::ffff:1.2.3.4": true,
		"": false, "1.2.3": false, "1.2.3.256": false, "01.2.3.4": false, "fe80::1%eth0": false, "host": false, "[::1]": false,
	} {
		if got := ValidIP(s); got != want {
			t.Errorf("ValidIP(%q) = %v, want %v", s, got, want)
		}
	}
}
