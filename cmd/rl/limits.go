package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"rl/cgroupv2"
)

// limitFlags are the resource-limit flags of `rl run` (docker/podman names).
type limitFlags struct {
	memory, memorySwap, memoryReservation string
	cpus, cpusetCPUs                      string
	cpuShares, cpuWeight, blkioWeight     uint64
	pidsLimit                             int64
	readBps, writeBps                     []string
}

func (f *limitFlags) Define(fs *pflag.FlagSet) {
	fs.StringVarP(&f.memory, "memory", "m", "", "memory limit (`SIZE`, e.g. 32m)")
	fs.StringVar(&f.memorySwap, "memory-swap", "", "memory plus swap limit (`SIZE`, -1 unlimited)")
	fs.StringVar(&f.memoryReservation, "memory-reservation", "", "memory soft limit (`SIZE`)")
	fs.StringVar(&f.cpus, "cpus", "", "number of `CPUS` (e.g. 0.5)")
	fs.Uint64VarP(&f.cpuShares, "cpu-shares", "c", 0, "relative CPU `SHARES` (cgroup v1 scale, default 1024)")
	fs.Uint64Var(&f.cpuWeight, "cpu-weight", 0, "relative CPU `WEIGHT` (1-10000, default 100)")
	fs.StringVar(&f.cpusetCPUs, "cpuset-cpus", "", "`CPUS` the container may use (0-3, 0,1)")
	fs.Int64Var(&f.pidsLimit, "pids-limit", 0, "maximum number of `PIDS`")
	fs.Uint64Var(&f.blkioWeight, "blkio-weight", 0, "relative block I/O `WEIGHT` (10-1000)")
	listVar(fs, &f.readBps, "device-read-bps", "", "read rate `DEVICE:RATE` (e.g. /dev/sda:1mb)", false)
	listVar(fs, &f.writeBps, "device-write-bps", "", "write rate `DEVICE:RATE`", false)
}

// Parse returns the limits asked for, or nil when no limit flag was given.
func (f *limitFlags) Parse(fs *pflag.FlagSet) (*cgroupv2.Limits, error) {
	l := &cgroupv2.Limits{}
	set := func(name string) bool {
		if fs.Changed(name) {
			l.Set = append(l.Set, "--"+name)
			return true
		}
		return false
	}
	var err error
	size := func(name, v string) int64 {
		if err != nil {
			return 0
		}
		var n int64
		if n, err = cgroupv2.ParseSize(v); err != nil {
			err = fmt.Errorf("--%s: %v", name, err)
		}
		return n
	}
	if set("memory") {
		l.MemoryMax = size("memory", f.memory)
		if err == nil && l.MemoryMax < 6<<20 {
			err = fmt.Errorf("--memory %s: the minimum is 6m", f.memory)
		}
	}
	if set("memory-reservation") {
		l.MemoryHigh = size("memory-reservation", f.memoryReservation)
	}
	if set("memory-swap") {
		if f.memorySwap == "-1" {
			l.SwapMax = -1
		} else if total := size("memory-swap", f.memorySwap); err == nil {
			// docker: --memory-swap is memory plus swap.
			if l.MemoryMax == 0 || total < l.MemoryMax {
				err = fmt.Errorf("--memory-swap %s: must be at least --memory (it is memory plus swap)", f.memorySwap)
			}
			l.SwapMax = total - l.MemoryMax
			if l.SwapMax == 0 {
				l.SwapMax = cgroupv2.NoSwap
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if set("cpus") {
		if l.CPUQuota, err = cgroupv2.ParseCPUs(f.cpus); err != nil {
			return nil, err
		}
		l.CPUPeriod = cgroupv2.DefaultCPUPeriod
	}
	if set("cpu-shares") {
		l.CPUWeight = cgroupv2.SharesToWeight(f.cpuShares)
	}
	if set("cpu-weight") {
		if f.cpuWeight < 1 || f.cpuWeight > 10000 {
			return nil, fmt.Errorf("--cpu-weight %d: want 1 to 10000", f.cpuWeight)
		}
		l.CPUWeight = f.cpuWeight
	}
	if set("cpuset-cpus") {
		for _, part := range strings.Split(f.cpusetCPUs, ",") {
			lo, hi, _ := strings.Cut(part, "-")
			if _, e := strconv.ParseUint(lo, 10, 16); e != nil {
				return nil, fmt.Errorf("--cpuset-cpus %q: want a list such as 0-3,5", f.cpusetCPUs)
			}
			if _, e := strconv.ParseUint(hi, 10, 16); hi != "" && e != nil {
				return nil, fmt.Errorf("--cpuset-cpus %q: want a list such as 0-3,5", f.cpusetCPUs)
			}
		}
		l.CpusetCPUs = f.cpusetCPUs
	}
	if set("pids-limit") {
		if f.pidsLimit < 1 {
			return nil, fmt.Errorf("--pids-limit %d: want at least 1", f.pidsLimit)
		}
		l.PidsMax = f.pidsLimit
	}
	if set("blkio-weight") {
		if f.blkioWeight < 10 || f.blkioWeight > 1000 {
			return nil, fmt.Errorf("--blkio-weight %d: want 10 to 1000", f.blkioWeight)
		}
		l.IOWeight = 1 + (f.blkioWeight-10)*9999/990
	}
	for _, d := range []struct {
		name, key string
		vals      []string
	}{{"device-read-bps", "rbps", f.readBps}, {"device-write-bps", "wbps", f.writeBps}} {
		if !set(d.name) {
			continue
		}
		for _, v := range d.vals {
			dev, rate, ok := strings.Cut(v, ":")
			if !ok {
				return nil, fmt.Errorf("--%s %q: want DEVICE:RATE", d.name, v)
			}
			var st unix.Stat_t
			if e := unix.Stat(dev, &st); e != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
				return nil, fmt.Errorf("--%s %q: %s is not a block device", d.name, v, dev)
			}
			n, e := cgroupv2.ParseSize(rate)
			if e != nil {
				return nil, fmt.Errorf("--%s %q: %v", d.name, v, e)
			}
			l.IOMax = append(l.IOMax, cgroupv2.IOMax{Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev), Key: d.key, Value: n})
		}
	}
	if len(l.Set) == 0 {
		return nil, nil
	}
	return l, nil
}
