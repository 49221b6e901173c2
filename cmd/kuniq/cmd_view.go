package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/logging"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/view"
	"github.com/kuniq/kuniq/window"
)

// viewFlags are the flags `view` and `serve` share: which cluster and which app's table.
type viewFlags struct {
	kafka   *kafkaFlags
	app     *string
	verbose *bool
}

func addViewFlags(fs *flagSet) *viewFlags {
	return &viewFlags{
		kafka:   addKafkaFlags(fs),
		app:     fs.String("app", processor.DefaultApp, "application id whose window table is read (the --app given to kuniq run)"),
		verbose: fs.Bool("verbose", false, "show Goka's log lines (its debug records)"),
	}
}

func (f *viewFlags) config(stderr io.Writer) (view.Config, error) {
	cfg := view.DefaultConfig()
	if _, err := f.kafka.setup(stderr); err != nil {
		return cfg, err
	}
	kc, err := f.kafka.config()
	if err != nil {
		return cfg, err
	}
	cfg.Kafka = kc
	cfg.Kafka.ClientID = "kuniq-view"
	cfg.App = *f.app
	l := commandLog()
	if *f.verbose {
		// Goka's chatter is at debug level: --verbose shows it whatever --log-level says.
		if vl, err := logging.New(stderr, "debug", *f.kafka.log.format); err == nil {
			l = vl
		}
	}
	cfg.Logger = gokaLogger(l)
	return cfg, nil
}

// openView opens the app's table view and explains the usual reason for a missing table.
func openView(ctx context.Context, cfg view.Config) (*view.View, error) {
	v, err := view.Open(ctx, cfg)
	if errors.Is(err, view.ErrNoTable) {
		return nil, fmt.Errorf("no table for app %s: has `kuniq run --app %s` run? (%w)", cfg.App, cfg.App, err)
	}
	return v, err
}

func runView(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("view", "view [flags]  (print the windows of the app's table once it has recovered)", stdout)
	vf := addViewFlags(fs)
	gran := fs.String("granularity", "all", "windows to print: comma list of minute,hour,day,week,month,year, or all")
	from := fs.String("from", "", "print windows starting at or after this time (unix seconds or RFC 3339)")
	to := fs.String("to", "", "print windows starting before this time (unix seconds or RFC 3339)")
	asJSON := fs.Bool("json", false, "print JSON lines of result records instead of a table")
	timeout := fs.Duration("timeout", 60*time.Second, "give up if the view has not recovered the table by then")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("view takes no arguments, got %q", fs.Args())
	}
	var bad outOfRange
	bad.check(*timeout > 0, "--timeout %v: want a duration > 0", *timeout)
	if err := bad.err(); err != nil {
		return err
	}
	gs, err := window.ParseList(*gran)
	if err != nil {
		return err
	}
	lo, hi, err := timeRange(*from, *to)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	vc, err := vf.config(stderr)
	if err != nil {
		return err
	}
	v, err := openView(ctx, vc)
	if err != nil {
		return vf.kafka.explain(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- v.Run(ctx) }()
	waitCtx, stopWait := context.WithTimeout(ctx, *timeout)
	err = v.WaitRecovered(waitCtx)
	stopWait()
	if err == nil {
		err = printWindows(v, gs, lo, hi, *asJSON, stdout)
	}
	cancel()
	return vf.kafka.explain(errors.Join(err, <-runErr))
}

// timeRange parses --from/--to; empty bounds are open.
func timeRange(from, to string) (lo, hi int64, err error) {
	lo, hi = math.MinInt64, math.MaxInt64
	if from != "" {
		if lo, err = view.ParseTime(from); err != nil {
			return 0, 0, fmt.Errorf("--from: %w", err)
		}
	}
	if to != "" {
		if hi, err = view.ParseTime(to); err != nil {
			return 0, 0, fmt.Errorf("--to: %w", err)
		}
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("--from %s is after --to %s", from, to)
	}
	return lo, hi, nil
}

func printWindows(v *view.View, gs []window.Granularity, lo, hi int64, asJSON bool, stdout io.Writer) error {
	bw := bufio.NewWriter(stdout)
	var tw *tabwriter.Writer
	if !asJSON {
		tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "start (UTC)\tgranularity\tuniques\tframes\tfinal\trevision\t")
	}
	var line []byte
	for _, g := range gs {
		rs, err := v.Windows(g, lo, hi)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if asJSON {
				line = append(r.AppendJSON(line[:0]), '\n')
				bw.Write(line)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\t\n", r.StartTime, r.Granularity, r.Uniques, r.Frames, finalText(r), r.Revision)
		}
	}
	if tw != nil {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func finalText(r codec.Result) string {
	if !r.Final {
		return "early"
	}
	s := "yes"
	if r.Closed {
		s = "closed"
	}
	if r.LateFrames > 0 {
		s += " (+" + strconv.FormatInt(r.LateFrames, 10) + " late)"
	}
	return s
}
