package image

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.podman.io/storage/pkg/configfile"
	stypes "go.podman.io/storage/types"
	"golang.org/x/sys/unix"

	"rl/image/record"
)

// StoreInputs is what, besides the store's own files, decides where the
// store of user uid is and how it is opened (types.LoadStoreOptions and
// homedir.GetRuntimeDir of containers/storage v1.64): rl run's image
// records (package record) depend on all of it.
type StoreInputs struct {
	// Stamps of the storage.conf files and drop-in directories storage
	// searches (configfile.GetSearchPaths), and of the drop-ins in them,
	// each taken before it was read; and a Presence stamp of
	// /run/user/UID when XDG_RUNTIME_DIR is unset (whether it is there,
	// and its owner and mode, decide the run root).
	Stamps []record.Stamp
	// Env: the variables that storage.conf's paths name ($NAME).
	Env []string
	// Links: the paths storage resolves through symlinks (the graph
	// root, run root and rootless_storage_path of storage.conf, with
	// their variables expanded; XDG_RUNTIME_DIR).
	Links []string
}

// Inputs finds the StoreInputs of user uid. Each file is stamped before
// it is listed or read: a change after that shows in a later stamp
// (the caller stamps again after its lookup).
func Inputs(uid int) (StoreInputs, error) {
	var in StoreInputs
	file := &configfile.File{Name: "storage", Extension: "conf", EnvironmentName: "CONTAINERS_STORAGE_CONF", UserId: uid}
	sp, err := configfile.GetSearchPaths(file)
	if err != nil {
		return in, err
	}
	first := append([]string{}, sp.MainFiles...)
	if sp.ExtraOverrideFile != "" {
		first = append(first, sp.ExtraOverrideFile)
	}
	first = append(first, sp.DropInDirectories...) // their times change when a drop-in comes or goes
	if in.Stamps, err = record.Stat(first); err != nil {
		return in, err
	}
	var dropIns []string
	for _, d := range sp.DropInDirectories {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			dropIns = append(dropIns, filepath.Join(d, e.Name()))
		}
	}
	st, err := record.Stat(dropIns)
	if err != nil {
		return in, err
	}
	in.Stamps = append(in.Stamps, st...)
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		st, err := record.StatPresence([]string{filepath.Join("/run/user", strconv.Itoa(uid))})
		if err != nil {
			return in, err
		}
		in.Stamps = append(in.Stamps, st...)
	}
	// The raw paths, before storage expands them (expandEnvPath: $UID,
	// then os.ExpandEnv, then filepath.EvalSymlinks).
	var cfg stypes.TomlConfig
	if err := configfile.ParseTOML(&cfg, file); err != nil {
		return in, err
	}
	for _, raw := range []string{cfg.Storage.GraphRoot, cfg.Storage.RunRoot, cfg.Storage.RootlessStoragePath} {
		if raw == "" {
			continue
		}
		p := os.Expand(strings.ReplaceAll(raw, "$UID", strconv.Itoa(uid)), func(name string) string {
			in.Env = append(in.Env, name)
			return os.Getenv(name)
		})
		in.Links = append(in.Links, p)
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		in.Links = append(in.Links, d)
	}
	return in, nil
}

// RecordFiles lists the files whose change can change what Lookup and
// LayerDirs answer in this store: the directories DetectDriver looks for,
// and the driver's image and layer lists, which containers/storage
// replaces (rename) on every change. ok is false for a store whose answers
// can come from elsewhere (an image store, additional image or layer
// stores), from a driver other than overlay and vfs, or whose graph root
// is on a network file system that may answer stat(2) from a cache while
// another node writes the store (NFS, SMB, FUSE such as sshfs, 9p): rl keeps
// no record for those.
func (s *Store) RecordFiles() (files []string, ok bool) {
	if s.Driver != "overlay" && s.Driver != "vfs" || s.S.ImageStore() != "" {
		return nil, false
	}
	for _, o := range s.S.GraphOptions() {
		if o = strings.ToLower(o); strings.Contains(o, "imagestore") || strings.Contains(o, "layerstore") {
			return nil, false
		}
	}
	g := s.GraphRoot()
	var fs unix.Statfs_t
	if err := unix.Statfs(g, &fs); err != nil {
		return nil, false
	}
	switch uint32(fs.Type) {
	case unix.NFS_SUPER_MAGIC, unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC, unix.CIFS_SUPER_MAGIC, unix.FUSE_SUPER_MAGIC, unix.V9FS_MAGIC:
		return nil, false
	}
	return []string{filepath.Join(g, "overlay-layers"), filepath.Join(g, "vfs-layers"),
		filepath.Join(g, s.Driver+"-images", "images.json"),
		filepath.Join(g, s.Driver+"-layers", "layers.json")}, true
}
