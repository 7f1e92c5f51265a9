//go:build !rllight || !rlfront

package main

import "errors"

// cBinary is the program that runs as C: "" is this one.
func cBinary() (string, error) { return "", nil }

// cForRun chooses the program that runs as C for rl run: this one, which
// finds the image in the store itself (no record).
func cForRun(*runConfig) (cChoice, error) { return cChoice{}, nil }

// releaseCore: there is no other program to let go of.
func releaseCore() {}

// execCore: this build implements every command itself.
func execCore() error { return errors.New("internal error: a command without an implementation") }

// initForP: this build starts directly only --rootfs runs (the records
// of images are the front's, see cForRun); I is initBinary.
func initForP() string { return initBinary() }
