package main

import (
	"fmt"

	"rl/image"
)

func init() {
	register(&command{
		Name:  "load",
		Short: "Load images from a docker-archive or oci-archive",
		Usage: "rl load [-i FILE]",
		Store: true,
		Run:   runLoad,
	})
}

func runLoad(args []string) error {
	c := commands["load"]
	fs := newFlags(c)
	in := fs.StringP("input", "i", "-", "read from `FILE` instead of standard input")
	var o image.Options
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
	names, err := s.Load(ctx, *in, o)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Println("Loaded image: " + n)
	}
	return nil
}
