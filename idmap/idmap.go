// Package idmap holds the pure arithmetic of user-namespace id maps: reading
// the subordinate id ranges of /etc/subuid and /etc/subgid (subuid(5)),
// turning them into the lines of /proc/PID/uid_map and the arguments of
// newuidmap(1), and translating ids through a map. Nothing here touches the
// kernel, so all of it is table-tested.
package idmap

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Range is a run of subordinate ids granted on the host: Start, Start+1, ...
// Start+Count-1.
type Range struct {
	Start, Count uint32
}

// Mapping is one line of /proc/PID/uid_map (user_namespaces(7)): Size ids
// starting at ContainerID inside map to Size ids starting at HostID outside.
type Mapping struct {
	ContainerID, HostID, Size uint32
}

// MaxID is the highest id a map may hold on either side: (uid_t)-1,
// 2^32-1, is no id, and the kernel refuses an extent that reaches it
// (kernel/user_namespace.c, map_write: first+count may not wrap).
const MaxID = math.MaxUint32 - 1

// MaxLines is the number of lines the kernel accepts in a map since Linux
// 4.15 (UID_GID_MAP_MAX_EXTENTS in include/linux/user_namespace.h).
const MaxLines = 340

// ParseSubID reads a subuid(5)-format file and returns the ranges that
// belong to the user, named either by login name or by numeric id, in file
// order. Malformed lines are skipped, as shadow-utils does; ranges with a
// zero count or that would run past 2^32-1 are dropped, and one that ends
// at 2^32-1 loses that id (not an id: MaxID), which newuidmap would pass
// on to the kernel to be refused.
func ParseSubID(r io.Reader, name string, id uint32) ([]Range, error) {
	idStr := strconv.FormatUint(uint64(id), 10)
	var out []Range
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != name && f[0] != idStr) || f[0] == "" {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 || start+count-1 > math.MaxUint32 {
			continue
		}
		if start+count-1 > MaxID {
			if count--; count == 0 {
				continue
			}
		}
		out = append(out, Range{Start: uint32(start), Count: uint32(count)})
	}
	return out, sc.Err()
}

