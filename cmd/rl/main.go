// Command rl runs OCI containers as an unprivileged user: no daemon, no root.
package main

import "os"

func main() { os.Exit(rlMain()) }
