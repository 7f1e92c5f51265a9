package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"rl/image"
)

func init() {
	register(&command{
		Name:  "pull",
		Short: "Pull an image from a registry",
		Usage: "rl pull [OPTIONS] IMAGE",
		Store: true,
		Run:   runPull,
	})
}

// registryFlags are the flags of every command that talks to a registry.
func registryFlags(fs *pflag.FlagSet, o *image.Options) *bool {
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

// interruptible returns a context cancelled by SIGINT or SIGTERM, so that
// an interrupted copy stops cleanly (containers/image then removes its
// staging files and registers no image).
func interruptible() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
}

func runPull(args []string) error {
	c := commands["pull"]
	fs := newFlags(c)
	var o image.Options
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
	img, err := s.Pull(ctx, fs.Arg(0), o)
	if err != nil {
		return err
	}
	fmt.Println(img.ID)
	return nil
}