// Merge sorts ranges, joins overlapping or adjacent ones, and removes the
// id `exclude` (the user's own id, which is mapped to 0 separately and may
// not appear twice in a map).
func Merge(rs []Range, exclude uint32) []Range {
	rs = append([]Range(nil), rs...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	var out []Range
	for _, r := range rs {
		if n := len(out); n > 0 && uint64(out[n-1].Start)+uint64(out[n-1].Count) >= uint64(r.Start) {
			end := max(uint64(out[n-1].Start)+uint64(out[n-1].Count), uint64(r.Start)+uint64(r.Count))
			out[n-1].Count = uint32(end - uint64(out[n-1].Start))
			continue
		}
		out = append(out, r)
	}
	// Cut the excluded id out of whichever range holds it.
	for i, r := range out {
		if exclude < r.Start || uint64(exclude) >= uint64(r.Start)+uint64(r.Count) {
			continue
		}
		var repl []Range
		if exclude > r.Start {
			repl = append(repl, Range{r.Start, exclude - r.Start})
		}
		if rest := uint64(r.Start) + uint64(r.Count) - uint64(exclude) - 1; rest > 0 {
			repl = append(repl, Range{exclude + 1, uint32(rest)})
		}
		out = append(out[:i], append(repl, out[i+1:]...)...)
		break
	}
	return out
}

// Build returns the map rl uses: the caller's own id becomes 0 (so files the
// container's root writes belong to the user on the host) and the
// subordinate ranges follow from 1 upwards, contiguous inside. It returns an
// error when the ranges need more lines than the kernel accepts.
func Build(own uint32, ranges []Range) ([]Mapping, error) {
	m := []Mapping{{ContainerID: 0, HostID: own, Size: 1}}
	next := uint64(1)
	for _, r := range Merge(ranges, own) {
		if next > MaxID {
			break
		}
		size := uint64(r.Count)
		if next+size-1 > MaxID {
			size = MaxID - next + 1
		}
		m = append(m, Mapping{ContainerID: uint32(next), HostID: r.Start, Size: uint32(size)})
		next += size
	}
	if len(m) > MaxLines {
		return nil, fmt.Errorf("%d subordinate id ranges need %d map lines; the kernel accepts %d", len(ranges), len(m), MaxLines)
	}
	return m, nil
}

// Single is the map used when the user has no subordinate ids: the user's
// own id is root inside, and no other id exists.
func Single(own uint32) []Mapping {
	return []Mapping{{ContainerID: 0, HostID: own, Size: 1}}
}

// Format renders a map as the text written to /proc/PID/uid_map.
func Format(m []Mapping) string {
	var b strings.Builder
	for _, l := range m {
		fmt.Fprintf(&b, "%d %d %d\n", l.ContainerID, l.HostID, l.Size)
	}
	return b.String()
}

// HelperArgs returns the arguments of newuidmap(1)/newgidmap(1) for pid:
// "PID inside outside count ...".
func HelperArgs(pid int, m []Mapping) []string {
	args := []string{strconv.Itoa(pid)}
	for _, l := range m {
		args = append(args,
			strconv.FormatUint(uint64(l.ContainerID), 10),
			strconv.FormatUint(uint64(l.HostID), 10),
			strconv.FormatUint(uint64(l.Size), 10))
	}
	return args
}

// ToHost translates a container id to the host id, if it is mapped.
func ToHost(m []Mapping, id uint32) (uint32, bool) {
	for _, l := range m {
		if id >= l.ContainerID && uint64(id) < uint64(l.ContainerID)+uint64(l.Size) {
			return l.HostID + (id - l.ContainerID), true
		}
	}
	return 0, false
}

// ToContainer translates a host id to the container id, if it is mapped.
func ToContainer(m []Mapping, id uint32) (uint32, bool) {
	for _, l := range m {
		if id >= l.HostID && uint64(id) < uint64(l.HostID)+uint64(l.Size) {
			return l.ContainerID + (id - l.HostID), true
		}
	}
	return 0, false
}

// Size is the number of ids a map covers.
func Size(m []Mapping) uint64 {
	var n uint64
	for _, l := range m {
		n += uint64(l.Size)
	}
	return n
}

// KeepID returns the map of a nested user namespace that shows the invoking
// user as id inside (podman's --userns=keep-id). The outer namespace
// (rl's) has the user at 0 and size ids in all; the nested one maps
// id -> outer 0, 0..id-1 -> outer 1..id, and the rest, id+1..size-1, to
// themselves. With size 1 (single-uid mode) only id exists inside.
func KeepID(id, size uint32) []Mapping {
	if size <= 1 {
		return []Mapping{{ContainerID: id, HostID: 0, Size: 1}}
	}
	if id >= size {
		// Not enough subordinate ids to place the user at id with the
		// ranges below it: keep what fits below, then the user.
		return []Mapping{{ContainerID: 0, HostID: 1, Size: size - 1}, {ContainerID: id, HostID: 0, Size: 1}}
	}
	m := []Mapping{{ContainerID: id, HostID: 0, Size: 1}}
	if id > 0 {
		m = append(m, Mapping{ContainerID: 0, HostID: 1, Size: id})
	}
	if size > id+1 {
		m = append(m, Mapping{ContainerID: id + 1, HostID: id + 1, Size: size - id - 1})
	}
	return m
}

// Compose maps the ids of a namespace nested in another (inner, whose
// HostIDs are ids of the outer namespace) straight to the outer
// namespace's parent (through outer): the single namespace that shows the
// same ids as the two. Ids of inner that outer does not map are an error.
func Compose(inner, outer []Mapping) ([]Mapping, error) {
	var out []Mapping
	for _, in := range inner {
		var covered uint64
		for _, o := range outer {
			lo := max(uint64(in.HostID), uint64(o.ContainerID))
			hi := min(uint64(in.HostID)+uint64(in.Size), uint64(o.ContainerID)+uint64(o.Size))
			if lo >= hi {
				continue
			}
			out = append(out, Mapping{ContainerID: in.ContainerID + uint32(lo-uint64(in.HostID)),
				HostID: o.HostID + uint32(lo-uint64(o.ContainerID)), Size: uint32(hi - lo)})
			covered += hi - lo
		}
		if covered != uint64(in.Size) {
			return nil, fmt.Errorf("ids %d-%d of the nested map are not mapped outside it", in.HostID, uint64(in.HostID)+uint64(in.Size)-1)
		}
	}
	return out, nil
}
