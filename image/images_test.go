package image

import "testing"

func TestNameFor(t *testing.T) {
	names := []string{"docker.io/library/busybox:latest", "127.0.0.1:5000/busybox:latest", "localhost/mybox:v1",
		"quay.io/a/tool:1", "example.com/b/tool:1"}
	for _, c := range []struct{ name, want, err string }{
		{"busybox", "docker.io/library/busybox:latest", ""}, // normalized, before tails
		{"docker.io/library/busybox:latest", "docker.io/library/busybox:latest", ""},
		{"127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest", ""},
		{"mybox:v1", "localhost/mybox:v1", ""},
		{"b/tool:1", "example.com/b/tool:1", ""}, // one tail
		{"tool:1", "", `short name "tool:1" is ambiguous: it matches quay.io/a/tool:1 and example.com/b/tool:1`},
		{"other", "", ""},
		{"quay.io/other:1", "", ""},
	} {
		got, err := NameFor(names, c.name)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != c.want || gotErr != c.err {
			t.Errorf("NameFor(%q) = %q, %q; want %q, %q", c.name, got, gotErr, c.want, c.err)
		}
	}
}
