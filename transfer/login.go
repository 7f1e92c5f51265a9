package transfer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/homedir"
)

// authFile picks the auth.json to write, as podman does: $REGISTRY_AUTH_FILE,
// else ${XDG_RUNTIME_DIR}/containers/auth.json. Without XDG_RUNTIME_DIR
// (su, runuser, cron, Slurm jobs without systemd) containers/image would
// write /run/containers/UID/auth.json, which a user cannot create; rl uses
// ~/.config/containers/auth.json, which containers/image (and so podman)
// also reads.
func authFile() string {
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		return f
	}
	if os.Getenv("XDG_RUNTIME_DIR") != "" {
		return ""
	}
	cfg, err := homedir.GetConfigHome()
	if err != nil {
		return ""
	}
	return filepath.Join(cfg, "containers", "auth.json")
}

// Login checks the credentials against the registry and stores them.
func Login(ctx context.Context, registry, user, pass string, o Options) error {
	sys, err := o.SystemContext()
	if err != nil {
		return err
	}
	key := strings.TrimPrefix(strings.TrimPrefix(registry, "https://"), "http://")
	key = strings.TrimSuffix(key, "/")
	if key == "" || strings.ContainsAny(key, " \t") {
		return fmt.Errorf("login: %q is not a registry name", registry)
	}
	host := strings.SplitN(key, "/", 2)[0]
	if err := docker.CheckAuth(ctx, sys, user, pass, host); err != nil {
		return pullError(host+"/x", err)
	}
	if f := authFile(); f != "" {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			return err
		}
		sys.AuthFilePath = f
	}
	if _, err := config.SetCredentials(sys, key, user, pass); err != nil {
		return fmt.Errorf("storing credentials for %s: %w", key, err)
	}
	return nil
}

// Logout removes stored credentials for registry (all of them with "").
func Logout(registry string) error {
	sys := &types.SystemContext{}
	if f := authFile(); f != "" {
		sys.AuthFilePath = f
	}
	if registry == "" {
		return config.RemoveAllAuthentication(sys)
	}
	if err := config.RemoveAuthentication(sys, registry); err != nil {
		return fmt.Errorf("%s: %w", registry, err)
	}
	return nil
}
