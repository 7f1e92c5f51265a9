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
	regd := t.TempDir()
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
			pc, sigstore, err := policyContext(&types.SystemContext{SignaturePolicyPath: p, RegistriesDirPath: regd})
			if err != nil {
				t.Fatal(err)
			}
			pc.Destroy()
			if sigstore != tc.sigstore {
				t.Errorf("sigstore = %v, want %v", sigstore, tc.sigstore)
			}
		})
	}
	// Sigstore attachments turned on in registries.d, a permissive policy.
	for _, tc := range []struct {
		yaml     string
		sigstore bool
	}{
		{"docker:\n  example.com:\n    lookaside: https://sigs.example.com\n", false},
		{"docker:\n  example.com:\n    use-sigstore-attachments: true\n", true},
		{"default-docker:\n  use-sigstore-attachments: false\n", false},
	} {
		os.WriteFile(filepath.Join(regd, "x.yaml"), []byte(tc.yaml), 0o644)
		p := filepath.Join(t.TempDir(), "policy.json")
		os.WriteFile(p, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o644)
		pc, sigstore, err := policyContext(&types.SystemContext{SignaturePolicyPath: p, RegistriesDirPath: regd})
		if err != nil {
			t.Fatal(err)
		}
		pc.Destroy()
		if sigstore != tc.sigstore {
			t.Errorf("registries.d %q: sigstore = %v, want %v", tc.yaml, sigstore, tc.sigstore)
		}
	}
}
