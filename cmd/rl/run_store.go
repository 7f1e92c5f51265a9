//go:build !rllight || !rlfront

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"rl/image"
	"rl/image/record"
	"rl/ports"
	"rl/spec"
	"rl/userns"
)

// imageRoot mounts the image's layers as container id's root: the store is
// opened, the image found (pulled as --pull says) and its layers listed,
// the store closed, and the layers mounted (mountImage). On the way, the
// answer is kept as a record (package record) for the runs that follow,
// which the front then starts without this program.
func imageRoot(cfg *runConfig, id string) (*mounted, error) {
	var rec *record.Record
	if cfg.Pull != "always" {
		rec = newRecord(cfg.Image)
	}
	store, err := image.Open()
	if err != nil {
		return nil, err
	}
	trace("store open")
	defer func() {
		if store != nil {
			store.Close()
		}
	}()
	rec = stampStore(rec, store)
	img, err := findImage(store, cfg)
	if err != nil {
		return nil, err
	}
	trace("image found")
	layers, err := store.LayerDirs(img)
	if err != nil {
		return nil, err
	}
	// The image's layers stay on disk while the container runs (rl rmi
	// refuses an image in use, see mountImage); the store's locks are
	// not needed any more.
	graphRoot, runRoot := store.GraphRoot(), store.RunRoot()
	store.Close()
	store = nil
	trace("layers found, store closed")
	c := img.Config
	config := spec.Image{User: c.User, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir}
	m, err := mountImage(graphRoot, runRoot, img.ID, layers, id)
	if err != nil {
		return nil, err
	}
	m.image = config
	// The image's users as its rootfs shows them (the upper directory is
	// new and empty), read once for the Spec and the record.
	m.users, m.passwd, m.group = true, readInRoot(m.root, "/etc/passwd"), readInRoot(m.root, "/etc/group")
	if rec != nil {
		rec.ImageID, rec.Layers, rec.Config = img.ID, layers, config
		rec.Users, rec.Passwd, rec.Group = true, m.passwd, m.group
		saveRecord(rec)
	}
	return m, nil
}

// newRecord starts the record of a lookup of name ("": the listing of
// rl images) with what decides where the store is (image.Inputs),
// stamped and resolved before image.Open reads it; nil when none is to be
// kept (no cache directory).
func newRecord(name string) *record.Record {
	if cacheDir() == "" {
		return nil
	}
	uid, _ := userns.HostIDs()
	in, err := image.Inputs(uid)
	if err != nil {
		return nil
	}
	rec := &record.Record{Name: name, Env: record.Environment(), Stamps: in.Stamps}
	for _, n := range in.Env {
		if !record.Keyed(n) && !slices.Contains(rec.Env, record.EnvEntry(n)) {
			rec.Env = append(rec.Env, record.EnvEntry(n))
		}
	}
	for _, p := range in.Links {
		rec.Links = append(rec.Links, record.Link{Path: p, Target: record.Resolve(p)})
	}
	// storage makes relative paths absolute against the working
	// directory, which no record holds.
	for _, p := range append(slices.Clone(in.Links), os.Getenv("XDG_DATA_HOME"), os.Getenv("XDG_CONFIG_HOME"),
		os.Getenv("XDG_RUNTIME_DIR"), os.Getenv("TMPDIR"), os.Getenv("HOME"), os.Getenv("CONTAINERS_STORAGE_CONF")) {
		if p != "" && !filepath.IsAbs(p) {
			return nil
		}
	}
	return rec
}

// stampStore adds to rec, once the store is open and before the lookup,
// the store's roots and its files' stamps (image.Store.RecordFiles: a
// change during the lookup makes them differ from those saveRecord takes
// after it, and no record is kept), and the run root's presence (the
// store makes it at open: a record is of no use once it is gone, as after
// a reboot that empties /tmp, since the front would not make it). nil
// when no record is to be kept for this store.
func stampStore(rec *record.Record, s *image.Store) *record.Record {
	if rec == nil {
		return nil
	}
	files, ok := s.RecordFiles()
	if !ok {
		return nil
	}
	st, err := record.Stat(files)
	if err != nil {
		return nil
	}
	runRoot, err := record.StatPresence([]string{s.RunRoot()})
	if err != nil {
		return nil
	}
	rec.Stamps = append(append(rec.Stamps, st...), runRoot...)
	rec.GraphRoot, rec.RunRoot = s.GraphRoot(), s.RunRoot()
	return rec
}

// saveRecord keeps rec if all its files are still as stamped and its
// links resolve as they did (a change meanwhile may have changed the
// answer: the next run looks again). A record that cannot be written
// only costs the next run some time.
func saveRecord(rec *record.Record) {
	if !record.Fresh(rec.Stamps) {
		return
	}
	for _, l := range rec.Links {
		if record.Resolve(l.Path) != l.Target {
			return
		}
	}
	dir := cacheDir()
	sweepCache(dir)
	if err := rec.Save(dir); err != nil && verbose() {
		fmt.Fprintf(os.Stderr, "rl: not keeping a record of image %s: %v\n", rec.Name, err)
	}
}

// findImage looks the image up, pulling it as --pull says.
func findImage(store *image.Store, cfg *runConfig) (*image.Image, error) {
	pull := func() (*image.Image, error) {
		ctx, stop := interruptible()
		defer stop()
		return pullForRun(ctx, store, cfg)
	}
	if cfg.Pull == "always" {
		return pull()
	}
	img, err := store.Lookup(cfg.Image)
	if err == nil || !errors.Is(err, image.ErrNotFound) {
		return img, err
	}
	if cfg.Pull == "never" {
		return nil, &hintErr{fmt.Errorf("image %s is not in the store and --pull=never", cfg.Image), "rl pull " + cfg.Image}
	}
	return pull()
}

// publish forwards -p's ports into the container's net namespace
// (rootlesskit's port driver); the returned func stops it.
func publish(pid int, cfg *runConfig) (func(), error) {
	fwd, err := ports.Publish(pid, cfg.Publish)
	if err != nil {
		return func() {}, err
	}
	return fwd.Stop, nil
}
