package record

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A record is text, one field a line: a name, then Go-quoted strings
// (strconv.Quote: any byte can be in a path or a command) and numbers.
// encoding/json took ~1 ms to decode a record in a fresh process (its
// decoders are built by reflection on first use), paid twice per start
// (P checks the record, C reads it); this takes ~0.1 ms.
//
//	rl-record 1
//	name "busybox"
//	env "HOME=/home/u"
//	stamp "/path" absent presence own perm dev ino size mtime ctime
//	link "/path" "/target"
//	image "ID"
//	graphroot "/g"
//	runroot "/r"
//	layer "/g/overlay/ID/diff"
//	user "1000"
//	cenv "PATH=/bin"
//	entrypoint "sh"
//	cmd "-c"
//	workdir "/"

// marshal encodes r as text.
func (r *Record) marshal() []byte {
	var b strings.Builder
	line := func(key string, vals ...string) {
		b.WriteString(key)
		for _, v := range vals {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(v))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "rl-record %d\n", r.Version)
	line("name", r.Name)
	for _, e := range r.Env {
		line("env", e)
	}
	for _, s := range r.Stamps {
		fmt.Fprintf(&b, "stamp %s %t %t %t %d %d %d %d %d %d\n", strconv.Quote(s.Path), s.Absent, s.Presence, s.Own,
			s.Perm, s.Dev, s.Ino, s.Size, s.Mtime, s.Ctime)
	}
	for _, l := range r.Links {
		line("link", l.Path, l.Target)
	}
	line("image", r.ImageID)
	line("graphroot", r.GraphRoot)
	line("runroot", r.RunRoot)
	for _, l := range r.Layers {
		line("layer", l)
	}
	line("user", r.Config.User)
	for _, e := range r.Config.Env {
		line("cenv", e)
	}
	// Entrypoint and Cmd: nil (unset) and empty differ in docker's
	// merge; a bare key line says "set, empty".
	if r.Config.Entrypoint != nil {
		line("entrypoint", r.Config.Entrypoint...)
	}
	if r.Config.Cmd != nil {
		line("cmd", r.Config.Cmd...)
	}
	line("workdir", r.Config.WorkingDir)
	return []byte(b.String())
}

var errFormat = errors.New("not a record")

// unmarshal decodes text made by marshal.
func unmarshal(text string) (*Record, error) {
	var r Record
	head, rest, _ := strings.Cut(text, "\n")
	v, ok := strings.CutPrefix(head, "rl-record ")
	if !ok {
		return nil, errFormat
	}
	var err error
	if r.Version, err = strconv.Atoi(v); err != nil {
		return nil, errFormat
	}
	if r.Version != Version {
		return &r, nil // (the caller says which)
	}
	for _, ln := range strings.Split(strings.TrimSuffix(rest, "\n"), "\n") {
		key, args, _ := strings.Cut(ln, " ")
		vals, tail, err := quoted(args)
		if err != nil {
			return nil, err
		}
		one := func(p *string) error {
			if len(vals) != 1 {
				return fmt.Errorf("%w: %s wants one value", errFormat, key)
			}
			*p = vals[0]
			return nil
		}
		switch key {
		case "name":
			err = one(&r.Name)
		case "env":
			err = one(new(string))
			r.Env = append(r.Env, vals...)
		case "stamp":
			var s Stamp
			if len(vals) != 1 {
				return nil, fmt.Errorf("%w: stamp", errFormat)
			}
			s.Path = vals[0]
			n, _ := fmt.Sscan(tail, &s.Absent, &s.Presence, &s.Own, &s.Perm, &s.Dev, &s.Ino, &s.Size, &s.Mtime, &s.Ctime)
			if n != 9 {
				return nil, fmt.Errorf("%w: stamp of %s", errFormat, s.Path)
			}
			r.Stamps = append(r.Stamps, s)
		case "link":
			if len(vals) != 2 {
				return nil, fmt.Errorf("%w: link", errFormat)
			}
			r.Links = append(r.Links, Link{Path: vals[0], Target: vals[1]})
		case "image":
			err = one(&r.ImageID)
		case "graphroot":
			err = one(&r.GraphRoot)
		case "runroot":
			err = one(&r.RunRoot)
		case "layer":
			err = one(new(string))
			r.Layers = append(r.Layers, vals...)
		case "user":
			err = one(&r.Config.User)
		case "cenv":
			err = one(new(string))
			r.Config.Env = append(r.Config.Env, vals...)
		case "entrypoint":
			r.Config.Entrypoint = append([]string{}, vals...)
		case "cmd":
			r.Config.Cmd = append([]string{}, vals...)
		case "workdir":
			err = one(&r.Config.WorkingDir)
		default:
			return nil, fmt.Errorf("%w: unknown field %q", errFormat, key)
		}
		if err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// quoted splits s into its leading Go-quoted strings and the rest.
func quoted(s string) (vals []string, rest string, err error) {
	for {
		s = strings.TrimLeft(s, " ")
		if !strings.HasPrefix(s, `"`) {
			return vals, s, nil
		}
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", errFormat, err)
		}
		v, _ := strconv.Unquote(q)
		vals = append(vals, v)
		s = s[len(q):]
	}
}
