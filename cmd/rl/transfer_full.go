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
