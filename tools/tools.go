//go:build tools

// Package tools pins the modules rl is being built on while their users are
// still being written, so that `go mod tidy` keeps them. It is never built.
package tools

import (
	_ "github.com/cyphar/filepath-securejoin"
	_ "github.com/opencontainers/runtime-spec/specs-go"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin"
	_ "github.com/spf13/pflag"
	_ "go.podman.io/image/v5/copy"
	_ "go.podman.io/image/v5/docker"
	_ "go.podman.io/image/v5/docker/archive"
	_ "go.podman.io/image/v5/oci/archive"
	_ "go.podman.io/image/v5/oci/layout"
	_ "go.podman.io/image/v5/pkg/docker/config"
	_ "go.podman.io/image/v5/signature"
	_ "go.podman.io/image/v5/storage"
	_ "go.podman.io/image/v5/transports/alltransports"
	_ "go.podman.io/storage"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
)
