package cgroupv2

import (
	"strings"
	"testing"
)

func TestHintControllerIn(t *testing.T) {
	for path, systemd := range map[string]bool{
		"/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope": true,
		"/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service":                        true,
		"/sys/fs/cgroup/user": false,
		"/sys/fs/cgroup/system.slice/slurmstepd.scope/job_1234": false,
	} {
		h := hintControllerIn(path)
		if got := strings.Contains(h, "systemd-run --user --scope -p Delegate=yes -p OOMPolicy=continue"); got != systemd {
			t.Errorf("hintControllerIn(%q) = %q; names systemd-run: %v, want %v", path, h, got, systemd)
		}
		if !strings.HasSuffix(h, HintController) {
			t.Errorf("hintControllerIn(%q) = %q; want it to end with HintController", path, h)
		}
	}
}
