package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseVolume(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mount
		wantErr string
	}{
		{"/h:/c", Mount{"bind", "/h", "/c", []string{"rbind"}}, ""},
		{"/h/:/c/:ro", Mount{"bind", "/h", "/c", []string{"rbind", "ro"}}, ""},
		{"./x:/c:Z,rw", Mount{"bind", "/cwd/x", "/c", []string{"rbind", "rw"}}, ""},
		{"/h:/c:rw,rslave", Mount{"bind", "/h", "/c", []string{"rbind", "rw", "rslave"}}, ""},
		{"/c", Mount{}, "anonymous volumes are not supported"},
		{"vol:/c", Mount{}, "named volumes are not supported"},
		{"/h:c", Mount{}, "is not absolute"},
		{"/h:/c:xx", Mount{}, `unknown option "xx"`},
		{":/c", Mount{}, "empty host path"},
		{"/a:/b:ro:x", Mount{}, "want HOST-PATH:CONTAINER-PATH"},
	} {
		got, err := ParseVolume(tc.in, "/cwd")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseVolume(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseVolume(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseMount(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mount
		wantErr string
	}{
		{"type=bind,source=/h,target=/c", Mount{"bind", "/h", "/c", []string{"rbind"}}, ""},
		{"type=bind,src=rel,dst=/c,readonly", Mount{"bind", "/cwd/rel", "/c", []string{"rbind", "ro"}}, ""},
		{"type=bind,src=/h,dst=/c,ro=false", Mount{"bind", "/h", "/c", []string{"rbind"}}, ""},
		{"type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700", Mount{"tmpfs", "tmpfs", "/t", []string{"nosuid", "nodev", "size=1m", "mode=700"}}, ""},
		{"type=volume,target=/t", Mount{}, "not supported"},
		{"type=bind,target=/t", Mount{}, "needs source"},
		{"type=bind,source=/h", Mount{}, "target must be"},
		{"type=bind,source=/h,target=/c,colour=red", Mount{}, `unknown key "colour"`},
		{"type=bind,source=/h,target=/c,ro=maybe", Mount{}, "not a boolean"},
		{"type=tmpfs,source=/x,target=/c", Mount{}, "takes no source"},
	} {
		got, err := ParseMount(tc.in, "/cwd")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseMount(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseMount(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseEnv(t *testing.T) {
	host := map[string]string{"HOSTVAR": "h v"}
	lookup := func(k string) (string, bool) { v, ok := host[k]; return v, ok }
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"X=1", []string{"X=1"}, false},
		{"X=", []string{"X="}, false},
		{"X=a=b", []string{"X=a=b"}, false},
		{"HOSTVAR", []string{"HOSTVAR=h v"}, false},
		{"UNSET", nil, false},
		{"=1", nil, true},
		{"A B=1", nil, true},
	} {
		got, err := ParseEnv(tc.in, lookup)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseEnv(%q) = %q, %v", tc.in, got, err)
		}
	}
	got, err := ParseEnvFile("f", "# comment\n\nA=1\r\n  B=two words\nHOSTVAR\n", lookup)
	if err != nil || !reflect.DeepEqual(got, []string{"A=1", "B=two words", "HOSTVAR=h v"}) {
		t.Errorf("ParseEnvFile = %q, %v", got, err)
	}
	if _, err := ParseEnvFile("f", "ok=1\n=bad\n", lookup); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ParseEnvFile bad line: %v", err)
	}
}

func TestCaps(t *testing.T) {
	has := func(l []string, c string) bool {
		for _, x := range l {
			if x == c {
				return true
			}
		}
		return false
	}
	d := Caps(nil, nil, false)
	if len(d) != len(DefaultCaps) || !has(d, "CAP_CHOWN") || has(d, "CAP_SYS_ADMIN") {
		t.Errorf("default caps = %v", d)
	}
	c := Caps([]string{"CAP_SYS_ADMIN"}, []string{"CAP_CHOWN"}, false)
	if !has(c, "CAP_SYS_ADMIN") || has(c, "CAP_CHOWN") {
		t.Errorf("add/drop = %v", c)
	}
	c = Caps([]string{"CAP_KILL"}, []string{"ALL"}, false)
	if !reflect.DeepEqual(c, []string{"CAP_KILL"}) {
		t.Errorf("drop ALL add KILL = %v", c)
	}
	if c := Caps(nil, nil, true); len(c) != len(AllCaps) {
		t.Errorf("privileged = %d caps", len(c))
	}
	for in, want := range map[string]string{"net_admin": "CAP_NET_ADMIN", "CAP_KILL": "CAP_KILL", "all": "ALL"} {
		if got, err := ParseCap(in); err != nil || got != want {
			t.Errorf("ParseCap(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCap("frobnicate"); err == nil {
		t.Error("ParseCap accepted an unknown capability")
	}
}

const passwd = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:u:/home/user:/bin/sh\nbad line\n"
const group = "root:x:0:\nuser:x:1000:\nwheel:x:10:user,other\naudio:x:29:user\n"

func TestResolveUser(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		add      []string
		want     User
		wantErr  string
		wantHome string
	}{
		{"", nil, User{UID: 0, GID: 0, Home: "/root", Name: "root"}, "", ""},
		{"user", nil, User{UID: 1000, GID: 1000, Additional: []uint32{10, 29}, Home: "/home/user", Name: "user"}, "", ""},
		{"1000", nil, User{UID: 1000, GID: 1000, Additional: []uint32{10, 29}, Home: "/home/user", Name: "user"}, "", ""},
		{"1000:10", nil, User{UID: 1000, GID: 10, Home: "/home/user", Name: "user", ExplicitGroup: true}, "", ""},
		{"user:audio", []string{"10", "wheel"}, User{UID: 1000, GID: 29, Additional: []uint32{10}, Home: "/home/user", Name: "user", ExplicitGroup: true}, "", ""},
		{"4242", nil, User{UID: 4242, GID: 0, MissingInFiles: true}, "", ""},
		{"nobody", nil, User{}, "unable to find user nobody", ""},
		{"0:nogroup", nil, User{}, "unable to find group nogroup", ""},
		{"0", []string{"nogroup"}, User{}, "--group-add", ""},
	} {
		got, err := ResolveUser(tc.spec, passwd, group, tc.add)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ResolveUser(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ResolveUser(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}

const id64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestBuildCommand(t *testing.T) {
	empty := ""
	sh := "/bin/sh"
	for _, tc := range []struct {
		name  string
		img   Image
		entry *string
		args  []string
		want  []string
		err   bool
	}{
		{"image cmd", Image{Cmd: []string{"sh"}}, nil, nil, []string{"sh"}, false},
		{"args replace cmd", Image{Cmd: []string{"sh"}}, nil, []string{"true"}, []string{"true"}, false},
		{"entrypoint + cmd", Image{Entrypoint: []string{"/e"}, Cmd: []string{"a"}}, nil, nil, []string{"/e", "a"}, false},
		{"entrypoint + args", Image{Entrypoint: []string{"/e"}, Cmd: []string{"a"}}, nil, []string{"b"}, []string{"/e", "b"}, false},
		{"--entrypoint drops image cmd", Image{Entrypoint: []string{"/e"}, Cmd: []string{"a"}}, &sh, nil, []string{"/bin/sh"}, false},
		{"--entrypoint + args", Image{Cmd: []string{"a"}}, &sh, []string{"-c", "x"}, []string{"/bin/sh", "-c", "x"}, false},
		{"--entrypoint '' + args", Image{Entrypoint: []string{"/e"}}, &empty, []string{"ls"}, []string{"ls"}, false},
		{"nothing", Image{}, nil, nil, nil, true},
	} {
		s, err := Build(Input{Options: Options{Args: tc.args, Entrypoint: tc.entry}, Image: tc.img, ID: id64, UIDs: 1, GIDs: 1})
		if tc.err {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(s.Process.Args, tc.want) {
			t.Errorf("%s: args = %q, %v; want %q", tc.name, s.Process.Args, err, tc.want)
		}
	}
}

func TestBuild(t *testing.T) {
	in := Input{
		Options: Options{Args: []string{"id"}, Env: []string{"X=1", "PATH=/p"}, Terminal: true},
		Image:   Image{Env: []string{"PATH=/img", "Y=2"}, WorkingDir: "/work", User: "user"},
		ID:      id64, Rootfs: "/r", Passwd: passwd, Group: group, UIDs: 65537, GIDs: 65537,
		HostnameFile: "/run/h",
	}
	s, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := []string{"PATH=/p", "HOSTNAME=0123456789ab", "TERM=xterm", "Y=2", "X=1", "HOME=/home/user"}
	if !reflect.DeepEqual(s.Process.Env, wantEnv) {
		t.Errorf("env = %q, want %q", s.Process.Env, wantEnv)
	}
	if s.Process.Cwd != "/work" || s.Process.User.UID != 1000 || s.Hostname != "0123456789ab" || !s.Process.Terminal {
		t.Errorf("process = %+v hostname %q", s.Process, s.Hostname)
	}
	if len(s.Process.Capabilities.Effective) != 0 || len(s.Process.Capabilities.Bounding) != len(DefaultCaps) {
		t.Errorf("non-root caps = %+v", s.Process.Capabilities)
	}
	if len(s.Linux.MaskedPaths) == 0 || s.Linux.UIDMappings != nil {
		t.Errorf("linux = %+v", s.Linux)
	}
	found := false
	for _, m := range s.Mounts {
		if m.Destination == "/etc/hostname" && m.Source == "/run/h" {
			found = true
		}
		if m.Destination == "/etc/hosts" {
			t.Errorf("unexpected /etc/hosts mount without a file")
		}
	}
	if !found {
		t.Errorf("no /etc/hostname mount in %+v", s.Mounts)
	}

	// keep-id: the host user inside, with a nested map.
	in.Options = Options{Args: []string{"id"}, KeepID: true}
	in.HostUID, in.HostGID, in.HostHome = 1000, 1000, "/home/me"
	in.Image.User = ""
	s, err = Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if s.Process.User.UID != 1000 || s.Linux.UIDMappings[0].ContainerID != 1000 || s.Linux.UIDMappings[0].HostID != 0 {
		t.Errorf("keep-id: user %+v map %+v", s.Process.User, s.Linux.UIDMappings)
	}
	hasUserNS := false
	for _, n := range s.Linux.Namespaces {
		hasUserNS = hasUserNS || n.Type == "user"
	}
	if !hasUserNS {
		t.Error("keep-id without a user namespace")
	}

	// Errors: relative -w, unknown user.
	in.Options = Options{Args: []string{"id"}, Workdir: "rel"}
	if _, err := Build(in); err == nil {
		t.Error("relative -w accepted")
	}
	in.Options = Options{Args: []string{"id"}, User: "ghost"}
	if _, err := Build(in); err == nil {
		t.Error("unknown user accepted")
	}
	// Privileged: no masked paths, all caps; host network: /sys bound.
	in.Options = Options{Args: []string{"id"}, Privileged: true, HostNet: true}
	s, _ = Build(in)
	if s.Linux.MaskedPaths != nil || len(s.Process.Capabilities.Effective) != len(AllCaps) {
		t.Errorf("privileged: %+v", s.Linux)
	}
	for _, n := range s.Linux.Namespaces {
		if n.Type == "network" {
			t.Error("host network with a net namespace")
		}
	}
}
