package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the golden files under testdata/ instead of comparing with them.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleFile is the repo's 1,000 real challenge lines (docs/design.md, "Test data").
const sampleFile = "../../testdata/challenge-sample-1000.jsonl"

// kuniq runs the CLI in-process, as main does, and returns what it wrote.
func kuniq(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// mustKuniq is kuniq for calls that must succeed.
func mustKuniq(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	out, errs, err := kuniq(t, args...)
	if err != nil {
		t.Fatalf("kuniq %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errs)
	}
	return out, errs
}

func TestTopLevelHelpListsEveryCommand(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		out, errs, err := kuniq(t, arg)
		if err != nil {
			t.Errorf("kuniq %s: err = %v, want nil", arg, err)
		}
		if errs != "" {
			t.Errorf("kuniq %s: stderr = %q, want empty (help goes to stdout)", arg, errs)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "  "+c.name+" ") || !strings.Contains(out, c.summary) {
				t.Errorf("kuniq %s: usage lacks command %q (%q):\n%s", arg, c.name, c.summary, out)
			}
		}
	}
}

func TestNoCommandOrUnknownCommandIsAnError(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantInErr string
		wantUsage bool // on stdout; otherwise nothing is written but the error
	}{
		{"no args", nil, "no command", true},
		{"unknown", []string{"frobnicate"}, `unknown command "frobnicate" (see 'kuniq --help')`, false},
		{"flag as command", []string{"--granularity", "all"}, "unknown command", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, err := kuniq(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("kuniq %q: err = %v, want one containing %q", tt.args, err, tt.wantInErr)
			}
			if got := strings.Contains(out, "usage: kuniq <command>"); got != tt.wantUsage || errs != "" {
				t.Errorf("kuniq %q: stdout %q, stderr %q; want the usage on stdout: %v, stderr empty", tt.args, out, errs, tt.wantUsage)
			}
		})
	}
}

// TestBadFlagIsOneLine: an unknown or malformed flag is one line of error that names the
// command and points at --help; the usage is not dumped on stderr.
func TestBadFlagIsOneLine(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantInErr string
	}{
		{"unknown flag", []string{"count", "--frobnicate", sampleFile}, "flag provided but not defined: -frobnicate"},
		{"bad value", []string{"count", "--workers", "many", sampleFile}, `invalid value "many" for flag -workers`},
		{"missing value", []string{"gen", "--count"}, "flag needs an argument: -count"},
		{"kafka command", []string{"dlq", "--nope"}, "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, err := kuniq(t, tt.args...)
			if err == nil {
				t.Fatalf("kuniq %s: err = nil, want an error", strings.Join(tt.args, " "))
			}
			msg := err.Error()
			hint := "(see 'kuniq " + tt.args[0] + " --help')"
			if !strings.Contains(msg, tt.wantInErr) || !strings.Contains(msg, hint) || strings.Contains(msg, "\n") {
				t.Errorf("kuniq %s: err %q, want one line with %q and %q", strings.Join(tt.args, " "), msg, tt.wantInErr, hint)
			}
			if out != "" || errs != "" {
				t.Errorf("kuniq %s: stdout %q, stderr %q; want nothing but the error", strings.Join(tt.args, " "), out, errs)
			}
		})
	}
}

// helpFlags parses the flag list flag.PrintDefaults writes: a line "  -name type" per flag,
// followed by its usage on lines indented "    \t".
func helpFlags(t *testing.T, help string) map[string]string {
	t.Helper()
	flags := map[string]string{}
	var cur string
	sc := bufio.NewScanner(strings.NewReader(help))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "  -"):
			cur = strings.Fields(line)[0][1:]
			if _, dup := flags[cur]; dup {
				t.Errorf("flag -%s listed twice", cur)
			}
			flags[cur] = ""
		case strings.HasPrefix(line, "    \t") && cur != "":
			flags[cur] += strings.TrimPrefix(line, "    \t")
		}
	}
	return flags
}

