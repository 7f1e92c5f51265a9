package main

import (
	"os"
	"os/signal"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"rl/userns"
)

func init() { implement("run", runRun) }

// runRun is both halves of `rl run`: in P (the host) it validates every
// flag, then starts C in rl's user namespace and relays signals and the
// terminal; in C it prepares and runs the container (runInside).
func runRun(args []string) error {
	c := commands["run"]
	fs := newFlags(c)
	f := &runFlags{}
	f.define(fs)
	if err := parse(c, fs, args, exitRLFailed); err != nil {
		return err
	}
	cfg, err := f.validate(fs, fs.Args())
	if err != nil {
		return err
	}
	trace("flags validated")
	if userns.IsChild() {
		return runInside(cfg)
	}
	return runHost(cfg)
}

// cChoice is the program that runs as C of rl run.
type cChoice struct {
	path   string   // "": this program
	record *os.File // the image's record C is to use (run_front.go)
	// serial: C runs no Go in parallel (the front: no port driver, no
	// pull), and starts with GOMAXPROCS=1 (serialEnv).
	serial bool
}

// envRecordFD names the fd on which C finds the record of rl run's image,
// when P chose to run the front as C (run_front.go).
const envRecordFD = "_RL_RECORD_FD"

// runHost is P: every flag is valid; now start C and stay with it.
func runHost(cfg *runConfig) error {
	runtime.LockOSThread() // C gets Pdeathsig: fork it from a thread that lives (see runInside)
	choice, err := cForRun(cfg)
	if err != nil {
		return err
	}
	path, rec := choice.path, choice.record
	if rec != nil || cfg.Rootfs != "" {
		// Perhaps without C (run_direct.go).
		if done, err := runDirect(cfg, rec); done {
			if rec != nil {
				rec.Close()
			}
			return err
		}
	}
	trace("C chosen")
	ucfg := userns.Config{Path: path, Args: os.Args, Verbose: verbose(), Setpgid: true}
	if !cfg.Flags.interactive {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		defer devnull.Close()
		ucfg.Stdin = devnull
	}
	var term *terminal
	if cfg.Opts.Terminal {
		var err error
		if term, err = newTerminal(cfg.Flags.interactive); err != nil {
			return err
		}
		defer term.Close()
		ucfg.ExtraFiles = []*os.File{term.childEnd} // fd 4 in C
	}
	if f, write := initForC(len(ucfg.ExtraFiles)); f != nil {
		defer f.Close()
		ucfg.ExtraFiles = append(ucfg.ExtraFiles, f)
		ucfg.Prepare = write
	}
	if rec != nil {
		// C finds the image's record on this fd (run_front.go).
		os.Setenv(envRecordFD, strconv.Itoa(4+len(ucfg.ExtraFiles)))
		ucfg.ExtraFiles = append(ucfg.ExtraFiles, rec)
	}
	if choice.serial {
		ucfg.Env = serialEnv()
	}
	trace("rl-init ready")
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, userns.Relayed()...)
	defer signal.Stop(sigs)
	ch, err := userns.Start(ucfg)
	releaseCore() // C has executed it (or failed to)
	if rec != nil {
		rec.Close() // C has it
	}
	if err != nil {
		return err
	}
	trace("C started and mapped")
	if term != nil {
		term.childEnd.Close()
		term.Start()
	}
	waited := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGWINCH && term != nil {
					term.Resize()
					continue
				}
				ch.Cmd.Process.Signal(s)
			case <-waited:
				return
			}
		}
	}()
	werr := ch.Cmd.Wait()
	close(waited)
	trace("C exited")
	if term != nil {
		term.Drain()
	}
	st, err := userns.Status(ch.Cmd.ProcessState, werr)
	if err != nil {
		return err
	}
	return exitStatus(st)
}
