package main

import (
	"testing"

	"rl/container"
)

func TestInitCommand(t *testing.T) {
	if initCommand != container.InitCommand {
		t.Fatalf("initCommand %q, container.InitCommand %q", initCommand, container.InitCommand)
	}
}