// commandFlags returns the flags `kuniq NAME --help` lists, with their usage.
func commandFlags(t *testing.T, name string) map[string]string {
	t.Helper()
	out, errs, err := kuniq(t, name, "--help")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("kuniq %s --help: err = %v, want flag.ErrHelp", name, err)
	}
	return helpFlags(t, out+errs)
}

func TestCommandHelpListsEveryFlagWithItsEnvTwin(t *testing.T) {
	// Flags each command must have (the README and docs/design.md); the help may list more.
	must := map[string][]string{
		"count":   {"granularity", "precision", "early", "dead-letters", "workers", "lateness", "out-of-order"},
		"gen":     {"count", "rate", "pool", "seed", "out", "truth", "malformed-pct", "bitflip-pct"},
		"run":     {"brokers", "input", "output", "partitions", "state-dir", "idle-timeout", "app", "granularity", "precision"},
		"ingest":  {"brokers", "input", "partitions"},
		"replay":  {"brokers", "app", "input", "output"},
		"view":    {"brokers", "app"},
		"serve":   {"brokers", "app", "addr", "retention-minute"},
		"uniques": {"brokers", "app", "from", "to", "retention-minute", "retention-hour"},
		"dlq":     {"brokers", "dlq"},
		"compare": {"truth", "topic", "max-error", "max-mean-error"},
		"version": {},
	}
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			// Help goes to stdout, so `kuniq count --help | grep` works; main exits 0 on ErrHelp.
			out, errs, err := kuniq(t, c.name, "--help")
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("kuniq %s --help: err = %v, want flag.ErrHelp", c.name, err)
			}
			if errs != "" {
				t.Errorf("kuniq %s --help: stderr = %q, want empty", c.name, errs)
			}
			if !strings.Contains(out, "usage: kuniq "+c.name) {
				t.Errorf("kuniq %s --help: stdout lacks %q:\n%s", c.name, "usage: kuniq "+c.name, out)
			}
			flags := helpFlags(t, out)
			if len(flags) == 0 && c.name != "version" {
				t.Fatalf("kuniq %s --help lists no flags:\n%s", c.name, out)
			}
			for name, usage := range flags {
				if want := "(env " + envName(name); !strings.Contains(usage, want+")") && !strings.Contains(usage, want+"; also read by ") {
					t.Errorf("kuniq %s --help: flag -%s usage %q lacks %q", c.name, name, usage, want)
				}
			}
			wantFlags, ok := must[c.name]
			if !ok {
				t.Errorf("command %q has no entry in this test's table: add its required flags", c.name)
			}
			for _, name := range wantFlags {
				if _, ok := flags[name]; !ok {
					t.Errorf("kuniq %s --help: flag -%s missing", c.name, name)
				}
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"brokers", "KUNIQ_BROKERS"},
		{"state-dir", "KUNIQ_STATE_DIR"},
		{"max-mean-error", "KUNIQ_MAX_MEAN_ERROR"},
	}
	for _, tt := range tests {
		if got := envName(tt.flag); got != tt.want {
			t.Errorf("envName(%q) = %q, want %q", tt.flag, got, tt.want)
		}
	}
}

