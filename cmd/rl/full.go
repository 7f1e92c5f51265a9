//go:build !rllight

package main

import (
	"context"
	"os"

	"rl/image"
	"rl/transfer"
)

func setTransferRun(c *command) {
	c.Run = map[string]func([]string) error{
		"pull": runPull, "push": runPush, "load": runLoad, "save": runSave,
		"import": runImport, "login": runLogin, "logout": runLogout,
	}[c.Name]
}

// pullForRun pulls the image of rl run (--pull) into the open store.
func pullForRun(ctx context.Context, store *image.Store, cfg *runConfig) (*image.Image, error) {
	return transfer.Pull(ctx, store, cfg.Image, transfer.Options{TLSVerify: cfg.TLSVerify, Creds: cfg.Flags.creds, Quiet: !isTerminal(os.Stderr)})
}

// initBinary is the executable of I: "" is rl itself, run as `rl __init`.
func initBinary() string { return "" }

// initForC: the default build has no rl-init to hand to C.
func initForC(int) (*os.File, func() error) { return nil, nil }
