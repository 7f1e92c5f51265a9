package idmap

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSubID(t *testing.T) {
	const file = `# comment
alice:100000:65536
bob:165536:65536
1000:300000:10
alice:400000:5
alice:bad:5
alice:5:0
alice:4294967295:2
alice:4294967295:1
alice:4294901760:65536
carol:1:2:3

`
	tests := []struct {
		name string
		id   uint32
		want []Range
	}{
		// The last two: 2^32-1 (not an id) is left out, and with it a
		// range of that id alone.
		{"alice", 1000, []Range{{100000, 65536}, {300000, 10}, {400000, 5}, {4294901760, 65535}}},
		{"bob", 1001, []Range{{165536, 65536}}},
		{"dave", 1002, nil},
		{"carol", 1003, nil},
	}
	for _, tt := range tests {
		got, err := ParseSubID(strings.NewReader(file), tt.name, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSubID(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		in      []Range
		exclude uint32
		want    []Range
	}{
		{nil, 1000, nil},
		{[]Range{{100000, 65536}}, 1000, []Range{{100000, 65536}}},
		{[]Range{{200, 10}, {100, 10}}, 0, []Range{{100, 10}, {200, 10}}},
		{[]Range{{100, 10}, {110, 10}}, 0, []Range{{100, 20}}},  // adjacent
		{[]Range{{100, 10}, {105, 10}}, 0, []Range{{100, 15}}},  // overlapping
		{[]Range{{100, 50}, {110, 10}}, 0, []Range{{100, 50}}},  // contained
		{[]Range{{100, 10}}, 105, []Range{{100, 5}, {106, 4}}},  // own id inside
		{[]Range{{100, 10}}, 100, []Range{{101, 9}}},            // own id first
		{[]Range{{100, 10}}, 109, []Range{{100, 9}}},            // own id last
		{[]Range{{100, 1}}, 100, []Range{}},                     // only own id
		{[]Range{{4294967290, 6}}, 0, []Range{{4294967290, 6}}}, // top of the space
	}
	for _, tt := range tests {
		got := Merge(tt.in, tt.exclude)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Merge(%v, %d) = %v, want %v", tt.in, tt.exclude, got, tt.want)
		}
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		own    uint32
		ranges []Range
		want   []Mapping
	}{
		{1000, nil, []Mapping{{0, 1000, 1}}},
		{1000, []Range{{100000, 65536}}, []Mapping{{0, 1000, 1}, {1, 100000, 65536}}},
		{1000, []Range{{300000, 10}, {100000, 65536}},
			[]Mapping{{0, 1000, 1}, {1, 100000, 65536}, {65537, 300000, 10}}},
		{100005, []Range{{100000, 10}},
			[]Mapping{{0, 100005, 1}, {1, 100000, 5}, {6, 100006, 4}}},
		// Inside, the ids end at 2^32-2 too (MaxID): a range (not from
		// ParseSubID, which trims it) of every id but 0 loses its last.
		{0, []Range{{1, 4294967295}}, []Mapping{{0, 0, 1}, {1, 1, 4294967294}}},
	}
	for _, tt := range tests {
		got, err := Build(tt.own, tt.ranges)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Build(%d, %v) = %v, want %v", tt.own, tt.ranges, got, tt.want)
		}
	}
}

func TestBuildTooManyLines(t *testing.T) {
	var rs []Range
	for i := uint32(0); i < MaxLines; i++ {
		rs = append(rs, Range{100000 + 2*i, 1})
	}
	if _, err := Build(1000, rs); err == nil {
		t.Fatal("Build accepted more lines than the kernel does")
	}
}

func TestFormatAndArgs(t *testing.T) {
	m := []Mapping{{0, 1000, 1}, {1, 100000, 65536}}
	if got, want := Format(m), "0 1000 1\n1 100000 65536\n"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	got := HelperArgs(42, m)
	want := []string{"42", "0", "1000", "1", "1", "100000", "65536"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HelperArgs = %v, want %v", got, want)
	}
}