// TestEnvSetsDefault proves the environment twin really sets a flag's default, that a flag on
// the command line wins over it, and that a bad value is an error rather than silently ignored.
func TestEnvSetsDefault(t *testing.T) {
	granularities := func(t *testing.T, out string) map[string]int {
		t.Helper()
		got := map[string]int{}
		for _, r := range parseResults(t, out) {
			got[r.Granularity.String()]++
		}
		return got
	}
	t.Run("granularity from env", func(t *testing.T) {
		t.Setenv("KUNIQ_GRANULARITY", "hour")
		out, _ := mustKuniq(t, "count", "--quiet", sampleFile)
		if got := granularities(t, out); len(got) != 1 || got["hour"] == 0 {
			t.Errorf("KUNIQ_GRANULARITY=hour: granularities %v, want only hour", got)
		}
	})
	t.Run("flag wins over env", func(t *testing.T) {
		t.Setenv("KUNIQ_GRANULARITY", "hour")
		out, _ := mustKuniq(t, "count", "--quiet", "--granularity", "day", sampleFile)
		if got := granularities(t, out); len(got) != 1 || got["day"] == 0 {
			t.Errorf("KUNIQ_GRANULARITY=hour --granularity day: granularities %v, want only day", got)
		}
	})
	t.Run("bool from env", func(t *testing.T) {
		t.Setenv("KUNIQ_QUIET", "yes")
		_, errs := mustKuniq(t, "count", "--dead-letters", "none", sampleFile)
		if errs != "" {
			t.Errorf("KUNIQ_QUIET=yes: stderr = %q, want no summary", errs)
		}
	})
	t.Run("default shown in help", func(t *testing.T) {
		t.Setenv("KUNIQ_BROKERS", "broker.example:19092")
		if got := commandFlags(t, "run")["brokers"]; !strings.Contains(got, `(default "broker.example:19092")`) {
			t.Errorf("KUNIQ_BROKERS set: -brokers usage %q, want the env value as default", got)
		}
	})

	good := []struct {
		env, value string
		args       []string
		wantOut    string
	}{
		// Numbers read from the environment follow the flag package's syntax.
		{"KUNIQ_COUNT", "0x10", []string{"gen", "--frame-bytes", "300"}, "16 lines"},
		{"KUNIQ_COUNT", " 12 ", []string{"gen", "--frame-bytes", "300"}, "12 lines"},
	}
	for _, tt := range good {
		t.Run("good "+tt.env+"="+tt.value, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			_, errs := mustKuniq(t, tt.args...)
			if !strings.Contains(errs, tt.wantOut) {
				t.Errorf("%s=%q kuniq %s: stderr %q, want %q", tt.env, tt.value, strings.Join(tt.args, " "), errs, tt.wantOut)
			}
		})
	}

	bad := []struct {
		env, value string
		args       []string
	}{
		{"KUNIQ_PRECISION", "fourteen", []string{"count", sampleFile}},
		{"KUNIQ_QUIET", "maybe", []string{"count", sampleFile}},
		{"KUNIQ_EARLY", "10", []string{"count", sampleFile}}, // a duration needs a unit
		{"KUNIQ_SEED", "-1", []string{"gen", "--count", "1"}},
		{"KUNIQ_MAX_ERROR", "small", []string{"compare", "--truth", "x"}},
		{"KUNIQ_GRANULARITY", "fortnight", []string{"count", sampleFile}},
		// Trailing junk must not be dropped silently (fmt.Sscan would read 14, 4, 7, 0.01).
		{"KUNIQ_PRECISION", "14.5", []string{"count", sampleFile}},
		{"KUNIQ_WORKERS", "4x", []string{"count", sampleFile}},
		{"KUNIQ_SEED", "7x", []string{"gen", "--count", "1"}},
		{"KUNIQ_MAX_ERROR", "0.01x", []string{"compare", "--truth", "x"}},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.env+"="+tt.value, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			out, _, err := kuniq(t, tt.args...)
			if err == nil {
				t.Fatalf("%s=%q kuniq %s: err = nil, want an error", tt.env, tt.value, strings.Join(tt.args, " "))
			}
			if tt.env != "KUNIQ_GRANULARITY" && !strings.Contains(err.Error(), tt.env) {
				t.Errorf("%s=%q: err = %v, want it to name the variable", tt.env, tt.value, err)
			}
			if out != "" {
				t.Errorf("%s=%q: stdout = %q, want nothing written", tt.env, tt.value, out)
			}
		})
	}
}

