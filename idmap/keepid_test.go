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
