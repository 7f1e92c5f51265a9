// Package cgroupv2 finds out whether the caller owns a delegated cgroup v2
// subtree, and (where it does) gives each container a cgroup of its own
// with the requested limits. Where limits cannot hold (cgroup v1, hybrid
// hosts, no delegation, a controller not delegated) it says so, so that
// rl never pretends a limit is enforced.
//
// The parsing of limit values is pure and table-tested; detection reads
// /proc/self/cgroup, /proc/self/mountinfo and the cgroup files.
package cgroupv2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits are the resource limits of one container, in cgroup v2 units.
// Zero values mean "not set".
type Limits struct {
	MemoryMax  int64 // memory.max, bytes
	MemoryHigh int64 // from --memory-reservation: memory.low, bytes
	SwapMax    int64 // memory.swap.max, bytes (-1: unlimited, NoSwap: none)
	CPUQuota   int64 // cpu.max quota, µs per CPUPeriod
	CPUPeriod  int64
	CPUWeight  uint64 // cpu.weight 1..10000
	CpusetCPUs string // cpuset.cpus
	PidsMax    int64  // pids.max
	IOWeight   uint64 // io.weight 1..10000
	IOMax      []IOMax
	// Set lists the flags that asked for each limit, for messages.
	Set []string
}

// NoSwap is SwapMax when --memory-swap equals --memory.
const NoSwap = -2

// IOMax is one io.max line for a device.
type IOMax struct {
	Major, Minor uint32
	Key          string // rbps or wbps
	Value        int64
}

// ParseSize parses docker's sizes: a number with an optional unit b, k,
// m, g, t (powers of 1024), as in --memory 32m.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	if t == "" {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	mult := int64(1)
	switch t[len(t)-1] {
	case 'k':
		mult = 1 << 10
	case 'm':
		mult = 1 << 20
	case 'g':
		mult = 1 << 30
	case 't':
		mult = 1 << 40
	}
	if mult != 1 {
		t = t[:len(t)-1]
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not a size (want e.g. 512k, 32m, 1g)", s)
	}
	return int64(f * float64(mult)), nil
}

// DefaultCPUPeriod is the cpu.max period rl uses for --cpus (100 ms, as
// docker).
const DefaultCPUPeriod = 100000

// ParseCPUs turns --cpus 1.5 into a cpu.max quota per DefaultCPUPeriod.
func ParseCPUs(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1024 || math.IsNaN(f) {
		return 0, fmt.Errorf("--cpus %q: want a positive number of CPUs such as 0.5 or 2", s)
	}
	q := int64(math.Round(f * DefaultCPUPeriod))
	if q < 1000 {
		return 0, fmt.Errorf("--cpus %q: below the kernel's minimum of 0.01 CPU", s)
	}
	return q, nil
}

// SharesToWeight converts cgroup v1 cpu.shares (2..262144, default 1024)
// to cgroup v2 cpu.weight (1..10000, default 100), with the formula of
// the OCI runtimes (runc, crun).
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = max(2, min(shares, 262144))
	return 1 + ((shares-2)*9999)/262142
}

// Controllers are the cgroup controllers the limits need.
func (l *Limits) Controllers() []string {
	var c []string
	if l.MemoryMax != 0 || l.MemoryHigh != 0 || l.SwapMax != 0 {
		c = append(c, "memory")
	}
	if l.CPUQuota != 0 || l.CPUWeight != 0 {
		c = append(c, "cpu")
	}
	if l.CpusetCPUs != "" {
		c = append(c, "cpuset")
	}
	if l.PidsMax != 0 {
		c = append(c, "pids")
	}
	if l.IOWeight != 0 || len(l.IOMax) > 0 {
		c = append(c, "io")
	}
	return c
}

// Files returns the cgroup files and values that apply the limits, in the
// order to write them.
func (l *Limits) Files() [][2]string {
	var f [][2]string
	add := func(k, v string) { f = append(f, [2]string{k, v}) }
	if l.MemoryMax > 0 {
		add("memory.max", strconv.FormatInt(l.MemoryMax, 10))
	}
	if l.MemoryHigh > 0 {
		add("memory.low", strconv.FormatInt(l.MemoryHigh, 10))
	}
	switch {
	case l.SwapMax > 0:
		add("memory.swap.max", strconv.FormatInt(l.SwapMax, 10))
	case l.SwapMax == NoSwap:
		add("memory.swap.max", "0")
	case l.SwapMax < 0:
		add("memory.swap.max", "max")
	}
	if l.CPUQuota > 0 {
		add("cpu.max", fmt.Sprintf("%d %d", l.CPUQuota, l.CPUPeriod))
	}
	if l.CPUWeight > 0 {
		add("cpu.weight", strconv.FormatUint(l.CPUWeight, 10))
	}
	if l.CpusetCPUs != "" {
		add("cpuset.cpus", l.CpusetCPUs)
	}
	if l.PidsMax > 0 {
		add("pids.max", strconv.FormatInt(l.PidsMax, 10))
	}
	if l.IOWeight > 0 {
		add("io.weight", "default "+strconv.FormatUint(l.IOWeight, 10))
	}
	for _, m := range l.IOMax {
		add("io.max", fmt.Sprintf("%d:%d %s=%d", m.Major, m.Minor, m.Key, m.Value))
	}
	return f
}