// withStdin makes os.Stdin read the named file for the rest of the test. Tests using it must
// not run in parallel.
func withStdin(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() {
		os.Stdin = old
		f.Close()
	})
}

// TestFlagsAfterArguments: flags may follow positional arguments, and "--" ends the flags.
func TestFlagsAfterArguments(t *testing.T) {
	want, _ := mustKuniq(t, "count", "--granularity", "hour", "--quiet", sampleFile)
	sample, err := filepath.Abs(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "-sample.jsonl"), mustRead(t, sample), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // where a file named "-sample.jsonl", or "--" for the dead letters, lands
	tests := []struct {
		name string
		args []string
	}{
		{"flags after the file", []string{"count", sample, "--granularity", "hour", "--quiet"}},
		{"flags around the file", []string{"count", "--quiet", sample, "--granularity=hour"}},
		{"-- ends the flags", []string{"count", "--granularity", "hour", "--quiet", "--", "-sample.jsonl"}},
		{"-- as a flag's value is a value", []string{"count", "--granularity", "hour", "--dead-letters", "--", "--quiet", sample}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := mustKuniq(t, tt.args...)
			if out != want {
				t.Errorf("kuniq %s: output differs from count --granularity hour FILE", strings.Join(tt.args, " "))
			}
		})
	}
	// After -- a flag is a file name, and there is no such file.
	if _, _, err := kuniq(t, "count", "--quiet", "--", "--granularity"); !os.IsNotExist(err) {
		t.Errorf("count -- --granularity: err = %v, want a not-exist error for the file \"--granularity\"", err)
	}
	if _, _, err := kuniq(t, "gen", "--count", "1", "stray", "--seed", "2"); err == nil {
		t.Errorf("gen with an argument between flags: err = nil, want an error")
	}
}

// TestHelpNamesOtherReadersOfAnEnvTwin: one variable serves every command with the flag, so
// each command's help says which other commands read it, with their default where it
// differs (KUNIQ_GRANULARITY set for count changes run, whose default is all).
func TestHelpNamesOtherReadersOfAnEnvTwin(t *testing.T) {
	tests := []struct {
		command, flag string
		want          []string
		wantNone      bool
	}{
		{"count", "granularity", []string{`also read by run (default "all")`, `view (default "all")`, "replay"}, false},
		{"run", "granularity", []string{`count (default "minute")`}, false},
		{"dlq", "brokers", []string{"also read by run, ingest, replay, view, serve, uniques, compare)"}, false},
		{"uniques", "retention-hour", []string{"also read by run, replay, serve)", "(default 2160h0m0s)"}, false},
		{"count", "workers", nil, true},
		{"gen", "seed", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.command+" "+tt.flag, func(t *testing.T) {
			usage, ok := commandFlags(t, tt.command)[tt.flag]
			if !ok {
				t.Fatalf("kuniq %s has no --%s", tt.command, tt.flag)
			}
			if tt.wantNone && strings.Contains(usage, "also read by") {
				t.Errorf("kuniq %s --%s: usage %q names other readers, but no other command has the flag", tt.command, tt.flag, usage)
			}
			for _, w := range tt.want {
				if !strings.Contains(usage, w) {
					t.Errorf("kuniq %s --%s: usage %q lacks %q", tt.command, tt.flag, usage, w)
				}
			}
		})
	}
	// And it is true: the variable set for count does change run's default.
	t.Setenv("KUNIQ_GRANULARITY", "hour")
	if got := commandFlags(t, "run")["granularity"]; !strings.Contains(got, `(default "hour")`) {
		t.Errorf("KUNIQ_GRANULARITY=hour: run --granularity usage %q, want the variable's value as its default", got)
	}
	out, _, _ := kuniq(t, "--help")
	if !strings.Contains(out, "One variable serves every command") {
		t.Errorf("kuniq --help does not state the rule for environment twins:\n%s", out)
	}
}
