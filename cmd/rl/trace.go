package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// trace prints, with RL_TRACE=1, how long after P's start a step was
// reached, in every rl process of a run (P passes its start time on in
// the environment). It is how the start-up cost is measured step by step.
func trace(step string) {
	if os.Getenv("RL_TRACE") == "" {
		return
	}
	t0, err := strconv.ParseInt(os.Getenv("RL_TRACE_T0"), 10, 64)
	if err != nil {
		t0 = time.Now().UnixNano()
		os.Setenv("RL_TRACE_T0", strconv.FormatInt(t0, 10))
	}
	fmt.Fprintf(os.Stderr, "rl: trace %6.2f ms  pid %d  %s\n", float64(time.Now().UnixNano()-t0)/1e6, os.Getpid(), step)
}
