package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/storage"

	"rl/image/inuse"
	"rl/image/record"
)

// Image is an image in the store, with what rl run needs of it.
type Image struct {
	ID       string
	Names    []string
	Digest   string
	TopLayer string
	Created  time.Time
	Config   v1.ImageConfig
	OCI      *v1.Image
}

// ErrNotFound is returned by Lookup for an image that is not in the store.
var ErrNotFound = errors.New("image not known")

// Lookup finds an image by name (short names match the localhost/ and
// docker.io/library/ forms, as podman does), by full ID or by ID prefix.
func (s *Store) Lookup(name string) (*Image, error) {
	si, err := s.Find(name)
	if err != nil {
		return nil, err
	}
	return s.load(si)
}

// Find returns the store's record of the image name refers to.
func (s *Store) Find(name string) (*storage.Image, error) {
	if name == "" {
		return nil, fmt.Errorf("invalid reference \"\": empty image name")
	}
	if si, err := s.S.Image(strings.TrimPrefix(name, "sha256:")); err == nil {
		return si, nil
	}
	var cands []string
	if n, err := Normalize(name); err == nil {
		cands = append(cands, n)
	}
	if IsShortName(name) {
		cands = append(cands, "localhost/"+ShortTagged(name))
	}
	for _, c := range cands {
		if si, err := s.S.Image(c); err == nil {
			return si, nil
		}
	}
	if IsShortName(name) {
		return s.findShort(name)
	}
	return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
}

