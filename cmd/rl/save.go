//go:build !rllight

package main

import (
	"os"

	"rl/image"
	"rl/transfer"
)

func runSave(args []string) error {
	c := commands["save"]
	fs := newFlags(c)
	out := fs.StringP("output", "o", "", "write to `FILE`")
	format := fs.String("format", "docker-archive", "docker-archive or oci-archive")
	var o transfer.Options
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 1, -1); err != nil {
		return err
	}
	if *out == "" {
		return &usageError{Msg: "save: -o FILE is required (rl does not write an archive to a terminal)", Code: exitUsage}
	}
	s, err := image.Open()
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := interruptible()
	defer stop()
	if err := transfer.Save(ctx, s, fs.Args(), *out, *format, o); err != nil {
		os.Remove(*out) // no half-written archive
		return err
	}
	return nil
}
