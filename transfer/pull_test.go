package transfer

import (
	"os"
	"path/filepath"
	"testing"

	"go.podman.io/image/v5/types"
)

// TestPolicySigstore: a policy with a sigstoreSigned requirement anywhere
// is seen, so that its pulls do not share their source (shareSource).
func TestPolicySigstore(t *testing.T) {
	for _, tc := range []struct {
		name, policy string
		sigstore     bool
	}{
		{"accept anything", `{"default":[{"type":"insecureAcceptAnything"}]}`, false},
		{"GPG keys", `{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"example.com":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k.gpg"}]}}}`, false},
		{"sigstore for one registry", `{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"example.com":[{"type":"sigstoreSigned","keyPath":"/k.pub","signedIdentity":{"type":"matchRepository"}}]}}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "policy.json")
			if err := os.WriteFile(p, []byte(tc.policy), 0o644); err != nil {
				t.Fatal(err)
			}
			pc, sigstore, err := policyContext(&types.SystemContext{SignaturePolicyPath: p})
			if err != nil {
				t.Fatal(err)
			}
			pc.Destroy()
			if sigstore != tc.sigstore {
				t.Errorf("sigstore = %v, want %v", sigstore, tc.sigstore)
			}
		})
	}
}
