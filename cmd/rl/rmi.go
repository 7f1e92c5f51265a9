//go:build !rllight || !rlfront

package main

import (
	"fmt"

	"rl/image"
)

func init() { implement("rmi", runRmi) }

func runRmi(args []string) error {
	c := commands["rmi"]
	fs := newFlags(c)
	force := fs.BoolP("force", "f", false, "remove images in use by running containers too")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 1, -1); err != nil {
		return err
	}
	s, err := image.Open()
	if err != nil {
		return err
	}
	defer s.Close()
	for _, name := range fs.Args() {
		untagged, deleted, err := s.Remove(name, *force)
		if err != nil {
			return err
		}
		for _, u := range untagged {
			fmt.Println("Untagged: " + u)
		}
		if deleted != "" {
			fmt.Println("Deleted: " + deleted)
		}
	}
	return nil
}
