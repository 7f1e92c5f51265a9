package container

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSpawn starts a shell as I through spawn, in a user and a pid
// namespace of its own, and reads what it sees over the socket: the maps
// it wrote itself (or none, for newuidmap to write), its capabilities, an
// empty signal mask, its files.
func TestSpawn(t *testing.T) {
	if os.Getuid() == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("running as root: run the suite through `make test`, which re-runs it as the test user")
		}
		t.Skip("running as root; `make test` runs this as the unprivileged test user")
	}
	// I is `sh __init`: the script below, in the working directory.
	dir := t.TempDir()
	script := `exec >&3
cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
grep -E '^(SigBlk|CapEff|CapAmb):' /proc/self/status
read -r pid comm state ppid pgrp sid rest </proc/self/stat
[ "$pid" = "$sid" ] && echo "pid $$ session leader stdin $(readlink /proc/self/fd/0)"
`
	if err := os.WriteFile(filepath.Join(dir, InitCommand), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	uid, gid := strconv.Itoa(os.Getuid()), strconv.Itoa(os.Getgid())
	one := func(ctr, host int) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: uint32(ctr), HostID: uint32(host), Size: 1}}
	}
	ns := []specs.LinuxNamespace{{Type: specs.UserNamespace}, {Type: specs.PIDNamespace}}
	for _, tc := range []struct {
		name string
		c    Config
		want []string
	}{
		{"root inside", Config{UIDMappings: one(0, os.Getuid()), GIDMappings: one(0, os.Getgid()), DenySetgroups: true},
			[]string{`^\s*0\s+` + uid + `\s+1\n\s*0\s+` + gid + `\s+1\ndeny\n`, `CapAmb:\s+0+\n`}},
		{"own ids inside", Config{UIDMappings: one(os.Getuid(), os.Getuid()), GIDMappings: one(os.Getgid(), os.Getgid()), DenySetgroups: true},
			[]string{`^\s*` + uid + `\s+` + uid + `\s+1\n`, `CapAmb:\s+[0-9a-f]*[1-9a-f][0-9a-f]*\n`}},
		{"unmapped", Config{},
			[]string{`^allow\n`, `CapAmb:\s+[0-9a-f]*[1-9a-f][0-9a-f]*\n`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.Namespaces, c.Init, c.Argv0 = ns, "/bin/sh", "sh"
			if !selfMapped(c) {
				t.Fatal("selfMapped: false")
			}
			ctr, err := Start(c)
			if err != nil {
				t.Fatal(err)
			}
			defer ctr.Close()
			out, err := io.ReadAll(ctr.sock)
			if err != nil {
				t.Fatal(err)
			}
			ctr.waited = true
			if st, err := ctr.proc.Wait(); err != nil || st != 0 {
				t.Fatalf("sh: status %d %v\n%s", st, err, out)
			}
			got := string(out)
			want := append(tc.want, `SigBlk:\s+0+\n`, `CapEff:\s+[0-9a-f]*[1-9a-f][0-9a-f]*\n`, `pid 1 session leader stdin /dev/null\n`)
			for _, w := range want {
				if !regexp.MustCompile(w).MatchString(got) {
					t.Errorf("output does not match %q:\n%s", w, got)
				}
			}
		})
	}
	t.Run("exec fails", func(t *testing.T) {
		_, err := Start(Config{Namespaces: ns, Init: filepath.Join(dir, "missing")})
		if err == nil || !strings.Contains(err.Error(), "executing rl: no such file or directory") {
			t.Fatalf("err = %v", err)
		}
	})
}
