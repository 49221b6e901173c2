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
	"os"
	"os/signal"
	"syscall"

	"github.com/kuniq/kuniq/kafka"
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
		{"dlq", "count the dead letters by reason and show a few", runDLQ},
		{"compare", "compare result records with the exact counts of `gen --truth`", runCompare},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal asks for a graceful stop; from then on a second one ends the
		// process at once (the default action).
		<-ctx.Done()
		stop()
	}()
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
		fmt.Fprintln(os.Stderr, "kuniq:", explain(err))
		os.Exit(1)
	}
}

// explain adds what the user can do about an error kuniq cannot fix itself.
func explain(err error) string {
	msg := err.Error()
	if errors.Is(err, kafka.ErrUnreachable) {
		msg += " (check --brokers / KUNIQ_BROKERS, and --kafka-timeout for a slow network)"
	}
	return msg
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `kuniq counts unique users per minute, hour, day, week, month and year
from JSON frames {"ts": <unix seconds>, "uid": "<id>", ...}.

usage: kuniq <command> [flags] [args]

commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Every flag has an environment twin: --brokers is KUNIQ_BROKERS, --state-dir is
KUNIQ_STATE_DIR. Run 'kuniq <command> --help' for a command's flags.
`)
}
