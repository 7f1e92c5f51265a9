package main

import (
	"encoding/csv"
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

// listValue is a repeatable string flag: pflag's StringArray (split
// false: each use adds one value) or StringSlice (split: each use adds a
// comma-separated list, quoted as CSV). pflag's own types format their
// default as CSV when a flag is defined, with a new csv.Writer and its
// 4 KB buffer each time: with rl run's 16 such flags that was ~7% of P's
// CPU (perf). This one formats nothing until help is printed.
type listValue struct {
	p     *[]string
	split bool
	set   bool
}

func (l *listValue) String() string {
	if len(*l.p) == 0 {
		return "" // (pflag prints no default for "")
	}
	return "[" + strings.Join(*l.p, ",") + "]"
}

func (l *listValue) Set(s string) error {
	vals := []string{s}
	if l.split {
		if strings.ContainsRune(s, '"') {
			r, err := csv.NewReader(strings.NewReader(s)).Read()
			if err != nil {
				return err
			}
			vals = r
		} else {
			vals = strings.Split(s, ",")
		}
	}
	if !l.set { // the first use replaces the default, as pflag's
		*l.p, l.set = nil, true
	}
	*l.p = append(*l.p, vals...)
	return nil
}

func (l *listValue) Type() string {
	if l.split {
		return "strings"
	}
	return "stringArray"
}

// listVar defines a repeatable string flag (see listValue).
func listVar(fs *pflag.FlagSet, p *[]string, name, short, usage string, split bool) {
	fs.VarP(&listValue{p: p, split: split}, name, short, usage)
}
