//go:build !rllight

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"rl/transfer"
)

// login runs on the host: credentials need no user namespace.
func runLogin(args []string) error {
	c := commands["login"]
	fs := newFlags(c)
	var o transfer.Options
	user := fs.StringP("username", "u", "", "`USER` name")
	pass := fs.StringP("password", "p", "", "`PASSWORD` (visible to other users in ps: prefer --password-stdin)")
	stdin := fs.Bool("password-stdin", false, "read the password from stdin")
	tls := fs.Bool("tls-verify", true, "require HTTPS and verify certificates")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if err := nargs(c, fs, 1, 1); err != nil {
		return err
	}
	o.TLSVerify = tlsOption(fs, tls)
	if *stdin {
		if *pass != "" {
			return &usageError{Msg: "login: --password and --password-stdin are exclusive", Code: exitUsage}
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("login: no password on stdin")
		}
		*pass = strings.TrimRight(line, "\r\n")
	}
	if *user == "" || *pass == "" {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return &usageError{Msg: "login: give -u USER and --password-stdin (stdin is not a terminal to ask on)", Code: exitUsage}
		}
		if *user == "" {
			fmt.Fprint(os.Stderr, "Username: ")
			line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
			*user = strings.TrimSpace(line)
		}
		if *pass == "" {
			fmt.Fprint(os.Stderr, "Password: ")
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return err
			}
			*pass = string(b)
		}
	}
	if err := transfer.Login(context.Background(), fs.Arg(0), *user, *pass, o); err != nil {
		return err
	}
	fmt.Println("Login Succeeded!")
	return nil
}

func runLogout(args []string) error {
	c := commands["logout"]
	fs := newFlags(c)
	all := fs.BoolP("all", "a", false, "remove the credentials of every registry")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return err
	}
	if *all {
		if err := nargs(c, fs, 0, 0); err != nil {
			return err
		}
		return transfer.Logout("")
	}
	if err := nargs(c, fs, 1, 1); err != nil {
		return err
	}
	if err := transfer.Logout(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Printf("Removed login credentials for %s\n", fs.Arg(0))
	return nil
}
