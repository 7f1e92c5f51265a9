//go:build !rllight || !rlfront

package main

import (
	"encoding/json"
	"os"

	"rl/image"
)

func init() { implement("image", runImage) }

func runImage(args []string) error {
	c := commands["image"]
	if len(args) == 0 || args[0] != "inspect" {
		return &usageError{Msg: "image: want a subcommand: inspect (usage: " + c.Usage + ")", Code: exitUsage}
	}
	fs := newFlags(c)
	if err := parse(c, fs, args[1:], exitUsage); err != nil {
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
	var out []any
	for _, n := range fs.Args() {
		img, err := s.Lookup(n)
		if err != nil {
			return err
		}
		out = append(out, map[string]any{
			"Id": img.ID, "Digest": img.Digest, "RepoTags": img.Names, "Created": img.Created,
			"Size": s.Size(img), "Config": img.Config, "Architecture": img.OCI.Architecture,
			"Os": img.OCI.OS, "RootFS": img.OCI.RootFS,
		})
	}
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "    ")
	return e.Encode(out)
}
