package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit statuses, as docker and podman use them.
const (
	exitUsage     = 2   // rl's own command-line parsing (not run)
	exitRLFailed  = 125 // rl itself failed, and usage errors of run
	exitCannotRun = 126 // the command was found but could not be invoked
	exitNotFound  = 127 // the command was not found
)

// exitStatus is returned by a command whose process status rl passes on
// unchanged (the container's command, or C's status in P). It prints nothing.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is a command-line mistake; Code is 2, or 125 for run.
type usageError struct {
	Msg  string
	Code int
}

func (e *usageError) Error() string { return e.Msg }

// A hinter is any error that knows how the user can fix it.
type hinter interface{ Hint() string }

// codedError carries an exit status other than 125 (126, 127).
type codedError interface{ ExitCode() int }

// report prints err as one `rl: ...` line (plus `hint: ...`) and returns the
// exit status. Multi-line messages from helpers are folded to their first
// line: the user gets one line, never a wall of helper output.
func report(w io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	code := exitRLFailed
	var ue *usageError
	var ce codedError
	switch {
	case errors.As(err, &ue):
		code = ue.Code
	case errors.As(err, &ce):
		code = ce.ExitCode()
	}
	msg := oneLine(err.Error())
	if !strings.HasPrefix(msg, "rl: ") {
		msg = "rl: " + msg
	}
	fmt.Fprintln(w, msg)
	var h hinter
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintln(w, "hint: "+oneLine(h.Hint()))
	}
	return code
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
