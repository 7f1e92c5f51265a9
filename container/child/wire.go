package child

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"rl/lines"
)

// The Config travels from C to I as text in package lines' format, after
// a header that gives its length (I must not read past it: the go-ahead
// byte may follow on the socket). encoding/json cost I ~1 ms to decode it
// in a fresh process, on the critical path of every start.
//
//	rl-config N
//	root "/r"
//	overlay "upper" "work" "lower"...
//	tap "tap0"
//	passwdline "user:x:1000:1000::/home/user:/bin/sh\n"
//	readonly
//	hostname "h"
//	mount "/dest" "type" "source" "opt"...
//	netns
//	masked "/proc/kcore"
//	readonlypath "/proc/sys"
//	arg "sh"
//	env "A=1"
//	cwd "/"
//	user "name" UID GID UMASK|-
//	gid N
//	caps
//	cap "bounding|effective|inheritable|permitted|ambient" "CAP_X"...
//	nonewprivs
//	oomscoreadj N
//	terminal
//	beforeexec

// maxConfig bounds what I reads (a Spec of many mounts is a few kB).
const maxConfig = 16 << 20

// WriteConfig sends c on w.
func WriteConfig(w io.Writer, c Config) error {
	var l lines.Writer
	one := func(key, v string) { l.Line(key, []string{v}) }
	flag := func(key string, on bool) {
		if on {
			l.Line(key, nil)
		}
	}
	one("root", c.Root)
	if o := c.Overlay; o != nil {
		l.Line("overlay", append([]string{o.Upper, o.Work}, o.Lowers...))
	}
	if c.Tap != "" {
		one("tap", c.Tap)
	}
	if c.PasswdLine != "" {
		one("passwdline", c.PasswdLine)
	}
	flag("readonly", c.ReadOnly)
	one("hostname", c.Hostname)
	for _, m := range c.Mounts {
		if m.UIDMappings != nil || m.GIDMappings != nil {
			return fmt.Errorf("internal error: mount %s has id mappings, which rl does not make", m.Destination)
		}
		l.Line("mount", append([]string{m.Destination, m.Type, m.Source}, m.Options...))
	}
	flag("netns", c.NetNS)
	for _, p := range c.MaskedPaths {
		one("masked", p)
	}
	for _, p := range c.ReadonlyPaths {
		one("readonlypath", p)
	}
	for _, a := range c.Args {
		one("arg", a)
	}
	for _, e := range c.Env {
		one("env", e)
	}
	one("cwd", c.Cwd)
	umask := "-"
	if c.User.Umask != nil {
		umask = strconv.FormatUint(uint64(*c.User.Umask), 10)
	}
	l.Line("user", []string{c.User.Username}, strconv.FormatUint(uint64(c.User.UID), 10), strconv.FormatUint(uint64(c.User.GID), 10), umask)
	for _, g := range c.User.AdditionalGids {
		l.Line("gid", nil, strconv.FormatUint(uint64(g), 10))
	}
	if k := c.Capabilities; k != nil {
		l.Line("caps", nil)
		for _, set := range capSets(k) {
			if *set.caps != nil {
				l.Line("cap", append([]string{set.name}, *set.caps...))
			}
		}
	}
	flag("nonewprivs", c.NoNewPrivs)
	if c.OOMScoreAdj != nil {
		l.Line("oomscoreadj", nil, strconv.Itoa(*c.OOMScoreAdj))
	}
	flag("terminal", c.Terminal)
	flag("beforeexec", c.BeforeExec)
	body := l.String()
	_, err := io.WriteString(w, "rl-config "+strconv.Itoa(len(body))+"\n"+body)
	return err
}

func capSets(k *specs.LinuxCapabilities) []struct {
	name string
	caps *[]string
} {
	return []struct {
		name string
		caps *[]string
	}{{"bounding", &k.Bounding}, {"effective", &k.Effective}, {"inheritable", &k.Inheritable},
		{"permitted", &k.Permitted}, {"ambient", &k.Ambient}}
}

var errConfig = errors.New("malformed configuration")

