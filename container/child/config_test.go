package child

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestConfigOf(t *testing.T) {
	adj := -5
	caps := &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}, Effective: []string{"CAP_KILL"}}
	user := specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{27}}
	mounts := []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}}
	full := &specs.Spec{
		Root:     &specs.Root{Path: "/r", Readonly: true},
		Hostname: "h",
		Mounts:   mounts,
		Process: &specs.Process{Args: []string{"sh"}, Env: []string{"A=1"}, Cwd: "/w", User: user,
			Capabilities: caps, NoNewPrivileges: true, OOMScoreAdj: &adj, Terminal: true},
		Linux: &specs.Linux{
			Namespaces:    []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}},
			MaskedPaths:   []string{"/proc/kcore"},
			ReadonlyPaths: []string{"/proc/sys"},
		},
		Annotations: map[string]string{BeforeExecAnnotation: "1"},
	}
	for _, tc := range []struct {
		name string
		in   *specs.Spec
		want Config
	}{
		{"every field", full, Config{Root: "/r", ReadOnly: true, Hostname: "h", Mounts: mounts, NetNS: true,
			MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"}, Args: []string{"sh"},
			Env: []string{"A=1"}, Cwd: "/w", User: user, Capabilities: caps, NoNewPrivs: true, OOMScoreAdj: &adj,
			Terminal: true, BeforeExec: true}},
		{"host network: no lo to bring up", &specs.Spec{Root: &specs.Root{Path: "/r"},
			Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}},
			Config{Root: "/r"}},
		{"empty", &specs.Spec{}, Config{}},
	} {
		if got := ConfigOf(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ConfigOf = %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	// A field added to Config must be filled by ConfigOf: the full Spec
	// leaves none of them zero (but Overlay, Tap and PasswdLine, which are
	// not in a Spec).
	v := reflect.ValueOf(ConfigOf(full))
	for i := 0; i < v.NumField(); i++ {
		if name := v.Type().Field(i).Name; v.Field(i).IsZero() && name != "Overlay" && name != "Tap" && name != "PasswdLine" {
			t.Errorf("ConfigOf leaves Config.%s zero", name)
		}
	}
}
