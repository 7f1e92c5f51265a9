//go:build rllight && rlfront

package main

import (
	"fmt"
	"os"

	"rl/image/record"
)

// rl images in the front: the listing record (images.go), while fresh,
// is printed here, without the core and the store (36 -> ~12 ms here);
// otherwise the core lists the store in rl's user namespace, as for the
// other store commands, and keeps a new record.
func init() {
	commands["images"].Store = false // (P decides; the core's C is a store command)
	implement("images", runImagesFront)
}

func runImagesFront(args []string) error {
	o, err := parseImages(args)
	if err != nil {
		return err
	}
	if dir, err := cacheDirErr(); err == nil {
		f, rec, err := record.Open(dir, "")
		if err == nil {
			f.Close()
			if verbose() {
				fmt.Fprintln(os.Stderr, "rl: images: from rl's record (the store was not opened)")
			}
			return printImages(rec.Images, o)
		}
		if verbose() && !os.IsNotExist(err) {
			fmt.Fprintf(os.Stderr, "rl: listing the store: %v\n", err)
		}
	}
	return runInC(commands["images"]) // (ReadOnly and Serial, as the core's C)
}
