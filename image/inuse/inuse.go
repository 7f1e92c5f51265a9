// Package inuse records which running containers use which image: one
// file per container in the store's run root, named after it and holding
// the image ID and the pid of its rl, so that rl rmi can refuse an image
// in use without a containers/storage container record per run (which
// costs tens of ms). It has no containers/storage in it: rl run's front
// marks images too (see package record).
package inuse

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dir is where the marks of the store with run root runRoot are.
func Dir(runRoot string) string { return filepath.Join(runRoot, "rl-in-use") }

// Mark records that container id runs imageID; the returned func removes
// the record.
func Mark(runRoot, id, imageID string) (func(), error) {
	dir := Dir(runRoot)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, id)
	if err := os.WriteFile(p, []byte(fmt.Sprintf("%s %d\n", imageID, os.Getpid())), 0o600); err != nil {
		return nil, err
	}
	return func() { os.Remove(p) }, nil
}

// Users lists the live containers that use imageID; marks whose rl died
// are removed.
func Users(runRoot, imageID string) []string {
	dir := Dir(runRoot)
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var id string
		var pid int
		fmt.Sscanf(string(b), "%s %d", &id, &pid)
		if pid > 0 && unix.Kill(pid, 0) != nil {
			os.Remove(filepath.Join(dir, e.Name())) // its rl died
			continue
		}
		if id == imageID {
			out = append(out, e.Name())
		}
	}
	return out
}
