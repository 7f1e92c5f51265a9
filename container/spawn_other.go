//go:build !amd64

package container

import (
	"errors"
	"os"

	"rl/container/child"
)

// spawnWorks: spawn's system call is written for amd64 only
// (spawn_amd64.s); elsewhere I always starts through os/exec.
const spawnWorks = false

func spawn(Config, *os.File, *child.Program) (*process, error) { return nil, errors.ErrUnsupported }

var errNoClone3 = errors.ErrUnsupported

func spawnWaiting(Config, *child.Program, func(int) error, func(int) error) (*process, error) {
	return nil, errors.ErrUnsupported
}

// childError is spawn's child's failure (spawn_amd64.go).
type childError struct{ passwdAdded bool }

func (e *childError) Error() string { return "" }