// ReadConfig reads a Config sent by WriteConfig, and nothing after it.
func ReadConfig(r io.Reader) (Config, error) {
	var head []byte
	for len(head) < 32 {
		var one [1]byte
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return Config{}, err
		}
		if one[0] == '\n' {
			break
		}
		head = append(head, one[0])
	}
	var n int
	if _, err := fmt.Sscanf(string(head), "rl-config %d", &n); err != nil || n < 0 || n > maxConfig {
		return Config{}, errConfig
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return Config{}, err
	}
	return parseConfig(string(body))
}

func parseConfig(text string) (Config, error) {
	var c Config
	err := lines.Each(text, func(key string, vals, words []string) error {
		str := func(p *string) error { return lines.String(key, vals, words, p) }
		add := func(p *[]string) error { return lines.Append(key, vals, words, p) }
		num := func(w string, bits int) (uint64, error) {
			v, err := strconv.ParseUint(w, 10, bits)
			if err != nil {
				return 0, fmt.Errorf("%w: %s", errConfig, key)
			}
			return v, nil
		}
		switch key {
		case "root":
			return str(&c.Root)
		case "overlay":
			if len(vals) < 3 || words != nil {
				return fmt.Errorf("%w: overlay", errConfig)
			}
			c.Overlay = &Overlay{Upper: vals[0], Work: vals[1], Lowers: vals[2:]}
		case "tap":
			return str(&c.Tap)
		case "passwdline":
			return str(&c.PasswdLine)
		case "readonly":
			c.ReadOnly = true
		case "hostname":
			return str(&c.Hostname)
		case "mount":
			if len(vals) < 3 || words != nil {
				return fmt.Errorf("%w: mount", errConfig)
			}
			m := specs.Mount{Destination: vals[0], Type: vals[1], Source: vals[2]}
			if len(vals) > 3 {
				m.Options = vals[3:]
			}
			c.Mounts = append(c.Mounts, m)
		case "netns":
			c.NetNS = true
		case "masked":
			return add(&c.MaskedPaths)
		case "readonlypath":
			return add(&c.ReadonlyPaths)
		case "arg":
			return add(&c.Args)
		case "env":
			return add(&c.Env)
		case "cwd":
			return str(&c.Cwd)
		case "user":
			if len(vals) != 1 || len(words) != 3 {
				return fmt.Errorf("%w: user", errConfig)
			}
			uid, err := num(words[0], 32)
			if err != nil {
				return err
			}
			gid, err := num(words[1], 32)
			if err != nil {
				return err
			}
			c.User.Username, c.User.UID, c.User.GID = vals[0], uint32(uid), uint32(gid)
			if words[2] != "-" {
				m, err := num(words[2], 32)
				if err != nil {
					return err
				}
				m32 := uint32(m)
				c.User.Umask = &m32
			}
		case "gid":
			if len(words) != 1 {
				return fmt.Errorf("%w: gid", errConfig)
			}
			g, err := num(words[0], 32)
			if err != nil {
				return err
			}
			c.User.AdditionalGids = append(c.User.AdditionalGids, uint32(g))
		case "caps":
			c.Capabilities = &specs.LinuxCapabilities{}
		case "cap":
			if c.Capabilities == nil || len(vals) < 1 {
				return fmt.Errorf("%w: cap", errConfig)
			}
			for _, set := range capSets(c.Capabilities) {
				if set.name == vals[0] {
					*set.caps = append([]string{}, vals[1:]...)
					return nil
				}
			}
			return fmt.Errorf("%w: cap set %q", errConfig, vals[0])
		case "nonewprivs":
			c.NoNewPrivs = true
		case "oomscoreadj":
			if len(words) != 1 {
				return fmt.Errorf("%w: oomscoreadj", errConfig)
			}
			adj, err := strconv.Atoi(words[0])
			if err != nil {
				return fmt.Errorf("%w: oomscoreadj", errConfig)
			}
			c.OOMScoreAdj = &adj
		case "terminal":
			c.Terminal = true
		case "beforeexec":
			c.BeforeExec = true
		default:
			return fmt.Errorf("%w: unknown field %q", errConfig, key)
		}
		return nil
	})
	return c, err
}
