//go:build !rllight

package main

import (
	"fmt"

	"rl/image"
	"rl/transfer"
)

func runImport(args []string) error {
	c := commands["import"]
	fs := newFlags(c)
	var o transfer.Options
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 2, 2); err != nil {
		return err
	}
	s, err := image.Open()
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := interruptible()
	defer stop()
	name, err := transfer.Import(ctx, s, fs.Arg(0), fs.Arg(1), o)
	if err != nil {
		return err
	}
	fmt.Println(name)
	return nil
}
