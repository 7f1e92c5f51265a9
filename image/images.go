package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/storage"
)

// Image is an image in the store, with what rl run needs of it.
type Image struct {
	ID       string
	Names    []string
	Digest   string
	TopLayer string
	Created  time.Time
	Size     int64
	Config   v1.ImageConfig
	OCI      *v1.Image
}

// ErrNotFound is returned by Lookup for an image that is not in the store.
var ErrNotFound = errors.New("image not known")

// Lookup finds an image by name (short names match the localhost/ and
// docker.io/library/ forms, as podman does), by full ID or by ID prefix.
func (s *Store) Lookup(name string) (*Image, error) {
	si, err := s.find(name)
	if err != nil {
		return nil, err
	}
	return s.load(si)
}

func (s *Store) find(name string) (*storage.Image, error) {
	if name == "" {
		return nil, fmt.Errorf("invalid reference \"\": empty image name")
	}
	if si, err := s.S.Image(strings.TrimPrefix(name, "sha256:")); err == nil {
		return si, nil
	}
	var cands []string
	if n, err := Normalize(name); err == nil {
		cands = append(cands, n.String())
	}
	if IsShortName(name) {
		short := name
		if !strings.Contains(short, ":") && !strings.Contains(short, "@") {
			short += ":latest"
		}
		cands = append(cands, "localhost/"+short)
	}
	for _, c := range cands {
		if si, err := s.S.Image(c); err == nil {
			return si, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
}

func (s *Store) load(si *storage.Image) (*Image, error) {
	img := &Image{ID: si.ID, Names: si.Names, Digest: si.Digest.String(), TopLayer: si.TopLayer, Created: si.Created}
	ref, err := istorage.Transport.NewStoreReference(s.S, nil, si.ID)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	src, err := ref.NewImage(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading image %s: %w", short(si.ID), err)
	}
	defer src.Close()
	oci, err := src.OCIConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of image %s: %w", short(si.ID), err)
	}
	img.OCI, img.Config = oci, oci.Config
	if oci.Created != nil {
		img.Created = *oci.Created
	}
	if sz, err := src.Size(); err == nil {
		img.Size = sz
	}
	return img, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Summary is one line of rl images.
type Summary struct {
	ID      string    `json:"Id"`
	Names   []string  `json:"Names"`
	Digest  string    `json:"Digest"`
	Created time.Time `json:"Created"`
	Size    int64     `json:"Size"`
}

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

// Tag adds a name to an image.
func (s *Store) Tag(src, dst string) error {
	si, err := s.find(src)
	if err != nil {
		return err
	}
	n, err := Normalize(dst)
	if err != nil {
		return err
	}
	name := n.String()
	if IsShortName(dst) {
		name = "localhost/" + strings.TrimPrefix(n.String(), "docker.io/library/")
	}
	return s.S.AddNames(si.ID, []string{name})
}

// Remove untags name, and deletes the image when no name is left or when
// name is an ID. An image a running container uses is refused unless force.
func (s *Store) Remove(name string, force bool) (untagged []string, deleted string, err error) {
	si, err := s.find(name)
	if err != nil {
		return nil, "", err
	}
	if users := s.Users(si.ID); len(users) > 0 && !force {
		return nil, "", &hintError{fmt.Errorf("image %s is in use by running container %s", name, users[0]),
			"stop the container first, or use rl rmi -f"}
	}
	byID := strings.HasPrefix(si.ID, strings.TrimPrefix(name, "sha256:"))
	if !byID && len(si.Names) > 1 {
		full := ""
		for _, c := range si.Names {
			if c == name || matchesShort(c, name) {
				full = c
			}
		}
		if full != "" {
			if err := s.S.RemoveNames(si.ID, []string{full}); err != nil {
				return nil, "", err
			}
			return []string{full}, "", nil
		}
	}
	if _, err := s.S.DeleteImage(si.ID, true); err != nil {
		return nil, "", fmt.Errorf("removing image %s: %w", short(si.ID), err)
	}
	return si.Names, si.ID, nil
}

func matchesShort(full, name string) bool {
	n, err := Normalize(name)
	if err == nil && n.String() == full {
		return true
	}
	if !strings.Contains(name, ":") {
		name += ":latest"
	}
	return full == "localhost/"+name
}

// inUseDir holds one file per running container, named after it and
// holding the image ID, so that rmi can refuse an image in use without a
// storage container record per run (which costs tens of ms).
func (s *Store) inUseDir() string { return filepath.Join(s.RunRoot(), "rl-in-use") }

// MarkInUse records that container id runs imageID; the returned func
// removes the record.
func (s *Store) MarkInUse(id, imageID string) (func(), error) {
	dir := s.inUseDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, id)
	if err := os.WriteFile(p, []byte(fmt.Sprintf("%s %d\n", imageID, os.Getpid())), 0o600); err != nil {
		return nil, err
	}
	return func() { os.Remove(p) }, nil
}

// Users lists the live containers that use imageID.
func (s *Store) Users(imageID string) []string {
	ents, _ := os.ReadDir(s.inUseDir())
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(s.inUseDir(), e.Name()))
		if err != nil {
			continue
		}
		var id string
		var pid int
		fmt.Sscanf(string(b), "%s %d", &id, &pid)
		if pid > 0 && !alive(pid) {
			os.Remove(filepath.Join(s.inUseDir(), e.Name())) // its rl died
			continue
		}
		if id == imageID {
			out = append(out, e.Name())
		}
	}
	return out
}