func TestTranslate(t *testing.T) {
	m := []Mapping{{0, 1000, 1}, {1, 100000, 65536}}
	tests := []struct {
		ctr, host uint32
		ok        bool
	}{
		{0, 1000, true}, {1, 100000, true}, {1000, 100999, true}, {65536, 165535, true},
	}
	for _, tt := range tests {
		if h, ok := ToHost(m, tt.ctr); h != tt.host || ok != tt.ok {
			t.Errorf("ToHost(%d) = %d, %v", tt.ctr, h, ok)
		}
		if c, ok := ToContainer(m, tt.host); c != tt.ctr || ok != tt.ok {
			t.Errorf("ToContainer(%d) = %d, %v", tt.host, c, ok)
		}
	}
	if _, ok := ToHost(m, 65537); ok {
		t.Error("ToHost(65537) mapped past the end")
	}
	if _, ok := ToContainer(m, 999); ok {
		t.Error("ToContainer(999) mapped an unmapped id")
	}
	if Size(m) != 65537 {
		t.Errorf("Size = %d", Size(m))
	}
}

// FuzzBuild checks the invariants of any map rl would hand to newuidmap:
// container ids contiguous from 0, no host id twice, own id at 0.
func FuzzBuild(f *testing.F) {
	f.Add("alice:100000:65536\nalice:300000:10\n", uint32(1000))
	f.Add("alice:1000:10\nalice:1005:10\n", uint32(1003))
	f.Fuzz(func(t *testing.T, file string, own uint32) {
		m, ok := fuzzBuilt(file, own)
		if !ok {
			return
		}
		if m[0] != (Mapping{0, own, 1}) {
			t.Fatalf("first line %v", m[0])
		}
		next := uint64(0)
		for _, l := range m {
			if uint64(l.ContainerID) != next || l.Size == 0 {
				t.Fatalf("map not contiguous: %v", m)
			}
			next += uint64(l.Size)
		}
		checkLines(t, m)
	})
}

// fuzzBuilt is the map Build makes of a fuzzed subuid file for user
// alice (1000) at own; false when there is none.
func fuzzBuilt(file string, own uint32) ([]Mapping, bool) {
	if own > MaxID {
		return nil, false // ((uid_t)-1 is no one's id)
	}
	rs, err := ParseSubID(strings.NewReader(file), "alice", 1000)
	if err != nil {
		return nil, false
	}
	m, err := Build(own, rs)
	return m, err == nil
}

// checkLines fails t if a line of m reaches 2^32-1 on either side (the
// kernel refuses it) or two lines map one host id.
func checkLines(t *testing.T, m []Mapping) {
	t.Helper()
	type span struct{ a, b uint64 }
	var hosts []span
	for _, l := range m {
		if uint64(l.ContainerID)+uint64(l.Size)-1 > MaxID || uint64(l.HostID)+uint64(l.Size)-1 > MaxID {
			t.Fatalf("a line reaches 2^32-1, which the kernel refuses: %v", m)
		}
		s := span{uint64(l.HostID), uint64(l.HostID) + uint64(l.Size)}
		for _, h := range hosts {
			if s.a < h.b && h.a < s.b {
				t.Fatalf("host ids mapped twice: %v", m)
			}
		}
		hosts = append(hosts, s)
	}
}

func TestCompose(t *testing.T) {
	subuid := []Mapping{{0, 1000, 1}, {1, 100000, 65536}}
	for _, tc := range []struct {
		name         string
		inner, outer []Mapping
		want         []Mapping
		bad          bool
	}{
		{"keep-id over subuid: the user at 1000, 0-999 and the rest below and above",
			KeepID(1000, 65537), subuid,
			[]Mapping{{1000, 1000, 1}, {0, 100000, 1000}, {1001, 101000, 64536}}, false},
		{"keep-id, single-uid", KeepID(1000, 1), []Mapping{{0, 1000, 1}}, []Mapping{{1000, 1000, 1}}, false},
		{"a range split over two outer ranges", []Mapping{{0, 0, 3}}, subuid,
			[]Mapping{{0, 1000, 1}, {1, 100000, 2}}, false},
		{"identity", subuid, []Mapping{{0, 0, 4294967295}}, subuid, false},
		{"beyond the outer map", []Mapping{{0, 65000, 1000}}, subuid, nil, true},
		{"nothing", nil, subuid, nil, false},
	} {
		got, err := Compose(tc.inner, tc.outer)
		if (err != nil) != tc.bad || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Compose = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