// findShort matches a short name against the repository tail of every
// stored name, so that `busybox` finds the image a pull through an
// unqualified-search registry stored as REGISTRY/busybox:latest (podman
// resolves it the same way, through registries.conf). Reading the stored
// names instead of registries.conf keeps the lookup in storage alone; two
// different images with that tail are an error, not a guess.
func (s *Store) findShort(name string) (*storage.Image, error) {
	tail := "/" + ShortTagged(name)
	imgs, err := s.S.Images()
	if err != nil {
		return nil, err
	}
	var found *storage.Image
	var names []string
	for i := range imgs {
		for _, n := range imgs[i].Names {
			if strings.HasSuffix(n, tail) {
				if found == nil {
					found = &imgs[i]
				}
				if found.ID != imgs[i].ID {
					return nil, &hintError{fmt.Errorf("short name %q is ambiguous: it matches %s and %s", name, names[0], n),
						"use the full name"}
				}
				names = append(names, n)
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	return found, nil
}

func (s *Store) load(si *storage.Image) (*Image, error) {
	img := &Image{ID: si.ID, Names: si.Names, Digest: si.Digest.String(), TopLayer: si.TopLayer, Created: si.Created}
	var b []byte
	var err error
	if key, ok := configKey(si); ok {
		b, err = s.S.ImageBigData(si.ID, key)
	} else {
		b, err = s.schema1Config(si)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of image %s: %w", short(si.ID), err)
	}
	// Docker's schema2 image configuration has the same JSON fields as
	// OCI's for everything rl uses (config, created, architecture, os).
	var oci v1.Image
	if err := json.Unmarshal(b, &oci); err != nil {
		return nil, fmt.Errorf("reading the configuration of image %s: %w", short(si.ID), err)
	}
	img.OCI, img.Config = &oci, oci.Config
	if oci.Created != nil {
		img.Created = *oci.Created
	}
	return img, nil
}

// configKey is the big-data key under which containers/image stored the
// image's configuration: its digest, which is also the image ID (the
// other keys are "manifest", "manifest-DIGEST" and "signature-DIGEST").
// Reading it directly keeps containers/image out of rl run (FACTS.md:
// every linked package's init is paid by every exec). An image with a
// docker schema1 manifest has none (ok false).
func configKey(si *storage.Image) (string, bool) {
	for _, k := range si.BigDataNames {
		if k == "sha256:"+si.ID {
			return k, true
		}
	}
	for _, k := range si.BigDataNames {
		if strings.HasPrefix(k, "sha256:") {
			return k, true
		}
	}
	return "", false
}

// schema1Config reads the configuration of an image stored from a docker
// schema1 manifest (old registries): the newest history entry's
// v1Compatibility holds the image's config, created, architecture and os
// in the same JSON fields as a schema2 configuration.
func (s *Store) schema1Config(si *storage.Image) ([]byte, error) {
	b, err := s.S.ImageBigData(si.ID, storage.ImageDigestBigDataKey)
	if err != nil {
		return nil, fmt.Errorf("no configuration and no manifest: %w", err)
	}
	var m struct {
		SchemaVersion int `json:"schemaVersion"`
		History       []struct {
			V1Compatibility string `json:"v1Compatibility"`
		} `json:"history"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading its manifest: %w", err)
	}
	if m.SchemaVersion != 1 || len(m.History) == 0 {
		return nil, fmt.Errorf("no configuration stored, and the manifest is not docker schema1")
	}
	return []byte(m.History[0].V1Compatibility), nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Summary is one image of rl images (record.Listed: the front prints it
// from the listing record too).
type Summary = record.Listed

// List returns the images, newest first. It reads the store's records
// only (no image configs), so it stays fast with many images.
func (s *Store) List() ([]Summary, error) {
	imgs, err := s.S.Images()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(imgs))
	for _, i := range imgs {
		size, _ := s.S.ImageSize(i.ID)
		out = append(out, Summary{ID: i.ID, Names: i.Names, Digest: i.Digest.String(), Created: i.Created, Size: size})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out, nil
}

// Size is the disk space of an image's layers and metadata. It walks the
// layers' files unless the store has their sizes recorded, which is why
// Lookup (rl run) leaves it out.
func (s *Store) Size(img *Image) int64 {
	sz, _ := s.S.ImageSize(img.ID)
	return sz
}

// Tag adds a name to an image.
func (s *Store) Tag(src, dst string) error {
	si, err := s.Find(src)
	if err != nil {
		return err
	}
	n, err := Normalize(dst)
	if err != nil {
		return err
	}
	name := n
	if IsShortName(dst) {
		name = "localhost/" + strings.TrimPrefix(n, "docker.io/library/")
	}
	return s.S.AddNames(si.ID, []string{name})
}

// Remove untags name, and deletes the image when no name is left or when
// name is an ID. An image a running container uses is refused unless force.
func (s *Store) Remove(name string, force bool) (untagged []string, deleted string, err error) {
	si, err := s.Find(name)
	if err != nil {
		return nil, "", err
	}
	byID := strings.HasPrefix(si.ID, strings.TrimPrefix(name, "sha256:"))
	full := "" // the name to untag, when the image keeps others
	if !byID && len(si.Names) > 1 {
		if full, err = NameFor(si.Names, name); err != nil {
			return nil, "", err
		}
	}
	// Deleting: no run marks the image between the check and the
	// deletion, a run that comes meanwhile is refused (inuse.Remove).
	// Untagging, or where rl cannot use the run root (no run can mark
	// anything there either): the check alone.
	var users []string
	locked := false
	if full == "" {
		if u, done, err := inuse.Remove(s.RunRoot(), si.ID, force); err == nil {
			defer done()
			users, locked = u, true
		}
	}
	if !locked {
		users = inuse.Users(s.RunRoot(), si.ID)
	}
	if len(users) > 0 && !force {
		return nil, "", &hintError{fmt.Errorf("image %s is in use by running container %s", name, users[0]),
			"stop the container first, or use rl rmi -f"}
	}
	if full != "" {
		if err := s.S.RemoveNames(si.ID, []string{full}); err != nil {
			return nil, "", err
		}
		return []string{full}, "", nil
	}
	if _, err := s.S.DeleteImage(si.ID, true); err != nil {
		return nil, "", fmt.Errorf("removing image %s: %w", short(si.ID), err)
	}
	return si.Names, si.ID, nil
}

// NameFor returns which of an image's stored names the user's name refers
// to: the name itself or its normalized form, else (for a short name) its
// localhost/ form, else the one name with that repository tail (see
// findShort); "" when none does. Several names with the tail are an error,
// so that rmi never untags a name the user did not mean.
func NameFor(names []string, name string) (string, error) {
	n, err := Normalize(name)
	for _, c := range names {
		if c == name || (err == nil && c == n) {
			return c, nil
		}
	}
	if !IsShortName(name) {
		return "", nil
	}
	tagged := ShortTagged(name)
	var tails []string
	for _, c := range names {
		if c == "localhost/"+tagged {
			return c, nil
		}
		if strings.HasSuffix(c, "/"+tagged) {
			tails = append(tails, c)
		}
	}
	switch len(tails) {
	case 0:
		return "", nil
	case 1:
		return tails[0], nil
	}
	return "", &hintError{fmt.Errorf("short name %q is ambiguous: it matches %s and %s", name, tails[0], tails[1]), "use the full name"}
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }
