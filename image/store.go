// Package image keeps rl's images in containers/storage and moves them with
// containers/image, so that rl and podman share one store and one set of
// configuration files (storage.conf, registries.conf, auth.json,
// policy.json). Everything here runs in C, inside rl's user namespace,
// where containers/storage believes it is rootless root (userns sets
// _CONTAINERS_USERNS_CONFIGURED and _CONTAINERS_ROOTLESS_UID).
package image

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/storage"
	"go.podman.io/storage/pkg/homedir"
	stypes "go.podman.io/storage/types"

	"rl/userns"
)

// Store is an open containers/storage store.
type Store struct {
	S      storage.Store
	Driver string
}

// Open opens the user's store with podman's defaults and storage.conf.
// When no driver is configured it keeps the one already in use in the
// graph root: podman 4.3 picks vfs where storage 1.64 picks overlay, and a
// store that both have written cannot be opened (FACTS.md).
func Open() (*Store, error) {
	opts, err := stypes.DefaultStoreOptions()
	if err != nil {
		return nil, fmt.Errorf("reading storage configuration: %w", err)
	}
	if opts.GraphDriverName == "" {
		opts.GraphDriverName = DetectDriver(opts.GraphRoot)
		pinDriver(opts.GraphDriverName)
	}
	// Single-uid mode: only uid 0 exists in the namespace, so files of
	// other owners in a layer cannot be chowned; keep them as uid 0.
	if userns.Mode() == userns.ModeSingle {
		opts.GraphDriverOptions = append(opts.GraphDriverOptions, opts.GraphDriverName+".ignore_chown_errors=true")
	}
	s, err := storage.GetStore(opts)
	if err != nil {
		return nil, fmt.Errorf("opening the image store %s: %w", opts.GraphRoot, err)
	}
	return &Store{S: s, Driver: s.GraphDriverName()}, nil
}

// DetectDriver returns the driver whose data is already in graphRoot, or
// overlay for a new store.
func DetectDriver(graphRoot string) string {
	for _, d := range []string{"overlay", "vfs"} {
		if fi, err := os.Stat(filepath.Join(graphRoot, d+"-layers")); err == nil && fi.IsDir() {
			return d
		}
	}
	return "overlay"
}

// Close releases the store (unmounts what the driver mounted in this
// mount namespace).
func (s *Store) Close() {
	s.S.Shutdown(false)
}

// GraphRoot and RunRoot of the store.
func (s *Store) GraphRoot() string { return s.S.GraphRoot() }
func (s *Store) RunRoot() string   { return s.S.RunRoot() }

// LayerDirs returns the directories of an image's layers in overlay
// lowerdir order, top layer first, read from the graph driver's metadata
// (the same paths podman mounts).
func (s *Store) LayerDirs(img *Image) ([]string, error) {
	if img.TopLayer == "" {
		return nil, nil // an image with no layers (scratch)
	}
	d, err := s.S.GraphDriver()
	if err != nil {
		return nil, err
	}
	md, err := d.Metadata(img.TopLayer)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", img.TopLayer, err)
	}
	if s.Driver == "vfs" || md["UpperDir"] == "" {
		// vfs keeps each layer as a full copy: the top one is the rootfs.
		dir, ok := md["Path"]
		if !ok {
			dir = filepath.Join(s.GraphRoot(), "vfs", "dir", img.TopLayer)
		}
		return []string{dir}, nil
	}
	dirs := []string{md["UpperDir"]}
	if md["LowerDir"] != "" {
		dirs = append(dirs, strings.Split(md["LowerDir"], ":")...)
	}
	return dirs, nil
}

// pinDriver writes the user's storage.conf naming the driver rl chose, when
// the user has none: without it podman 4.3 would pick vfs for the same
// store and the two could no longer open it (FACTS.md). This is the only
// configuration file rl writes on its own.
func pinDriver(driver string) {
	cfg, err := homedir.GetConfigHome()
	if err != nil {
		return
	}
	path := filepath.Join(cfg, "containers", "storage.conf")
	if _, err := os.Stat(path); err == nil {
		return // the user's own file, even without a driver line
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	os.WriteFile(path, []byte("# Written by rl so that rl and podman use the same driver for this store.\n[storage]\ndriver = \""+driver+"\"\n"), 0o644)
}
