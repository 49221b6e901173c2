// Command kuniq counts unique users per minute, hour, day, week, month and year from JSON
// frames, on Apache Kafka (run, ingest, view, serve) or on files and stdin (count, gen).
// main only wires: flags, environment, signals; the logic lives in the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"count", "count unique users per window from files or stdin (no Kafka)", runCount},
		{"gen", "generate challenge-shaped frames (and the exact counts with --truth)", runGen},
		{"run", "run a processor instance: frames topic -> window table -> uniques topic", runRun},
		{"ingest", "produce frames from files into the input topic (historical ingest)", runIngest},
		{"replay", "re-process the input topic from the start into a fresh application", runReplay},
		{"view", "print windows and counts from the window table (a Goka view)", runView},
		{"serve", "serve the window table over HTTP: JSON API and a live page", runServe},
		{"uniques", "unique users in any aligned time range, from the window table", runUniques},
		{"dlq", "count the dead letters by reason and show a few", runDLQ},
		{"compare", "compare result records with the exact counts of `gen --truth`", runCompare},
		{"version", "print the version, commit and Go version (also: kuniq --version)", runVersion},
	}
}

func main() {
	ctx, stop := stopOnSignal()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "kuniq: interrupted")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kuniq:", err)
		os.Exit(1)
	}
}

// stopOnSignal returns a context that SIGINT or SIGTERM cancels. The first signal asks for a
// graceful stop and is logged (through the command's logger once it has one), so that an exit
// a supervisor did not ask for is never a mystery; from then on a second signal ends the
// process at once (the default action).
func stopOnSignal() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			slog.Info("signal received: stopping gracefully (a second one stops at once)", "signal", sig.String())
		case <-ctx.Done():
		}
		signal.Stop(sigs)
		cancel()
	}()
	return ctx, cancel
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errors.New("no command")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	return fmt.Errorf("unknown command %q (see 'kuniq --help')", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `kuniq counts unique users per minute, hour, day, week, month and year
from JSON frames {"ts": <unix seconds>, "uid": "<id>", ...}.

usage: kuniq <command> [flags] [args]
       kuniq --version

commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, envSharing)
}

// envSharing is the rule for environment twins, and why: one variable per flag name, read by
// every command that has the flag, rather than one per command (KUNIQ_COUNT_GRANULARITY).
// Most settings mean the same in every command and must agree across them: the cluster, the
// app whose table view reads, the topics, the precision. One environment (a shell profile, a
// compose file, a CI job) then configures run, view, serve, dlq and compare alike, and the
// names are the ones users already set (KUNIQ_BROKERS). The price is that a variable set for
// one command also changes the others that have the flag, even where their defaults differ
// (KUNIQ_GRANULARITY=hour for count makes run count hours only): each command's --help
// therefore names the other commands that read each of its variables, with their defaults.
const envSharing = `
Every flag has an environment twin: --brokers is KUNIQ_BROKERS, --state-dir is
KUNIQ_STATE_DIR. A flag on the command line wins. One variable serves every command
that has the flag, so one environment configures run, view, serve and the rest alike;
it also means KUNIQ_GRANULARITY set for count changes run too. 'kuniq <command> --help'
lists a command's flags and, for each variable, the other commands that read it.
`
