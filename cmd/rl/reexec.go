//go:build !rllight || !rlfront

package main

import "go.podman.io/storage/pkg/reexec"

// containers/storage re-executes /proc/self/exe under names such as
// "storage-untar" to unpack layers: rlMain runs that routine first.
func init() { storageHelper = reexec.Init }
