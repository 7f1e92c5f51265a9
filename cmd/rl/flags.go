package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// newFlags makes the flag set of one command. Errors are returned, never
// printed by pflag, so that they come out as one `rl:` line.
func newFlags(c *command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
	fs.SetInterspersed(false)
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	return fs
}

// errHelp is returned by parse after printing a command's help.
var errHelp = exitStatus(0)

// parse parses args; a usage error exits 2 (125 for run, see runflags.go).
func parse(c *command, fs *pflag.FlagSet, args []string, code int) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintf(os.Stdout, "Usage: %s\n\n%s\n\nOptions:\n%s", c.Usage, c.Short, fs.FlagUsages())
		return errHelp
	}
	if err != nil {
		return &usageError{Msg: c.Name + ": " + strings.TrimSpace(err.Error()), Code: code}
	}
	return nil
}

// nargs checks the number of positional arguments.
func nargs(c *command, fs *pflag.FlagSet, min, max int) error {
	n := fs.NArg()
	if n < min || (max >= 0 && n > max) {
		return &usageError{Msg: fmt.Sprintf("%s: wrong number of arguments (usage: %s)", c.Name, c.Usage), Code: exitUsage}
	}
	return nil
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
