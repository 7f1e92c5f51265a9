package overlay

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestFit: how many layers go in one mount, and how they are named.
func TestFit(t *testing.T) {
	const store = "/home/someone/.local/share/containers/storage/overlay"
	layers := func(n int) []string {
		var ls []string
		for i := range n {
			ls = append(ls, filepath.Join(store, fmt.Sprintf("%064x", i), "diff"))
		}
		return ls
	}
	// A layer's short name: 26 characters, as containers/storage's.
	link := func(l string) (string, error) { return strings.ToUpper(filepath.Base(filepath.Dir(l))[38:]), nil }
	noLink := func(string) (string, error) { return "", errors.New("no link file") }
	odd := func(name string) func(string) (string, error) {
		return func(string) (string, error) { return name, nil }
	}
	upper, work := "/home/someone/.local/share/containers/storage/rl-containers/c/upper", "/home/someone/.local/share/containers/storage/rl-containers/c/work"
	for _, tc := range []struct {
		name    string
		lowers  []string
		link    func(string) (string, error)
		dir     string
		first   string // the first lower directory in the options
		tooMany bool
	}{
		{"absolute", layers(30), link, "", store + "/" + fmt.Sprintf("%064x", 0) + "/diff", false},
		{"relative to the store", layers(45), link, store, fmt.Sprintf("%064x", 0) + "/diff", false},
		{"short names", layers(72), link, store, "l/" + fmt.Sprintf("%026d", 0), false},
		{"short names up to a page", layers(130), link, store, "l/", false},
		{"more than a page even so", layers(150), link, "", "", true},
		{"no link files", layers(72), noLink, "", "", true},
		{"a link name with a comma", layers(72), odd("AB,upperdir=X"), "", "", true},
		{"a link name with a backslash", layers(72), odd("AB\\"), "", "", true},
		{"a link name with a NUL", layers(72), odd("AB\x00C"), "", "", true},
		{"a link name ..", layers(72), odd(".."), "", "", true},
		{"not one store", append(layers(60), "/elsewhere/diff"), link, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, opts, err := Fit(tc.lowers, upper, work, tc.link)
			if tc.tooMany {
				if err == nil || err.Error() != fmt.Sprintf("%d layers do not fit in one overlay mount", len(tc.lowers)) {
					t.Fatalf("err = %v, want too many layers", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dir != tc.dir || !strings.HasPrefix(opts, "lowerdir="+tc.first) {
				t.Errorf("dir %q, options %.120q...", dir, opts)
			}
			if len(opts) >= 4095 {
				t.Errorf("options of %d bytes", len(opts))
			}
			if n := strings.Count(strings.TrimPrefix(strings.Split(opts, ",")[0], "lowerdir="), ":") + 1; n != len(tc.lowers) {
				t.Errorf("%d lower directories in the options, want %d", n, len(tc.lowers))
			}
			if !strings.HasSuffix(opts, ",upperdir="+upper+",workdir="+work+",userxattr,volatile") {
				t.Errorf("options end %q", opts[max(0, len(opts)-200):])
			}
		})
	}
}
