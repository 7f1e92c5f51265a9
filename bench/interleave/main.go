// Command interleave times commands round-robin (interleave N CMD...):
// each round runs every command once, so that a machine whose speed
// drifts over minutes slows them alike, which hyperfine's runs of one
// command after another do not (make bench: the start rows' ratios).
// A command is split on spaces and executed directly (no shell); one
// that starts with "~" runs in its turn untimed (make bench: an rl run
// after podman's, whose writes to the shared store make rl's record of
// the image stale, so that rl's next run would look it up again). It
// prints each timed command's median and mean in ms, one line each, in
// order.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: interleave N CMD...")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: interleave N CMD...")
		os.Exit(2)
	}
	cmds := os.Args[2:]
	times := make([][]float64, len(cmds))
	for round := -1; round < n; round++ { // (round -1: a warm-up, not counted)
		for i, c := range cmds {
			timed := !strings.HasPrefix(c, "~")
			f := strings.Fields(strings.TrimPrefix(c, "~"))
			t := time.Now()
			if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "interleave: %s: %v: %s\n", c, err, out)
				os.Exit(1)
			}
			if round >= 0 && timed {
				times[i] = append(times[i], float64(time.Since(t).Microseconds())/1000)
			}
		}
	}
	for i := range cmds {
		s := times[i]
		if len(s) == 0 {
			continue // (untimed)
		}
		sort.Float64s(s)
		sum := 0.0
		for _, v := range s {
			sum += v
		}
		fmt.Printf("%.1f %.1f\n", s[len(s)/2], sum/float64(len(s)))
	}
}
