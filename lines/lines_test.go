package lines

import (
	"errors"
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	type line struct {
		key   string
		vals  []string
		words []string
	}
	in := []line{
		{"name", []string{"busybox"}, nil},
		{"odd", []string{"", " ", "a  b", `"q"`, "new\nline", "tab\t", `back\`, "nul\x00", "ünï", "\xff"}, nil},
		{"stamp", []string{"/p a"}, []string{"true", "12", "-3"}},
		{"flag", nil, nil},
		{"words", nil, []string{"1", "2"}},
	}
	var w Writer
	for _, l := range in {
		w.Line(l.key, l.vals, l.words...)
	}
	var out []line
	err := Each(w.String(), func(key string, vals, words []string) error {
		out = append(out, line{key, vals, words})
		return nil
	})
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Errorf("round trip: %v\n got %q\nwant %q", err, out, in)
	}
}

func TestBad(t *testing.T) {
	for _, text := range []string{"k \"unterminated\n", "k \"a\\q\"\n"} {
		err := Each(text, func(string, []string, []string) error { return nil })
		if !errors.Is(err, ErrFormat) {
			t.Errorf("Each(%q) = %v, want ErrFormat", text, err)
		}
	}
	if err := Each("", func(string, []string, []string) error { return errors.New("called") }); err != nil {
		t.Errorf("Each of nothing called f")
	}
}
