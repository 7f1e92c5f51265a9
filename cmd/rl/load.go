//go:build !rllight

package main

import (
	"fmt"

	"rl/image"
	"rl/transfer"
)

func runLoad(args []string) error {
	c := commands["load"]
	fs := newFlags(c)
	in := fs.StringP("input", "i", "-", "read from `FILE` instead of standard input")
	var o transfer.Options
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 0, 0); err != nil {
		return err
	}
	s, err := image.Open()
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := interruptible()
	defer stop()
	names, err := transfer.Load(ctx, s, *in, o)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Println("Loaded image: " + n)
	}
	return nil
}
