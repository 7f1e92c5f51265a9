package image

import (
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/storage/pkg/configfile"
)

// ConfigFiles lists the files and directories that can change the
// store's options for the user uid: the storage.conf files and drop-in
// directories containers/storage searches (configfile.GetSearchPaths,
// the list LoadStoreOptions reads), and the drop-ins found in them. A
// package record stamps them before Open.
func ConfigFiles(uid int) ([]string, error) {
	sp, err := configfile.GetSearchPaths(&configfile.File{Name: "storage", Extension: "conf",
		EnvironmentName: "CONTAINERS_STORAGE_CONF", UserId: uid})
	if err != nil {
		return nil, err
	}
	out := append([]string{}, sp.MainFiles...)
	if sp.ExtraOverrideFile != "" {
		out = append(out, sp.ExtraOverrideFile)
	}
	for _, d := range sp.DropInDirectories {
		out = append(out, d) // its time changes when a drop-in comes or goes
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			out = append(out, filepath.Join(d, e.Name()))
		}
	}
	return out, nil
}

// RecordFiles lists the files whose change can change what Lookup and
// LayerDirs answer in this store: the directories DetectDriver looks for,
// and the driver's image and layer lists, which containers/storage
// replaces (rename) on every change. ok is false for a store whose answers
// can come from elsewhere (an image store, additional image or layer
// stores) or from a driver other than overlay and vfs: rl keeps no record
// for those.
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
	return []string{filepath.Join(g, "overlay-layers"), filepath.Join(g, "vfs-layers"),
		filepath.Join(g, s.Driver+"-images", "images.json"),
		filepath.Join(g, s.Driver+"-layers", "layers.json")}, true
}
