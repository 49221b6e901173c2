package main

import (
	"flag"
	"fmt"
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
}

func newFlagSet(name, usage string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: kuniq %s\n\n", usage)
		fmt.Fprintln(out, "flags (each also read from the environment variable shown):")
		fs.PrintDefaults()
	}
	return fs
}

// envName is the environment twin of a flag: "state-dir" -> "KUNIQ_STATE_DIR".
func envName(flagName string) string {
	return "KUNIQ_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (fs *flagSet) env(name string) (string, bool) {
	return os.LookupEnv(envName(name))
}

func (fs *flagSet) help(name, usage string) string {
	return fmt.Sprintf("%s (env %s)", usage, envName(name))
}

func (fs *flagSet) String(name, def, usage string) *string {
	if v, ok := fs.env(name); ok {
		def = v
	}
	return fs.FlagSet.String(name, def, fs.help(name, usage))
}

func (fs *flagSet) Bool(name string, def bool, usage string) *bool {
	if v, ok := fs.env(name); ok {
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			def = true
		case "0", "false", "no", "off", "":
			def = false
		default:
			fs.envErrs = append(fs.envErrs, fmt.Errorf("%s=%q: not a boolean", envName(name), v))
		}
	}
	return fs.FlagSet.Bool(name, def, fs.help(name, usage))
}

func (fs *flagSet) Int(name string, def int, usage string) *int {
	if v, ok := fs.env(name); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 0, strconv.IntSize)
		if err != nil {
			fs.envErrs = append(fs.envErrs, fmt.Errorf("%s=%q: not an integer", envName(name), v))
		}
		def = int(n)
	}
	return fs.FlagSet.Int(name, def, fs.help(name, usage))
}

func (fs *flagSet) Uint64(name string, def uint64, usage string) *uint64 {
	if v, ok := fs.env(name); ok {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 0, 64)
		if err != nil {
			fs.envErrs = append(fs.envErrs, fmt.Errorf("%s=%q: not an unsigned integer", envName(name), v))
		}
		def = n
	}
	return fs.FlagSet.Uint64(name, def, fs.help(name, usage))
}

func (fs *flagSet) Float64(name string, def float64, usage string) *float64 {
	if v, ok := fs.env(name); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			fs.envErrs = append(fs.envErrs, fmt.Errorf("%s=%q: not a number", envName(name), v))
		}
		def = f
	}
	return fs.FlagSet.Float64(name, def, fs.help(name, usage))
}

func (fs *flagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	if v, ok := fs.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			fs.envErrs = append(fs.envErrs, fmt.Errorf("%s=%q: %w", envName(name), v, err))
		}
		def = d
	}
	return fs.FlagSet.Duration(name, def, fs.help(name, usage))
}

// parse parses args; a bad environment value is an error like a bad flag.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(fs.envErrs) > 0 {
		return fs.envErrs[0]
	}
	return nil
}
