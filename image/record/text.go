package record

import (
	"errors"
	"fmt"
	"strconv"

	"rl/lines"
)

// A record is text in package lines' format (encoding/json took ~1 ms to
// decode one in a fresh process, paid by P and again by C):
//
//	rl-record 1
//	name "busybox"
//	env "HOME=/home/u"
//	stamp "/path" ABSENT PRESENCE OWN PERM DEV INO SIZE MTIME CTIME
//	link "/path" "/target"
//	image "ID"
//	graphroot "/g"
//	runroot "/r"
//	layer "/g/overlay/ID/diff"
//	user "1000"
//	cenv "PATH=/bin"
//	entrypoint "sh"...   (absent: unset; bare: set and empty)
//	cmd "-c"...
//	workdir "/"
//	passwd "root:x:0:0::/root:/bin/sh\n"   (absent: not read)
//	group "root:x:0:\n"
//	listed "ID" "DIGEST" "CREATED" SIZE   (the listing record: rl images)
//	listedname "NAME"

// marshal encodes r as text.
func (r *Record) marshal() []byte {
	var w lines.Writer
	one := func(key string, v string) { w.Line(key, []string{v}) }
	w.Line("rl-record", nil, strconv.Itoa(r.Version))
	one("name", r.Name)
	for _, e := range r.Env {
		one("env", e)
	}
	for _, s := range r.Stamps {
		w.Line("stamp", []string{s.Path}, strconv.FormatBool(s.Absent), strconv.FormatBool(s.Presence),
			strconv.FormatBool(s.Own), fmt.Sprint(s.Perm), fmt.Sprint(s.Dev), fmt.Sprint(s.Ino),
			fmt.Sprint(s.Size), fmt.Sprint(s.Mtime), fmt.Sprint(s.Ctime))
	}
	for _, l := range r.Links {
		w.Line("link", []string{l.Path, l.Target})
	}
	one("image", r.ImageID)
	one("graphroot", r.GraphRoot)
	one("runroot", r.RunRoot)
	for _, l := range r.Layers {
		one("layer", l)
	}
	one("user", r.Config.User)
	for _, e := range r.Config.Env {
		one("cenv", e)
	}
	// docker's merge tells an unset Entrypoint or Cmd from an empty one.
	if r.Config.Entrypoint != nil {
		w.Line("entrypoint", r.Config.Entrypoint)
	}
	if r.Config.Cmd != nil {
		w.Line("cmd", r.Config.Cmd)
	}
	one("workdir", r.Config.WorkingDir)
	if r.Users {
		one("passwd", r.Passwd)
		one("group", r.Group)
	}
	for _, i := range r.Images {
		created, _ := i.Created.MarshalText()
		w.Line("listed", []string{i.ID, i.Digest, string(created)}, strconv.FormatInt(i.Size, 10))
		for _, n := range i.Names {
			one("listedname", n)
		}
	}
	return []byte(w.String())
}

var errFormat = errors.New("not a record")

// unmarshal decodes text made by marshal. A record of another Version
// comes back with only its Version set (the caller says which).
func unmarshal(text string) (*Record, error) {
	var r Record
	first := true
	err := lines.Each(text, func(key string, vals, words []string) error {
		if first {
			first = false
			if key != "rl-record" || len(words) != 1 {
				return errFormat
			}
			var err error
			if r.Version, err = strconv.Atoi(words[0]); err != nil {
				return errFormat
			}
			if r.Version != Version {
				return errOtherVersion
			}
			return nil
		}
		str := func(p *string) error { return lines.String(key, vals, words, p) }
		add := func(p *[]string) error { return lines.Append(key, vals, words, p) }
		switch key {
		case "name":
			return str(&r.Name)
		case "env":
			return add(&r.Env)
		case "stamp":
			if len(vals) != 1 || len(words) != 9 {
				return fmt.Errorf("%w: stamp", errFormat)
			}
			var bad error
			b := func(w string) bool {
				v, err := strconv.ParseBool(w)
				bad = errors.Join(bad, err)
				return v
			}
			u := func(w string) uint64 {
				v, err := strconv.ParseUint(w, 10, 64)
				bad = errors.Join(bad, err)
				return v
			}
			i := func(w string) int64 {
				v, err := strconv.ParseInt(w, 10, 64)
				bad = errors.Join(bad, err)
				return v
			}
			s := Stamp{Path: vals[0], Absent: b(words[0]), Presence: b(words[1]), Own: b(words[2]), Perm: uint32(u(words[3])),
				Dev: u(words[4]), Ino: u(words[5]), Size: i(words[6]), Mtime: i(words[7]), Ctime: i(words[8])}
			if bad != nil {
				return fmt.Errorf("%w: stamp of %s", errFormat, s.Path)
			}
			r.Stamps = append(r.Stamps, s)
		case "link":
			if len(vals) != 2 || words != nil {
				return fmt.Errorf("%w: link", errFormat)
			}
			r.Links = append(r.Links, Link{Path: vals[0], Target: vals[1]})
		case "image":
			return str(&r.ImageID)
		case "graphroot":
			return str(&r.GraphRoot)
		case "runroot":
			return str(&r.RunRoot)
		case "layer":
			return add(&r.Layers)
		case "user":
			return str(&r.Config.User)
		case "cenv":
			return add(&r.Config.Env)
		case "entrypoint":
			r.Config.Entrypoint = append([]string{}, vals...)
		case "cmd":
			r.Config.Cmd = append([]string{}, vals...)
		case "workdir":
			return str(&r.Config.WorkingDir)
		case "passwd":
			r.Users = true
			return str(&r.Passwd)
		case "group":
			return str(&r.Group)
		case "listed":
			var i Listed
			if len(vals) != 3 || len(words) != 1 {
				return fmt.Errorf("%w: listed", errFormat)
			}
			size, err := strconv.ParseInt(words[0], 10, 64)
			if err != nil || i.Created.UnmarshalText([]byte(vals[2])) != nil {
				return fmt.Errorf("%w: listed", errFormat)
			}
			i.ID, i.Digest, i.Size = vals[0], vals[1], size
			r.Images = append(r.Images, i)
		case "listedname":
			if len(r.Images) == 0 {
				return fmt.Errorf("%w: listedname", errFormat)
			}
			return add(&r.Images[len(r.Images)-1].Names)
		default:
			return fmt.Errorf("%w: unknown field %q", errFormat, key)
		}
		return nil
	})
	switch {
	case errors.Is(err, errOtherVersion):
		return &Record{Version: r.Version}, nil
	case first:
		return nil, errFormat // no line at all
	case err != nil && !errors.Is(err, errFormat):
		return nil, fmt.Errorf("%w: %v", errFormat, err)
	}
	return &r, err
}

var errOtherVersion = errors.New("another version")
