//go:build !rllight

package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"rl/image"
	"rl/transfer"
)

// registryFlags are the flags of every command that talks to a registry.
func registryFlags(fs *pflag.FlagSet, o *transfer.Options) *bool {
	tls := fs.Bool("tls-verify", true, "require HTTPS and verify certificates")
	fs.StringVar(&o.Creds, "creds", "", "`USER[:PASSWORD]` for the registry")
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress")
	return tls
}

func tlsOption(fs *pflag.FlagSet, v *bool) *bool {
	if fs.Changed("tls-verify") {
		return v
	}
	return nil // registries.conf decides
}

func runPull(args []string) error {
	c := commands["pull"]
	fs := newFlags(c)
	var o transfer.Options
	tls := registryFlags(fs, &o)
	fs.StringVar(&o.Platform, "platform", "", "pull for `OS/ARCH[/VARIANT]`")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 1, 1); err != nil {
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
	img, err := transfer.Pull(ctx, s, fs.Arg(0), o)
	if err != nil {
		return err
	}
	fmt.Println(img.ID)
	return nil
}
