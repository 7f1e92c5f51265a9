package userns

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMain doubles as C: Start re-executes this test binary, which then
// reports what it sees from inside the namespace.
func TestMain(m *testing.M) {
	if IsChild() {
		if err := WaitMapped(); err != nil {
			os.Exit(3)
		}
		uidMap, _ := os.ReadFile("/proc/self/uid_map")
		status, _ := os.ReadFile("/proc/self/status")
		os.Stdout.Write(uidMap)
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "CapEff:") || strings.HasPrefix(l, "Uid:") {
				os.Stdout.WriteString(l + "\n")
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// requireUser skips (or, in CI, fails) when run as root: a user namespace
// made by root proves nothing about rootless operation.
func requireUser(t *testing.T) {
	t.Helper()
	if os.Getuid() == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("running as root: run the suite through `make test`, which re-runs it as the test user")
		}
		t.Skip("running as root; `make test` runs this as the unprivileged test user")
	}
}

func TestStartModes(t *testing.T) {
	requireUser(t)
	for _, mode := range []string{ModeSubuid, ModeSingle} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv(EnvForce, mode)
			p, err := Choose()
			if err != nil {
				if mode == ModeSubuid && os.Getenv("CI") != "true" {
					t.Skip(err)
				}
				t.Fatal(err)
			}
			out, err := os.CreateTemp(t.TempDir(), "out")
			if err != nil {
				t.Fatal(err)
			}
			c, err := Start(Config{Args: []string{os.Args[0]}, Stdout: out})
			if err != nil {
				t.Fatal(err)
			}
			if st, err := Status(c.Cmd.ProcessState, c.Cmd.Wait()); err != nil || st != 0 {
				t.Fatalf("child: status %d, %v", st, err)
			}
			b, _ := os.ReadFile(out.Name())
			got := string(b)
			// uid 0 inside, and every capability although the subuid maps
			// were written after the child's execve (ambient capabilities).
			if !strings.Contains(got, "Uid:\t0\t0\t0\t0") {
				t.Errorf("child is not uid 0:\n%s", got)
			}
			if !strings.Contains(got, "CapEff:\t000001ffffffffff") && !strings.Contains(got, "CapEff:\t0000003fffffffff") {
				t.Errorf("child lacks capabilities:\n%s", got)
			}
			lines := bytes.Count(b, []byte("\n"))
			if want := len(p.UIDMap) + 2; lines != want {
				t.Errorf("child saw %d lines, want %d (map %v):\n%s", lines, want, p.UIDMap, got)
			}
		})
	}
}

func TestChooseBadForce(t *testing.T) {
	t.Setenv(EnvForce, "bogus")
	if _, err := Choose(); err == nil {
		t.Fatal("Choose accepted RL_IDMAP=bogus")
	}
}

// TestCloneError: why rl could not make a user namespace, from the errno
// and the host's settings, and the fix.
func TestCloneError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		errno    error
		sysctl   map[string]string
		msg      string
		hintPart string
	}{
		{"no user namespaces", unix.ENOSPC, map[string]string{"user/max_user_namespaces": "0", "user/max_mnt_namespaces": "100"},
			"cannot create a user namespace: the host allows none (user.max_user_namespaces = 0)", "sysctl -w user.max_user_namespaces=15000"},
		{"no mount namespaces", unix.ENOSPC, map[string]string{"user/max_user_namespaces": "2147483647", "user/max_mnt_namespaces": "0"},
			"cannot create a user namespace: the host allows none (user.max_mnt_namespaces = 0)", "sysctl -w user.max_mnt_namespaces=15000"},
		{"a limit reached", unix.ENOSPC, map[string]string{"user/max_user_namespaces": "10", "user/max_mnt_namespaces": "10"},
			"cannot create a user namespace: a limit of namespaces is reached (user.max_user_namespaces = 10, user.max_mnt_namespaces = 10), or 32 are nested", ""},
		{"Debian's switch", unix.EPERM, map[string]string{"kernel/unprivileged_userns_clone": "0"},
			"cannot create a user namespace: the host forbids it to unprivileged users (kernel.unprivileged_userns_clone = 0)", "sysctl -w kernel.unprivileged_userns_clone=1"},
		{"a container's seccomp, on Ubuntu", unix.EPERM, map[string]string{"kernel/unprivileged_userns_clone": "1", "kernel/apparmor_restrict_unprivileged_userns": "1"},
			"cannot create a user namespace: operation not permitted", "AppArmor may"},
		{"a container's seccomp", unix.EPERM, nil,
			"cannot create a user namespace: operation not permitted", "seccomp"},
		{"nested too deep", unix.EUSERS, nil, "cannot create a user namespace: too many nested user namespaces", ""},
		{"something else", unix.ENOMEM, nil, "starting rl in a new user namespace: cannot allocate memory", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cloneError(&os.PathError{Op: "fork/exec", Path: "/proc/self/exe", Err: tc.errno}, func(n string) string { return tc.sysctl[n] })
			msg := err.Error()
			if tc.name == "something else" {
				msg = strings.Replace(msg, "fork/exec /proc/self/exe: ", "", 1)
			}
			if msg != tc.msg {
				t.Errorf("message %q, want %q", msg, tc.msg)
			}
			var h interface{ Hint() string }
			if errors.As(err, &h) != (tc.hintPart != "") || tc.hintPart != "" && !strings.Contains(h.Hint(), tc.hintPart) {
				t.Errorf("hint %v, want one with %q", h, tc.hintPart)
			}
		})
	}
}
