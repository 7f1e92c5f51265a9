package child

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestWire round-trips Configs through WriteConfig and ReadConfig, and
// checks that ReadConfig reads nothing past its message.
func TestWire(t *testing.T) {
	adj, umask := -5, uint32(0o22)
	odd := []string{"", "a  b", `"q"`, "new\nline", "tab\t", `back\`, "nul\x00", "ünï", "\xff"}
	full := Config{Root: "/r oot", ReadOnly: true, Hostname: "h",
		Overlay: &Overlay{Upper: "/d/upper", Work: "/d/w\nork", Lowers: []string{"/l 2", "/l1"}}, Tap: "tap0",
		PasswdLine: "u:x:1000:1000::/home/u:/bin/sh\n",
		Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/x y", Type: "bind", Source: "/src\n", Options: []string{"rbind", "ro"}}},
		NetNS: true, MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"},
		Args: odd, Env: []string{"A=1", "B= two "}, Cwd: "/w",
		User: specs.User{UID: 1000, GID: 100, Umask: &umask, AdditionalGids: []uint32{27, 4294967295}, Username: "u s"},
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_KILL"}, Effective: []string{},
			Ambient: []string{"CAP_NET_RAW"}},
		NoNewPrivs: true, OOMScoreAdj: &adj, Terminal: true, BeforeExec: true}
	for _, c := range []Config{full, {}, {Args: []string{"true"}, Capabilities: &specs.LinuxCapabilities{}}} {
		var buf bytes.Buffer
		if err := WriteConfig(&buf, c); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("NEXT") // what follows on the socket
		got, err := ReadConfig(&buf)
		if err != nil {
			t.Fatalf("ReadConfig: %v", err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
		}
		if rest, _ := io.ReadAll(&buf); string(rest) != "NEXT" {
			t.Errorf("ReadConfig read past its message: %q left", rest)
		}
	}
	// Id-mapped mounts are not made by rl: refused, not dropped.
	bad := Config{Mounts: []specs.Mount{{Destination: "/m", UIDMappings: []specs.LinuxIDMapping{{Size: 1}}}}}
	if err := WriteConfig(io.Discard, bad); err == nil {
		t.Errorf("WriteConfig took a mount with id mappings")
	}
	for _, msg := range []string{"", "rl-config\n", "rl-config -1\n", "rl-config 99999999999\n", "rl-config 10\nroot \"/\"",
		"rl-config 8\nwhat \"x\"\n", "rl-config 9\nuser \"u\"\n", "rl-config 12\ncap \"all\" \"\"\n",
		"rl-config 16\noverlay \"u\" \"w\"\n", "garbage that never ends with a newline"} {
		if _, err := ReadConfig(strings.NewReader(msg)); err == nil {
			t.Errorf("ReadConfig(%q) succeeded", msg)
		}
	}
}
