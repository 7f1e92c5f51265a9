//go:build !rllight

package main

import (
	"rl/image"
	"rl/transfer"
)

func runPush(args []string) error {
	c := commands["push"]
	fs := newFlags(c)
	var o transfer.Options
	tls := registryFlags(fs, &o)
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 1, 2); err != nil {
		return err
	}
	o.TLSVerify = tlsOption(fs, tls)
	s, err := image.Open()
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := interruptible()
	defer stop()
	return transfer.Push(ctx, s, fs.Arg(0), fs.Arg(1), o)
}
