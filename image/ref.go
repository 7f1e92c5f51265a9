package image

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

// Normalize turns user input into a fully qualified reference string
// (docker.io/library/busybox:latest), or an error naming what is wrong.
// Short names are resolved by the caller through registries.conf.
func Normalize(s string) (reference.Named, error) {
	if s == "" {
		return nil, fmt.Errorf("invalid reference \"\": empty image name")
	}
	s = strings.TrimPrefix(s, "docker://")
	n, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, fmt.Errorf("invalid reference %q: %v", s, err)
	}
	return reference.TagNameOnly(n), nil
}

// IsShortName reports whether s names no registry (busybox, library/x).
func IsShortName(s string) bool {
	s = strings.TrimPrefix(s, "docker://")
	i := strings.IndexRune(s, '/')
	if i < 0 {
		return true
	}
	host := s[:i]
	return !strings.ContainsAny(host, ".:") && host != "localhost"
}

// ArchiveRef is an archive argument of rl load/save: a plain path, or
// podman's TRANSPORT:PATH[:REFERENCE] form for docker-archive and
// oci-archive.
type ArchiveRef struct {
	Transport string // "docker-archive", "oci-archive" or "" (detect)
	Path      string
	Ref       string // the image inside the archive ("" for the only one)
}

// ParseArchiveRef parses an archive argument. A path that merely contains
// a colon (./a:b) stays a path: only the two transport prefixes are
// special, and the reference part must be a valid reference.
func ParseArchiveRef(s string) (ArchiveRef, error) {
	for _, t := range []string{"docker-archive", "oci-archive"} {
		rest, ok := strings.CutPrefix(s, t+":")
		if !ok {
			continue
		}
		a := ArchiveRef{Transport: t, Path: rest}
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			if _, err := reference.ParseNormalizedNamed(rest[i+1:]); err == nil && !strings.Contains(rest[i+1:], "/") {
				a.Path, a.Ref = rest[:i], rest[i+1:]
			} else if t == "oci-archive" && validOCIRefName(rest[i+1:]) {
				a.Path, a.Ref = rest[:i], rest[i+1:]
			}
		}
		if a.Path == "" {
			return ArchiveRef{}, fmt.Errorf("%q: empty archive path", s)
		}
		return a, nil
	}
	if s == "" {
		return ArchiveRef{}, fmt.Errorf("empty archive path")
	}
	return ArchiveRef{Path: s}, nil
}

// validOCIRefName: the org.opencontainers.image.ref.name annotation
// grammar is loose; rl accepts tag-like names.
func validOCIRefName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
			return false
		}
	}
	return true
}
