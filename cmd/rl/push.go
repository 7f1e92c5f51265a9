package main

import "rl/image"

func init() {
	register(&command{
		Name:  "push",
		Short: "Push an image to a registry",
		Usage: "rl push [OPTIONS] IMAGE [DESTINATION]",
		Store: true,
		Run:   runPush,
	})
}

func runPush(args []string) error {
	c := commands["push"]
	fs := newFlags(c)
	var o image.Options
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
	return s.Push(ctx, fs.Arg(0), fs.Arg(1), o)
}
