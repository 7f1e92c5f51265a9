package main

import (
	"fmt"
	"os"

	"rl/userns"
	"strings"
)

func init() { implement("info", runInfo) }

func runInfo(args []string) error {
	if len(args) > 0 {
		return &usageError{Msg: "info takes no arguments", Code: exitUsage}
	}
	uid, gid := userns.HostIDs()
	fmt.Printf("host uid: %d\nhost gid: %d\nidmap mode: %s\n", uid, gid, userns.Mode())
	for _, f := range []string{"/proc/self/uid_map", "/proc/self/gid_map"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Printf("%s:\n%s", f, b)
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "CapEff:") {
				fmt.Println("capabilities:", strings.TrimSpace(l[7:]))
			}
		}
	}
	return nil
}
