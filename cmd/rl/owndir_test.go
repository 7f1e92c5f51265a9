package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSweepCache(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	files := []struct {
		name string
		age  time.Duration
		kept bool
	}{
		{"image-old", 31 * 24 * time.Hour, false},
		{"image-new", 29 * 24 * time.Hour, true},
		{".rl-tmp-old", 2 * time.Hour, false},
		{".rl-tmp-new", time.Minute, true}, // (another rl may be writing it)
		{".rl-core-old", 2 * time.Hour, false},
		{"rl-core-old", 31 * 24 * time.Hour, true}, // a program's copy: never
		{"rl-init-old", 31 * 24 * time.Hour, true},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		os.WriteFile(p, nil, 0o600)
		os.Chtimes(p, now.Add(-f.age), now.Add(-f.age))
	}
	sweepCache(dir)
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f.name)); (err == nil) != f.kept {
			t.Errorf("%s: kept %v, want %v", f.name, err == nil, f.kept)
		}
	}
}
