//go:build rllight && rlfront

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"rl/image/record"
)

// The front is C too, when C needs no containers/storage: for --rootfs,
// and for an image whose record (package record, written by the core
// after its last lookup of that name) is fresh, unless the run asks for
// a pull or for -p (rootlesskit's port driver is in the core). Then a
// start execs this small program twice instead of it and the core, and
// does not open the store: 77.6 -> 67.8 ms single-uid, 87.0 -> 77.1 ms
// subuid (medians of 30 interleaved pairs), 73 -> 60 ms of CPU per
// single-uid start (perf stat). Otherwise C is the core, which looks the
// image up and writes the record for the next run.

// cForRun chooses the program that runs as C for rl run: this one (with
// the open record it is to use, unless --rootfs), else the core.
func cForRun(cfg *runConfig) (cChoice, error) {
	switch {
	case len(cfg.Publish) > 0: // the core
	case cfg.Rootfs != "":
		return cChoice{serial: true}, nil
	case cfg.Pull != "always":
		dir, err := cacheDirErr()
		var f *os.File
		if err == nil {
			f, _, err = record.Open(dir, cfg.Image)
		}
		if err == nil {
			return cChoice{record: f, serial: true}, nil
		}
		if verbose() && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "rl: looking %s up in the store: %v\n", cfg.Image, err)
		}
	}
	p, err := coreBinary()
	return cChoice{path: p}, err
}

// recordFile is the record P checked (cForRun), taken from its fd at once,
// before C starts any helper that would inherit it.
var recordFile *os.File

func init() {
	fd, err := strconv.Atoi(os.Getenv(envRecordFD))
	if err != nil {
		return
	}
	os.Unsetenv(envRecordFD)
	recordFile, _ = moveUp(fd, "record")
}

// imageRoot mounts the layers the record names as container id's root.
// The record is the one P checked: the open file, read here, not its
// name. The store may change after that check, as it may after the
// core's lookup (which closes the store before it mounts): a layer
// removed meanwhile fails the mount.
func imageRoot(cfg *runConfig, id string) (*mounted, error) {
	if recordFile == nil {
		return nil, errors.New("internal error: rl run's front has no image record")
	}
	rec, err := record.Read(recordFile)
	recordFile.Close()
	if err != nil {
		return nil, err
	}
	if verbose() {
		fmt.Fprintf(os.Stderr, "rl: image %s: %s, from rl's record (the store was not opened)\n", cfg.Image, rec.ImageID[:min(12, len(rec.ImageID))])
	}
	trace("record read")
	m, err := mountImage(rec.GraphRoot, rec.RunRoot, rec.ImageID, rec.Layers, id)
	if err != nil {
		return nil, err
	}
	m.image = rec.Config
	m.users, m.passwd, m.group = true, rec.Passwd, rec.Group
	return m, nil
}

// publish: -p runs with the core as C (cForRun).
func publish(int, *runConfig) (func(), error) {
	return func() {}, errors.New("internal error: -p in rl run's front")
}
