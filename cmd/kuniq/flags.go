package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// flagSet wraps flag.FlagSet so that every flag has an environment twin: --state-dir reads
// KUNIQ_STATE_DIR when not given, and --help says so. Flags win over the environment.
// Numbers in the environment use the flag package's syntax (strconv, base prefixes allowed),
// so "14.5" or "4x" is an error rather than silently read as 14 or 4.
type flagSet struct {
	*flag.FlagSet
	envErrs []error
	stdout  io.Writer // where --help goes
	usage   func()    // prints --help; the flag package's own Usage is a no-op
	args    []string  // the positional arguments, wherever they stood
}

// newFlagSet returns the flags of command name; usage is its synopsis line. --help prints the
// usage to stdout.
func newFlagSet(name, usage string, stdout io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), stdout: stdout}
	// The flag package calls Usage on every error; parse prints the usage only for --help.
	fs.Usage = func() {}
	fs.usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: kuniq %s\n\n", usage)
		fmt.Fprintln(out, "flags (each also read from the environment variable shown; one variable serves every")
		fmt.Fprintln(out, "command with that flag, and the help names the others):")
		fs.noteSharedEnv()
		fs.PrintDefaults()
	}
	return fs
}

// noteSharedEnv adds to the usage of each flag whose environment twin other commands read
// too which commands those are, with their default where it differs: KUNIQ_GRANULARITY set
// for count also changes run, whose default is all. (Why one variable per flag and not one
// per command: see envSharing in main.go.)
func (fs *flagSet) noteSharedEnv() {
	others := map[string]*flagSet{}
	for _, c := range commands() {
		if c.name == fs.Name() {
			continue
		}
		if ofs := probeFlags(c); ofs != nil {
			others[c.name] = ofs
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		var also []string
		for _, c := range commands() {
			ofs := others[c.name]
			if ofs == nil {
				continue
			}
			of := ofs.Lookup(f.Name)
			if of == nil {
				continue
			}
			if of.DefValue != f.DefValue {
				also = append(also, fmt.Sprintf("%s (default %q)", c.name, of.DefValue))
			} else {
				also = append(also, c.name)
			}
		}
		if len(also) > 0 {
			f.Usage = strings.TrimSuffix(f.Usage, ")") + "; also read by " + strings.Join(also, ", ") + ")"
		}
	})
}

// flagProbe, passed as a command's stdout, learns the command's flags: newFlagSet's parse
// records the flag set in it and returns flag.ErrHelp before the command does anything.
type flagProbe struct{ fs *flagSet }

func (*flagProbe) Write(p []byte) (int, error) { return len(p), nil }

// probeFlags returns the flags command c defines, or nil if it defines none.
func probeFlags(c command) *flagSet {
	p := &flagProbe{}
	_ = c.run(context.Background(), []string{"--help"}, p, io.Discard)
	return p.fs
}

