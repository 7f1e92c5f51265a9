package userns

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
