package main

// Every subcommand lives in its own file and registers itself with register in an init
// function; main only dispatches. Subcommands use one flag.FlagSet each (see newFlagSet).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"klppo/internal/rundir"
	"klppo/nn"
)

// command is one (possibly nested, e.g. "bench kl") subcommand.
type command struct {
	path    string // "train", "bench kl", "kl categorical"
	summary string // one line for `klppo help`
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

// register adds a subcommand. path is the words that select it, separated by single spaces.
func register(path, summary string, run func(args []string, stdout, stderr io.Writer) error) {
	if _, dup := commands[path]; dup {
		panic("klppo: command registered twice: " + path) // programming error at init
	}
	commands[path] = &command{path: path, summary: summary, run: run}
}

// usageError marks bad input from the user: klppo prints it and exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError; the message should name the flag and the offending value.
func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// usagePrinters maps each FlagSet made by newFlagSet to the function that prints its full usage.
var usagePrinters sync.Map // *flag.FlagSet → func()

// newFlagSet returns a FlagSet for the command at path whose -h output lists every flag.
// Parse errors are returned (ContinueOnError) as one-line usage errors (exit status 2); the full
// flag listing is printed only for -h.
func newFlagSet(path, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("klppo "+path, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // flag's own error+usage dump is replaced by parseFlags' one line
	fs.Usage = func() {}
	usagePrinters.Store(fs, func() {
		fmt.Fprintf(stderr, "usage: klppo %s %s\n", path, synopsis)
		if c := commands[path]; c != nil && c.summary != "" {
			fmt.Fprintf(stderr, "\n%s\n", c.summary)
		}
		fmt.Fprintf(stderr, "\nflags:\n")
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	})
	return fs
}

// parseFlags parses args with fs and turns every failure into a one-line usageError.
// For -h it prints the full usage and returns flag.ErrHelp so that the caller exits 0.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if p, ok := usagePrinters.Load(fs); ok {
				p.(func())()
			}
			return err
		}
		return &usageError{msg: err.Error() + " (run '" + fs.Name() + " -h' for the flags)"}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (run '%s -h' for the flags)", fs.Arg(0), fs.Name())
	}
	return nil
}

// lookup finds the longest registered path that prefixes args.
func lookup(args []string) (*command, []string) {
	for n := len(args); n > 0; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c, args[n:]
		}
	}
	return nil, args
}

func printHelp(w io.Writer, prefix string) {
	var paths []string
	for p := range commands {
		if prefix == "" || p == prefix || strings.HasPrefix(p, prefix+" ") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	fmt.Fprintf(w, "klppo — PPO with the KL divergence made visible\n\nusage: klppo <command> [flags]\n\ncommands:\n")
	for _, p := range paths {
		fmt.Fprintf(w, "  %-22s %s\n", p, commands[p].summary)
	}
	fmt.Fprintf(w, "\nRun 'klppo <command> -h' for the flags of a command.\n")
}

// run executes klppo with args (without the program name) and returns the exit status. Without
// arguments it prints the commands on stderr and exits 2, as for any incomplete command line:
// nothing as long as a 500k-step training run should start by accident.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr, "")
		fmt.Fprintf(stderr, "Start with 'klppo train' (Pendulum-v1 with a binding KL target, under a minute) or 'klppo rlhf'; 'klppo version' prints the build.\n")
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout, strings.Join(args[1:], " "))
		return 0
	}
	c, rest := lookup(args)
	if c == nil {
		// A group word such as "bench" or "kl" alone: list its subcommands.
		prefix := strings.Join(args, " ")
		for p := range commands {
			if strings.HasPrefix(p, prefix+" ") {
				printHelp(stderr, prefix)
				return 2
			}
		}
		fmt.Fprintf(stderr, "klppo: unknown command %q (run 'klppo help')\n", strings.Join(args, " "))
		return 2
	}
	err := c.run(rest, stdout, stderr)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "klppo %s: %v\n", c.path, err)
		return 2
	case errors.Is(err, rundir.ErrLocked): // another klppo is writing the output directory
		fmt.Fprintf(stderr, "klppo %s: %v\n", c.path, err)
		return 2
	default:
		fmt.Fprintf(stderr, "klppo %s: error: %v\n", c.path, err)
		return 1
	}
}

// main installs nn.FastBLAS for gorgonia's head-sized matrix products (process-wide: every
// subcommand's gorgonia models use it, see nn.UseFastBLAS) and dispatches.
func main() {
	nn.UseFastBLAS()
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// interruptible returns a context cancelled by the first Ctrl-C (SIGINT) or SIGTERM, so that a
// command can checkpoint and flush its files before it exits. A second Ctrl-C or SIGTERM ends the
// process at once, also when the command is busy somewhere that never looks at the context (a
// large allocation, a stage without cancellation points): the handler stays installed for it,
// re-raises it with the signal's default action and, should the process have been started with
// the signal ignored (a background job of a script), exits with status 128 + the signal's number.
// Files written atomically stay whole either way. The context's cause after a signal names it
// (and is a context.Canceled); the returned stop cancels with context.Canceled and uninstalls
// the handler.
func interruptible() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	stopped := make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() { close(stopped) })
		cancel(nil)
	}
	go func() {
		defer signal.Stop(ch)
		select {
		case s := <-ch:
			cancel(interruptError{s})
		case <-stopped:
			return
		}
		select {
		case s := <-ch:
			exitOnSignal(s)
		case <-stopped:
		}
	}()
	return ctx, stop
}

// exitOnSignal ends the process because of s: with the signal's default action if it has one
// here, else (the signal was ignored when the process started) with status 128 + its number.
func exitOnSignal(s os.Signal) {
	fmt.Fprintf(os.Stderr, "\nklppo: %v again: stopping at once\n", s)
	signal.Reset(s)
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Signal(s)
	}
	time.Sleep(100 * time.Millisecond) // the default action, if any, ends the process meanwhile
	code := 130
	if n, ok := s.(syscall.Signal); ok {
		code = 128 + int(n)
	}
	os.Exit(code)
}

// interruptError is the cause of interruptible's context after a signal.
type interruptError struct{ sig os.Signal }

func (e interruptError) Error() string { return e.sig.String() + " signal received" }

// Is makes the cause a context.Canceled, as the context's error is.
func (e interruptError) Is(target error) bool { return target == context.Canceled }
