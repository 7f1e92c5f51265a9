package cgroupv2

import (
	"reflect"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "512", want: 512},
		{in: "512b", want: 512},
		{in: "4k", want: 4096},
		{in: "32m", want: 32 << 20},
		{in: "32M", want: 32 << 20},
		{in: "32mb", want: 32 << 20},
		{in: "1.5g", want: 3 << 29},
		{in: "1t", want: 1 << 40},
		{in: " 8m ", want: 8 << 20},
		{in: "", bad: true},
		{in: "m", bad: true},
		{in: "-1m", bad: true},
		{in: "ten", bad: true},
		{in: "NaN", bad: true},
		{in: "Inf", bad: true},
		{in: "9999999999t", bad: true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseCPUs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1", want: 100000},
		{in: "0.5", want: 50000},
		{in: "1.5", want: 150000},
		{in: "0.01", want: 1000},
		{in: "0.001", bad: true}, // below the kernel's 1 ms quota
		{in: "0", bad: true},
		{in: "-1", bad: true},
		{in: "two", bad: true},
		{in: "NaN", bad: true},
		{in: "2000", bad: true},
	} {
		got, err := ParseCPUs(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseCPUs(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	// The values runc and crun compute (docker's default 1024 -> 39).
	for in, want := range map[uint64]uint64{0: 0, 1: 1, 2: 1, 512: 20, 1024: 39, 262144: 10000, 1 << 30: 10000} {
		if got := SharesToWeight(in); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestControllersAndFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		l     Limits
		ctls  []string
		files [][2]string
	}{
		{name: "none", l: Limits{}},
		{name: "memory", l: Limits{MemoryMax: 32 << 20}, ctls: []string{"memory"},
			files: [][2]string{{"memory.max", "33554432"}}},
		{name: "memory and swap", l: Limits{MemoryMax: 32 << 20, SwapMax: 32 << 20, MemoryHigh: 16 << 20}, ctls: []string{"memory"},
			files: [][2]string{{"memory.max", "33554432"}, {"memory.low", "16777216"}, {"memory.swap.max", "33554432"}}},
		{name: "no swap", l: Limits{MemoryMax: 1 << 20, SwapMax: NoSwap}, ctls: []string{"memory"},
			files: [][2]string{{"memory.max", "1048576"}, {"memory.swap.max", "0"}}},
		{name: "unlimited swap", l: Limits{MemoryMax: 1 << 20, SwapMax: -1}, ctls: []string{"memory"},
			files: [][2]string{{"memory.max", "1048576"}, {"memory.swap.max", "max"}}},
		{name: "cpu", l: Limits{CPUQuota: 10000, CPUPeriod: 100000, CPUWeight: 20}, ctls: []string{"cpu"},
			files: [][2]string{{"cpu.max", "10000 100000"}, {"cpu.weight", "20"}}},
		{name: "cpuset pids io", l: Limits{CpusetCPUs: "0-1", PidsMax: 5, IOWeight: 500, IOMax: []IOMax{{8, 0, "rbps", 1 << 20}}},
			ctls:  []string{"cpuset", "pids", "io"},
			files: [][2]string{{"cpuset.cpus", "0-1"}, {"pids.max", "5"}, {"io.weight", "default 500"}, {"io.max", "8:0 rbps=1048576"}}},
	} {
		if got := tc.l.Controllers(); !reflect.DeepEqual(got, tc.ctls) {
			t.Errorf("%s: Controllers() = %q, want %q", tc.name, got, tc.ctls)
		}
		if got := tc.l.Files(); !reflect.DeepEqual(got, tc.files) {
			t.Errorf("%s: Files() = %q, want %q", tc.name, got, tc.files)
		}
	}
}

func TestParseKeyed(t *testing.T) {
	got := ParseKeyed("usage_usec 261446\nnr_throttled 26\nbad line here\nthrottled_usec x\n\n")
	want := map[string]int64{"usage_usec": 261446, "nr_throttled": 26}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseKeyed = %v, want %v", got, want)
	}
}

func TestParseIOStat(t *testing.T) {
	r, w := ParseIOStat("8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n254:0 rbytes=100 wbytes=0 rios=2\n")
	if r != 4196 || w != 512 {
		t.Errorf("ParseIOStat = %d, %d; want 4196, 512", r, w)
	}
}

func TestOwnCgroup(t *testing.T) {
	// /proc/self/cgroup of this very process: on a hybrid host it has a
	// 0:: line for the (empty) unified tree; on v2 only that line.
	p, err := ownCgroup("/proc/self/cgroup")
	if err != nil || p == "" || p[0] != '/' {
		t.Errorf("ownCgroup = %q, %v", p, err)
	}
}
