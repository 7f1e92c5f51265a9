package image

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.podman.io/storage/pkg/configfile"
	stypes "go.podman.io/storage/types"
	"golang.org/x/sys/unix"
)

// StoreInputs is what, besides the store's own files, decides where the
// store of user uid is and how it is opened (types.LoadStoreOptions and
// homedir.GetRuntimeDir of containers/storage v1.64): rl run's image
// records (package record) depend on all of it.
type StoreInputs struct {
	// Files: the storage.conf files and drop-in directories storage
	// searches (configfile.GetSearchPaths), and the drop-ins in them.
	Files []string
	// Env: the variables that storage.conf's paths name ($NAME), beyond
	// those record.Environment always keys a record on.
	Env []string
	// Links: the paths storage resolves through symlinks (the graph
	// root, run root and rootless_storage_path of storage.conf, with
	// their variables expanded; XDG_RUNTIME_DIR).
	Links []string
	// Presence: /run/user/UID when XDG_RUNTIME_DIR is unset: whether it
	// exists decides the run root.
	Presence []string
}

// Inputs finds the StoreInputs of user uid.
func Inputs(uid int) (StoreInputs, error) {
	var in StoreInputs
	file := &configfile.File{Name: "storage", Extension: "conf", EnvironmentName: "CONTAINERS_STORAGE_CONF", UserId: uid}
	sp, err := configfile.GetSearchPaths(file)
	if err != nil {
		return in, err
	}
	in.Files = append(in.Files, sp.MainFiles...)
	if sp.ExtraOverrideFile != "" {
		in.Files = append(in.Files, sp.ExtraOverrideFile)
	}
	for _, d := range sp.DropInDirectories {
		in.Files = append(in.Files, d) // its time changes when a drop-in comes or goes
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			in.Files = append(in.Files, filepath.Join(d, e.Name()))
		}
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
	} else {
		in.Presence = append(in.Presence, filepath.Join("/run/user", strconv.Itoa(uid)))
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
// another node writes the store (NFS, SMB, FUSE such as sshfs): rl keeps
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
	case unix.NFS_SUPER_MAGIC, unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC, unix.CIFS_SUPER_MAGIC, unix.FUSE_SUPER_MAGIC:
		return nil, false
	}
	return []string{filepath.Join(g, "overlay-layers"), filepath.Join(g, "vfs-layers"),
		filepath.Join(g, s.Driver+"-images", "images.json"),
		filepath.Join(g, s.Driver+"-layers", "layers.json")}, true
}
