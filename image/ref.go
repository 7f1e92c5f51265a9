package image

import (
	"errors"
	"fmt"
	"strings"
)

// Normalize turns user input into a fully qualified reference string
// (docker.io/library/busybox:latest), or an error naming what is wrong.
// Short names are resolved by the caller through registries.conf.
//
// The grammar is docker's (github.com/distribution/reference, whose
// ParseNormalizedNamed + TagNameOnly this agrees with: see
// FuzzNormalizeAgrees), parsed by hand: that package compiles its regular
// expressions at init, about 3 ms of every exec of rl here, while rl run
// only needs to name the image it looks up.
func Normalize(s string) (string, error) {
	s = strings.TrimPrefix(s, "docker://")
	if s == "" {
		return "", fmt.Errorf("invalid reference \"\": empty image name")
	}
	r, err := parseNormalized(s)
	if err != nil {
		return "", fmt.Errorf("invalid reference %q: %v", s, err)
	}
	return r, nil
}

func parseNormalized(s string) (string, error) {
	if len(s) == 64 && isLowerHex(s) {
		return "", errors.New("a 64-character hexadecimal string is an image ID, not a name")
	}
	// The first component is a registry if it looks like a host (a dot,
	// a port, localhost) or has upper case; otherwise docker.io, where a
	// one-component name lives in library/.
	domain, rest := "docker.io", s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		if first := s[:i]; strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
			domain, rest = first, s[i+1:]
		}
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	path, dig, hasDigest := strings.Cut(rest, "@")
	path, tag, hasTag := strings.Cut(path, ":")
	if strings.ToLower(path) != path {
		return "", fmt.Errorf("repository name %q must be lower case", path)
	}
	if !validDomain(domain) {
		return "", fmt.Errorf("%q is not a valid registry host[:port]", domain)
	}
	if !validPath(path) {
		return "", fmt.Errorf("%q is not a valid repository name (lower-case letters and digits, separated by '/', '.', '_', '__' or dashes)", path)
	}
	if len(domain)+1+len(path) > 255 {
		return "", errors.New("the repository name is longer than 255 characters")
	}
	if hasTag && !validTag(tag) {
		return "", fmt.Errorf("%q is not a valid tag (up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-')", tag)
	}
	if hasDigest {
		if err := validDigest(dig); err != nil {
			return "", err
		}
	}
	out := domain + "/" + path
	if hasTag {
		out += ":" + tag
	}
	if hasDigest {
		out += "@" + dig
	} else if !hasTag {
		out += ":latest"
	}
	return out, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validDomain: host[:port], host a DNS name (components of letters, digits
// and inner dashes) or a bracketed IPv6 address.
func validDomain(d string) bool {
	host, port := d, ""
	if strings.HasPrefix(d, "[") {
		j := strings.IndexByte(d, ']')
		if j < 2 {
			return false
		}
		for i := 1; i < j; i++ {
			if c := d[i]; !(c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
		host, port = "", d[j+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
			if port == "" {
				return false
			}
		}
	} else {
		var hasPort bool
		host, port, hasPort = strings.Cut(d, ":")
		if hasPort && port == "" {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	if host == "" {
		return strings.HasPrefix(d, "[")
	}
	for _, c := range strings.Split(host, ".") {
		if c == "" || c[0] == '-' || c[len(c)-1] == '-' {
			return false
		}
		for i := 0; i < len(c); i++ {
			if ch := c[i]; !(isAlnum(ch) || ch >= 'A' && ch <= 'Z' || ch == '-') {
				return false
			}
		}
	}
	return true
}

// validPath: components of lower-case letters and digits, joined inside a
// component by one '.', one '_', two '_' or any number of '-'.
func validPath(p string) bool {
	for _, comp := range strings.Split(p, "/") {
		if comp == "" || !isAlnum(comp[0]) || !isAlnum(comp[len(comp)-1]) {
			return false
		}
		for i := 0; i < len(comp); {
			if isAlnum(comp[i]) {
				i++
				continue
			}
			j := i
			for j < len(comp) && !isAlnum(comp[j]) {
				j++
			}
			switch sep := comp[i:j]; {
			case sep == ".", sep == "_", sep == "__", strings.Trim(sep, "-") == "":
			default:
				return false
			}
			i = j
		}
	}
	return true
}

func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !(isAlnum(c) || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validDigest accepts what go-digest can verify: sha256, sha384 or sha512
// with the matching number of lower-case hex digits.
func validDigest(d string) error {
	alg, hex, _ := strings.Cut(d, ":")
	want := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[alg]
	if want == 0 {
		return fmt.Errorf("digest %q: want sha256:, sha384: or sha512: and hex digits", d)
	}
	if len(hex) != want || !isLowerHex(hex) {
		return fmt.Errorf("digest %q: want %d lower-case hex digits after %s:", d, want, alg)
	}
	return nil
}

// ShortTagged is a short name (busybox, x/y:1) with the tag latest added
// when it names neither a tag nor a digest.
func ShortTagged(name string) string {
	if strings.ContainsAny(name, ":@") {
		return name
	}
	return name + ":latest"
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
			if _, err := parseNormalized(rest[i+1:]); err == nil && !strings.Contains(rest[i+1:], "/") {
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
