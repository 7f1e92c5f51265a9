package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"rl/cgroupv2"
	"rl/idmap"
	"rl/network"
	"rl/spec"
	"rl/userns"
)

func TestDirectWhyNot(t *testing.T) {
	none := network.Mode{Kind: "none"}
	for _, tc := range []struct {
		name   string
		cfg    runConfig
		kernel string
		env    string
		want   string // a part of the reason; "" for a direct start
	}{
		{"plain", runConfig{Network: none}, "6.1.0-13-amd64", "", ""},
		{"host network", runConfig{Network: network.Mode{Kind: "host"}}, "5.11.0", "native", ""},
		{"-i", runConfig{Network: none, Flags: &runFlags{interactive: true}}, "6.18.44-fc", "", ""},
		{"the default network", runConfig{Network: network.Mode{Kind: network.SlirpMode}}, "6.1", "", ""},
		{"-p", runConfig{Network: network.Mode{Kind: network.SlirpMode}, Publish: []network.Port{{}}}, "6.1", "", "-p"},
		{"limits", runConfig{Network: none, Cgroup: true, Limits: &cgroupv2.Limits{}}, "6.1", "", ""},
		{"--cpuset-cpus", runConfig{Network: none, Cgroup: true, Limits: &cgroupv2.Limits{CpusetCPUs: "1"}}, "6.1", "", "cpuset"},
		{"--rootfs, old kernel, fuse asked for", runConfig{Network: none, Rootfs: "/r"}, "4.18", "fuse", ""},
		{"--rootfs -p", runConfig{Network: none, Rootfs: "/r", Publish: []network.Port{{}}}, "6.1", "", "-p"},
		{"keep-id", runConfig{Network: none, Opts: spec.Options{KeepID: true}}, "6.1", "", ""},
		{"-t", runConfig{Network: none, Opts: spec.Options{Terminal: true}}, "6.1", "", ""},
		{"--dry-run", runConfig{Network: none, Flags: &runFlags{dryRun: true}}, "6.1", "", "--dry-run"},
		{"fuse-overlayfs asked for", runConfig{Network: none}, "6.1", "fuse", "RL_OVERLAY=fuse"},
		{"Linux 5.10", runConfig{Network: none}, "5.10.0-28-amd64", "", "userxattr"},
		{"Linux 4.18 (RHEL 8)", runConfig{Network: none}, "4.18.0-513.el8.x86_64", "", "userxattr"},
		{"an unreadable release", runConfig{Network: none}, "", "", "userxattr"},
	} {
		if tc.cfg.Flags == nil {
			tc.cfg.Flags = &runFlags{}
		}
		got := directWhyNot(&tc.cfg, tc.kernel, tc.env)
		if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: directWhyNot = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	for release, want := range map[string]bool{"5.11": true, "5.11.0-1-amd64": true, "5.10.200": false, "6.0": true,
		"4.19.0": false, "10.1": true, "5": false, "": false, "x.y": false} {
		if kernelAtLeast(release, 5, 11) != want {
			t.Errorf("kernelAtLeast(%q, 5, 11) = %v", release, !want)
		}
	}
}

// TestRemoveDir removes what a container can leave in its directory
// without privileges: directories without permissions, a tree deeper
// than PATH_MAX with one of those at the bottom, and a symlink out of it,
// which is removed and not followed.
func TestRemoveDir(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "ctr")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{"work/work/incompat/volatile", "upper/locked/in", "upper/readonly"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "keep"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "upper/readonly/f"), []byte("x"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "upper/out"))
	// A deep tree, made by fd: its path is longer than PATH_MAX.
	fd, err := unix.Open(filepath.Join(dir, "upper"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("d", 200)
	for i := 0; i < 30; i++ {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	unix.Mkdirat(fd, "bottom", 0o755)
	if f, err := unix.Openat(fd, "bottom/f", unix.O_CREAT|unix.O_WRONLY, 0o644); err == nil {
		unix.Close(f)
	}
	unix.Fchmodat(fd, "bottom", 0, 0)
	unix.Close(fd)
	os.Chmod(filepath.Join(dir, "work/work"), 0)
	os.Chmod(filepath.Join(dir, "upper/locked"), 0)
	os.Chmod(filepath.Join(dir, "upper/readonly"), 0o500)
	if err := removeDir(dir); err != nil {
		t.Fatalf("removeDir: %v", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("removeDir followed a symlink out: %v", err)
	}
}

// TestRemoveDirTwice: two runs may collect the same .dead-* directory
// of a killed run (setAsideStale) and remove it at once; neither may fail
// on what the other removed first.
func TestRemoveDirTwice(t *testing.T) {
	base := t.TempDir()
	for round := 0; round < 50; round++ {
		dir := filepath.Join(base, ".dead-ctr")
		for i := 0; i < 20; i++ {
			d := filepath.Join(dir, "upper", strconv.Itoa(i), "a", "b")
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(d, "f"), nil, 0o644)
		}
		errs := make(chan error, 2)
		for range 2 {
			go func() { errs <- removeDir(dir) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: removeDir beside another: %v", round, err)
			}
		}
		if _, err := os.Lstat(dir); !os.IsNotExist(err) {
			t.Fatalf("%s is still there: %v", dir, err)
		}
	}
}

// TestDirectMaps: keep-id's composed maps, and a composition that needs
// more lines than the kernel takes goes to C (whose two namespaces each
// stay within the limit).
func TestDirectMaps(t *testing.T) {
	const uid = 1001
	plan := &userns.Plan{Mode: userns.ModeSubuid, UIDMap: []idmap.Mapping{{ContainerID: 0, HostID: uid, Size: 1},
		{ContainerID: 1, HostID: 100000, Size: 65536}}}
	plan.GIDMap = plan.UIDMap
	u, g, err := directMaps(true, uid, uid, plan)
	want := []idmap.Mapping{{ContainerID: uid, HostID: uid, Size: 1}, {ContainerID: 0, HostID: 100000, Size: uid},
		{ContainerID: uid + 1, HostID: 100000 + uid, Size: 65536 - uid}}
	if err != nil || !reflect.DeepEqual(u, want) || !reflect.DeepEqual(g, want) {
		t.Errorf("keep-id: %v, %v, %v", u, g, err)
	}
	if u, _, _ := directMaps(false, uid, uid, plan); !reflect.DeepEqual(u, plan.UIDMap) {
		t.Errorf("without keep-id: %v", u)
	}
	// 340 lines (the kernel's limit), the one holding uid+1 split in two.
	many := []idmap.Mapping{{ContainerID: 0, HostID: uid, Size: 1}}
	for i := uint32(0); len(many) < idmap.MaxLines; i++ {
		many = append(many, idmap.Mapping{ContainerID: 1 + 10*i, HostID: 200000 + 20*i, Size: 10})
	}
	plan.UIDMap, plan.GIDMap = many, many
	var nc *needC
	if _, _, err := directMaps(true, uid, uid, plan); !errors.As(err, &nc) {
		t.Errorf("341 lines: %v, want a needC", err)
	}
}
