package main

// commandTable is every rl command, in the order `rl help` does not use
// (it sorts). Run is set by the file that implements the command
// (implement), in the builds that have it.
var commandTable = []*command{
	{Name: "run", Short: "Run a command in a new container", Usage: "rl run [OPTIONS] IMAGE [COMMAND [ARG...]]",
		// C starts I before its maps are written (runInside).
		MapsLater: true},
	{Name: "images", Short: "List images in local storage", Usage: "rl images [OPTIONS]", Store: true, Serial: true, ReadOnly: true},
	{Name: "image", Short: "Manage images (rl image inspect IMAGE)", Usage: "rl image inspect IMAGE [IMAGE...]", Store: true, Serial: true, ReadOnly: true},
	{Name: "rmi", Short: "Remove images", Usage: "rl rmi [OPTIONS] IMAGE [IMAGE...]", Store: true, Serial: true},
	{Name: "tag", Short: "Add a name to an image", Usage: "rl tag IMAGE NAME [NAME...]", Store: true, Serial: true},
	{Name: "info", Short: "Show how rl runs on this host", Usage: "rl info", Store: true, Serial: true},
	{Name: "version", Short: "Show the rl version", Usage: "rl version"},
	{Name: "pull", Short: "Pull an image from a registry", Usage: "rl pull [OPTIONS] IMAGE", Store: true},
	{Name: "push", Short: "Push an image to a registry", Usage: "rl push [OPTIONS] IMAGE [DESTINATION]", Store: true},
	{Name: "load", Short: "Load images from a docker-archive or oci-archive", Usage: "rl load [-i FILE]", Store: true},
	{Name: "save", Short: "Save images to an archive", Usage: "rl save -o FILE [--format docker-archive|oci-archive] IMAGE [IMAGE...]", Store: true},
	{Name: "import", Short: "Create an image from a root filesystem tarball", Usage: "rl import TARBALL NAME", Store: true},
	// login and logout run on the host: credentials need no user namespace.
	{Name: "login", Short: "Log in to a registry", Usage: "rl login [OPTIONS] REGISTRY"},
	{Name: "logout", Short: "Log out of a registry", Usage: "rl logout [--all] [REGISTRY]"},
	// Internal (not listed): a direct start's clean-up (run_direct.go).
	{Name: rmdirCommand, Short: "Remove a container's directory (internal)", Usage: "rl " + rmdirCommand + " DIR...", Serial: true},
}

// commands indexes commandTable by name and alias.
var commands = func() map[string]*command {
	m := map[string]*command{}
	for _, c := range commandTable {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if _, dup := m[n]; dup {
				panic("rl: command listed twice: " + n)
			}
			m[n] = c
		}
	}
	return m
}()
