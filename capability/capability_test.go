package capability

import "testing"

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int
		ok   bool
	}{
		{"CAP_CHOWN", 0, true},
		{"CAP_NET_ADMIN", 12, true}, // linux/capability.h
		{"CAP_SYS_ADMIN", 21, true},
		{"CAP_AUDIT_READ", 37, true},
		{"CAP_CHECKPOINT_RESTORE", 40, true},
		{"cap_chown", 0, false}, // callers canonicalise (spec.ParseCap)
		{"CAP_NOPE", 0, false},
		{"", 0, false},
	} {
		got, ok := Number(tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Number(%q) = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
