package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// User is the resolved identity of the container's process.
type User struct {
	UID, GID       uint32
	Additional     []uint32
	Home           string // from /etc/passwd, "" when unknown
	Name           string
	ExplicitGroup  bool
	MissingInFiles bool // a numeric uid with no passwd entry
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

func parsePasswd(s string) []passwdEntry {
	var out []passwdEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 7 || strings.HasPrefix(line, "#") {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]})
	}
	return out
}

func parseGroup(s string) []groupEntry {
	var out []groupEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 || strings.HasPrefix(line, "#") {
			continue
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		var members []string
		if f[3] != "" {
			members = strings.Split(f[3], ",")
		}
		out = append(out, groupEntry{name: f[0], gid: uint32(gid), members: members})
	}
	return out
}

// ResolveUser resolves USER[:GROUP] (names or numbers) against the
// container's /etc/passwd and /etc/group contents, as docker does: a name
// must exist; a number need not; the group defaults to the user's primary
// group (0 for an unknown uid); supplementary groups come from /etc/group
// membership plus groupAdd.
func ResolveUser(spec, passwd, group string, groupAdd []string) (User, error) {
	if spec == "" {
		spec = "0"
	}
	users, groups := parsePasswd(passwd), parseGroup(group)
	us, gs, hasGroup := strings.Cut(spec, ":")
	var u User
	if n, err := strconv.ParseUint(us, 10, 32); err == nil {
		u.UID = uint32(n)
		u.MissingInFiles = true
		for _, e := range users {
			if e.uid == u.UID {
				u.GID, u.Home, u.Name, u.MissingInFiles = e.gid, e.home, e.name, false
				break
			}
		}
	} else {
		found := false
		for _, e := range users {
			if e.name == us {
				u.UID, u.GID, u.Home, u.Name, found = e.uid, e.gid, e.home, e.name, true
				break
			}
		}
		if !found {
			return User{}, fmt.Errorf("unable to find user %s: no matching entries in the image's /etc/passwd", us)
		}
	}
	if hasGroup {
		g, err := resolveGroup(gs, groups)
		if err != nil {
			return User{}, err
		}
		u.GID, u.ExplicitGroup = g, true
	}
	seen := map[uint32]bool{u.GID: true}
	if !hasGroup && u.Name != "" {
		for _, g := range groups {
			for _, m := range g.members {
				if m == u.Name && !seen[g.gid] {
					seen[g.gid] = true
					u.Additional = append(u.Additional, g.gid)
				}
			}
		}
	}
	for _, ga := range groupAdd {
		g, err := resolveGroup(ga, groups)
		if err != nil {
			return User{}, fmt.Errorf("--group-add: %v", err)
		}
		if !seen[g] {
			seen[g] = true
			u.Additional = append(u.Additional, g)
		}
	}
	return u, nil
}

func resolveGroup(s string, groups []groupEntry) (uint32, error) {
	if s == "" {
		return 0, fmt.Errorf("empty group name")
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	for _, g := range groups {
		if g.name == s {
			return g.gid, nil
		}
	}
	return 0, fmt.Errorf("unable to find group %s: no matching entries in the image's /etc/group", s)
}

// PasswdLine is the /etc/passwd entry --userns=keep-id adds for the host
// user when the image has none for that uid (podman does the same).
func PasswdLine(name string, uid, gid uint32, home string) string {
	return fmt.Sprintf("%s:*:%d:%d:%s:%s:/bin/sh\n", name, uid, gid, name, home)
}

// HasUID reports whether passwd has an entry for uid.
func HasUID(passwd string, uid uint32) bool {
	for _, e := range parsePasswd(passwd) {
		if e.uid == uid {
			return true
		}
	}
	return false
}
