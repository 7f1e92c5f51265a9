package image

import (
	_ "crypto/sha512" // as in rl, where crypto/tls links it: go-digest then accepts sha384 and sha512
	"strings"
	"testing"

	"github.com/distribution/reference"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                          "docker.io/library/busybox:latest",
		"docker://busybox:1.36":            "docker.io/library/busybox:1.36",
		"127.0.0.1:5000/busybox":           "127.0.0.1:5000/busybox:latest",
		"localhost/x:y":                    "localhost/x:y",
		"quay.io/a/b@sha256:" + hex64('a'): "quay.io/a/b@sha256:" + hex64('a'),
	} {
		n, err := Normalize(in)
		if err != nil || n != want {
			t.Errorf("Normalize(%q) = %v, %v; want %s", in, n, err, want)
		}
	}
	for _, bad := range []string{"", "UPPERCASE", "a b", "x:", "@sha256:x", "-lead"} {
		if _, err := Normalize(bad); err == nil {
			t.Errorf("Normalize(%q) accepted", bad)
		}
	}
	for in, want := range map[string]bool{"busybox": true, "library/x": true, "localhost/x": false,
		"127.0.0.1:5000/x": false, "quay.io/x": false, "docker://busybox": true} {
		if IsShortName(in) != want {
			t.Errorf("IsShortName(%q) = %v", in, !want)
		}
	}
}

func hex64(c byte) string { return strings.Repeat(string(c), 64) }

func TestParseArchiveRef(t *testing.T) {
	for in, want := range map[string]ArchiveRef{
		"img.tar":                          {Path: "img.tar"},
		"./a:b.tar":                        {Path: "./a:b.tar"},
		"docker-archive:/x/img.tar":        {Transport: "docker-archive", Path: "/x/img.tar"},
		"docker-archive:img.tar:busybox:1": {Transport: "docker-archive", Path: "img.tar:busybox", Ref: "1"},
		"docker-archive:img.tar:busybox":   {Transport: "docker-archive", Path: "img.tar", Ref: "busybox"},
		"oci-archive:/x/o.tar:latest":      {Transport: "oci-archive", Path: "/x/o.tar", Ref: "latest"},
	} {
		got, err := ParseArchiveRef(in)
		if err != nil || got != want {
			t.Errorf("ParseArchiveRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "docker-archive:"} {
		if _, err := ParseArchiveRef(bad); err == nil {
			t.Errorf("ParseArchiveRef(%q) accepted", bad)
		}
	}
}

// FuzzNormalize: no input panics; an accepted reference is fully qualified
// and normalizes to itself.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"busybox", "127.0.0.1:5000/a/b:c", "docker://x@sha256:" + hex64('1'), "", "a:b:c", "UP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s)
		if err != nil {
			return
		}
		again, err := Normalize(n)
		if err != nil || again != n {
			t.Fatalf("Normalize(%q) = %q, but that normalizes to %v, %v", s, n, again, err)
		}
		IsShortName(s)
	})
}

// FuzzParseArchiveRef: no input panics; a path is never empty; a parsed
// transport form round-trips.
func FuzzParseArchiveRef(f *testing.F) {
	for _, s := range []string{"a.tar", "docker-archive:a.tar:x:y", "oci-archive:/p:latest", "oci-archive:", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArchiveRef(s)
		if err != nil {
			return
		}
		if a.Path == "" {
			t.Fatalf("ParseArchiveRef(%q): empty path", s)
		}
		if a.Transport != "" {
			back := a.Transport + ":" + a.Path
			if a.Ref != "" {
				back += ":" + a.Ref
			}
			if back != s {
				t.Fatalf("ParseArchiveRef(%q) = %+v does not round-trip (%q)", s, a, back)
			}
		}
	})
}

// FuzzNormalizeAgrees: Normalize accepts exactly what docker's own parser
// (github.com/distribution/reference, linked into this test only) accepts,
// and gives the same normalized string. One deliberate difference: for a
// first component that is neither a valid host nor the start of a
// docker.io name (foo_bar.com/x), distribution falls back to a name with
// no registry at all, which no registry could serve; rl refuses it.
func FuzzNormalizeAgrees(f *testing.F) {
	for _, s := range []string{"busybox", "busybox:1.36", "docker://busybox", "127.0.0.1:5000/a/b:c",
		"localhost/x", "localhost:5000/x@sha256:" + hex64('1'), "Foo/bar", "index.docker.io/x",
		"[::1]:5000/x:y", "[fe80::1]/x", "a--b/c__d.e:T_a-g.1", "x@sha512:" + strings.Repeat("ab", 64),
		"x@sha256:" + strings.Repeat("A", 64), "foo_bar.com/x", hex64('a'), "a:b/c", "a/B", "x:.y", "-x",
		"docker.io/busybox", "a.b-/c", "sub.Example.COM/x", "x:" + strings.Repeat("t", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		in := strings.TrimPrefix(s, "docker://")
		ref, derr := reference.ParseNormalizedNamed(in)
		if derr == nil && reference.Domain(ref) == "" {
			if err == nil {
				t.Fatalf("Normalize(%q) = %q; distribution found no registry in it", s, got)
			}
			return
		}
		if (err == nil) != (derr == nil) {
			t.Fatalf("Normalize(%q) = %q, %v; distribution/reference says %v", s, got, err, derr)
		}
		if err == nil && got != reference.TagNameOnly(ref).String() {
			t.Fatalf("Normalize(%q) = %q; distribution/reference gives %q", s, got, reference.TagNameOnly(ref).String())
		}
	})
}
