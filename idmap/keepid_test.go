package idmap

import (
	"reflect"
	"testing"
)

func TestKeepID(t *testing.T) {
	for _, tc := range []struct {
		id, size uint32
		want     []Mapping
	}{
		{1000, 1, []Mapping{{1000, 0, 1}}},
		{1000, 65537, []Mapping{{1000, 0, 1}, {0, 1, 1000}, {1001, 1001, 64536}}},
		{0, 65537, []Mapping{{0, 0, 1}, {1, 1, 65536}}},
		{1000, 1001, []Mapping{{1000, 0, 1}, {0, 1, 1000}}},
		{70000, 65537, []Mapping{{0, 1, 65536}, {70000, 0, 1}}},
	} {
		got := KeepID(tc.id, tc.size)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("KeepID(%d, %d) = %v, want %v", tc.id, tc.size, got, tc.want)
		}
		// Every map must be a bijection onto outer ids below size.
		seen := map[uint32]bool{}
		for _, l := range got {
			for i := uint32(0); i < l.Size; i++ {
				if l.HostID+i >= max(tc.size, 1) || seen[l.HostID+i] {
					t.Errorf("KeepID(%d, %d): outer id %d out of range or used twice", tc.id, tc.size, l.HostID+i)
				}
				seen[l.HostID+i] = true
			}
		}
	}
}

// FuzzKeepIDCompose: keep-id's nested map over a map Build made, composed
// into one, shows every id as the two namespaces do, stays below 2^32-1
// on both sides and maps no host id twice.
func FuzzKeepIDCompose(f *testing.F) {
	f.Add("alice:100000:65536\n", uint32(1000), uint32(1000))
	f.Add("alice:1000:10\nalice:1005:10\n", uint32(1003), uint32(0))
	f.Add("alice:4294901760:65536\n", uint32(4294967294), uint32(4294967293))
	f.Fuzz(func(t *testing.T, file string, own, id uint32) {
		outer, ok := fuzzBuilt(file, own)
		if !ok || id > MaxID {
			return
		}
		size := uint32(min(Size(outer), MaxID+1))
		inner := KeepID(id, size)
		m, err := Compose(inner, outer)
		if err != nil {
			t.Fatalf("Compose(KeepID(%d, %d), %v): %v", id, size, outer, err)
		}
		if Size(m) != Size(inner) {
			t.Fatalf("composed map of %d ids, the nested one has %d", Size(m), Size(inner))
		}
		checkLines(t, m)
		// Each line's ends, and the user's id, translate as through both.
		probes := []uint32{id}
		for _, l := range inner {
			probes = append(probes, l.ContainerID, l.ContainerID+l.Size-1)
		}
		for _, x := range probes {
			mid, ok1 := ToHost(inner, x)
			want, ok2 := ToHost(outer, mid)
			got, ok := ToHost(m, x)
			if ok != (ok1 && ok2) || ok && got != want {
				t.Fatalf("id %d: composed %d %v, through both %d %v", x, got, ok, want, ok1 && ok2)
			}
		}
	})
}
