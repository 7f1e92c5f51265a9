package image

import (
	"strings"
	"testing"
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
		if err != nil || n.String() != want {
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
		again, err := Normalize(n.String())
		if err != nil || again.String() != n.String() {
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
