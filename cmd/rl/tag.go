//go:build !rllight || !rlfront

package main

import "rl/image"

func init() { implement("tag", runTag) }

func runTag(args []string) error {
	c := commands["tag"]
	fs := newFlags(c)
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 2, -1); err != nil {
		return err
	}
	s, err := image.Open()
	if err != nil {
		return err
	}
	defer s.Close()
	for _, n := range fs.Args()[1:] {
		if err := s.Tag(fs.Arg(0), n); err != nil {
			return err
		}
	}
	return nil
}