// envName is the environment twin of a flag: "state-dir" -> "KUNIQ_STATE_DIR".
func envName(flagName string) string {
	return "KUNIQ_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// outOfRange collects the flag values a command refuses, each said with what is allowed:
// a nonsense value is an error, never a silent default.
type outOfRange []error

func (o *outOfRange) check(ok bool, format string, args ...any) {
	if !ok {
		*o = append(*o, fmt.Errorf(format, args...))
	}
}

func (o outOfRange) err() error { return errors.Join(o...) }

// Args returns the positional arguments, also those that stood between flags.
func (fs *flagSet) Args() []string { return fs.args }

// NArg is len(Args()).
func (fs *flagSet) NArg() int { return len(fs.args) }

// endedByTerminator tells whether the flag package stopped at a "--" (the last of the consumed
// arguments) rather than at a positional argument; a "--" that is a flag's value is not one.
func (fs *flagSet) endedByTerminator(args []string, consumed int) bool {
	if consumed == 0 || args[consumed-1] != "--" {
		return false
	}
	if consumed < 2 || !strings.HasPrefix(args[consumed-2], "-") {
		return true
	}
	name := strings.TrimPrefix(strings.TrimPrefix(args[consumed-2], "-"), "-")
	f := fs.Lookup(name) // nil for "-x=v" and for what is no flag
	if f == nil {
		return true
	}
	b, isBool := f.Value.(interface{ IsBoolFlag() bool })
	return isBool && b.IsBoolFlag() // otherwise "--" was the flag's value
}

// envDefault is def, or the value of the flag's environment twin parsed with parse. A bad
// value is remembered and reported by parse, like a bad flag.
func envDefault[T any](fs *flagSet, name string, def T, parse func(string) (T, error)) T {
	v, ok := os.LookupEnv(envName(name))
	if !ok {
		return def
	}
	x, err := parse(v)
	if err != nil {
		fs.envErrs = append(fs.envErrs, fmt.Errorf("%s=%q: %w", envName(name), v, err))
		return def
	}
	return x
}

func (fs *flagSet) help(name, usage string) string {
	return fmt.Sprintf("%s (env %s)", usage, envName(name))
}

func (fs *flagSet) String(name, def, usage string) *string {
	return fs.FlagSet.String(name, envDefault(fs, name, def, parseString), fs.help(name, usage))
}

func (fs *flagSet) Bool(name string, def bool, usage string) *bool {
	return fs.FlagSet.Bool(name, envDefault(fs, name, def, parseBool), fs.help(name, usage))
}

func (fs *flagSet) Int(name string, def int, usage string) *int {
	return fs.FlagSet.Int(name, envDefault(fs, name, def, parseInt), fs.help(name, usage))
}

func (fs *flagSet) Uint64(name string, def uint64, usage string) *uint64 {
	return fs.FlagSet.Uint64(name, envDefault(fs, name, def, parseUint64), fs.help(name, usage))
}

func (fs *flagSet) Float64(name string, def float64, usage string) *float64 {
	return fs.FlagSet.Float64(name, envDefault(fs, name, def, parseFloat64), fs.help(name, usage))
}

func (fs *flagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	return fs.FlagSet.Duration(name, envDefault(fs, name, def, time.ParseDuration), fs.help(name, usage))
}

// The parsers of environment values. Numbers follow the flag package's syntax (strconv, base
// prefixes allowed) and may be surrounded by spaces; booleans also take yes/no and on/off.

func parseString(s string) (string, error) { return s, nil }

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

func parseInt(s string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 0, strconv.IntSize)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	return int(n), nil
}

func parseUint64(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return 0, errors.New("not an unsigned integer")
	}
	return n, nil
}

func parseFloat64(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	return f, nil
}

// parse parses args; a bad environment value is an error like a bad flag. --help prints the
// usage to stdout and returns flag.ErrHelp (main exits 0 on it), so `kuniq count --help |
// grep` works. A bad flag is one line naming the command and pointing at --help, not the
// whole usage.
//
// Flags may follow positional arguments (`kuniq count f.jsonl --granularity hour`), as users of
// most command-line tools expect; after "--" everything is positional, so a file named
// "-x" is `kuniq count -- -x`.
func (fs *flagSet) parse(args []string) error {
	if p, ok := fs.stdout.(*flagProbe); ok {
		p.fs = fs
		return flag.ErrHelp
	}
	fs.SetOutput(io.Discard) // the flag package would print the whole usage on every error
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			fs.SetOutput(fs.stdout)
			fs.usage()
			return flag.ErrHelp
		case err != nil:
			return fmt.Errorf("%s: %w (see 'kuniq %s --help')", fs.Name(), err, fs.Name())
		}
		rest := fs.FlagSet.Args()
		if fs.endedByTerminator(args, len(args)-len(rest)) {
			fs.args = append(fs.args, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		// The flag package stops at the first positional argument: keep it, parse on.
		fs.args = append(fs.args, rest[0])
		args = rest[1:]
	}
	if len(fs.envErrs) > 0 {
		return fs.envErrs[0]
	}
	return nil
}
