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
