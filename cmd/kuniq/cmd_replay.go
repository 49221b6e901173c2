package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kuniq/kuniq/processor"
)

// runReplay re-processes the whole input topic into a fresh application: new consumer groups
// start at the oldest offset, new internal topics and table, and by default its own output and
// dead-letter topics, so the live app is untouched. It shows its progress and exits 0 once it
// has caught up with the input and every window whose end has passed is final (--follow keeps
// it running as `kuniq run` would).
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var follow *bool
	var every *time.Duration
	cfg, kf, err := parseRun("replay", "replay --app NEW-APP [run flags]  (re-process the input from the start into a new app, e.g. after changing --precision)", args, stdout, stderr,
		func(fs *flagSet) {
			follow = fs.Bool("follow", false, "keep running once caught up, as `kuniq run` does")
			every = fs.Duration("progress", 2*time.Second, "progress report interval")
		})
	if err != nil {
		return err
	}
	var bad outOfRange
	bad.check(cfg.Names.App != processor.DefaultApp, "replay needs a new --app (not %q): the live application keeps its state", processor.DefaultApp)
	bad.check(*every > 0, "--progress %v: want a positive interval", *every)
	if err := bad.err(); err != nil {
		return err
	}
	kc := cfg.Kafka
	if n, err := kc.PartitionCountContext(ctx, string(cfg.Names.Partials)); err != nil {
		return kf.explain(err)
	} else if n > 0 {
		return fmt.Errorf("app %q exists already (topic %s): replay starts a new app; pick another --app or use `kuniq run --app %s` to continue it",
			cfg.Names.App, cfg.Names.Partials, cfg.Names.App)
	}
	p := processor.New(cfg)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	pp := &replayPrinter{w: stderr, tty: isTerminal(stderr), start: time.Now()}
	t := time.NewTicker(*every)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return kf.explain(err)
		case <-t.C:
		}
		pr, err := p.Progress(ctx)
		if err != nil {
			pp.note(fmt.Sprintf("replay: progress unknown: %v", err))
			continue
		}
		pp.print(pr, false)
		if pr.Done() && !*follow {
			stop()
			err := <-done
			pp.print(pr, true)
			if pr.Open > 0 {
				fmt.Fprintf(stderr, "replay: %d windows are still open: their end has not passed on the clock (run `kuniq run --app %s` to finish them)\n", pr.Open, cfg.Names.App)
			}
			if errors.Is(err, context.Canceled) {
				err = nil
			}
			return kf.explain(err)
		}
	}
}

// replayPrinter shows replay's progress: one updating line on a terminal, plain lines otherwise.
type replayPrinter struct {
	w     io.Writer
	tty   bool
	start time.Time
	prev  processor.Progress
	prevT time.Time
	wide  int
}

func (pp *replayPrinter) print(pr processor.Progress, final bool) {
	now := time.Now()
	rate := 0.0
	if !pp.prevT.IsZero() {
		rate = float64(pr.Read-pp.prev.Read) / max(now.Sub(pp.prevT).Seconds(), 1e-9)
	}
	if final {
		rate = float64(pr.Read) / max(now.Sub(pp.start).Seconds(), 1e-9)
	}
	pp.prev, pp.prevT = pr, now
	line := fmt.Sprintf("replay: %d of %d records", pr.Read, pr.HighWater)
	if pr.HighWater > 0 {
		line += fmt.Sprintf(" (%.0f%%)", 100*float64(pr.Read)/float64(pr.HighWater))
	}
	line += fmt.Sprintf(", %.0f records/s", rate)
	if left := pr.HighWater - pr.Read; rate > 0 && left > 0 && !final {
		line += ", ETA " + (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
	}
	if pr.Open >= 0 {
		line += fmt.Sprintf("; windows open %d (%d due)", pr.Open, pr.Due)
	}
	if final {
		line += fmt.Sprintf("; done in %v", now.Sub(pp.start).Round(100*time.Millisecond))
	}
	pp.note(line)
	if final && pp.tty {
		fmt.Fprintln(pp.w)
	}
}

func (pp *replayPrinter) note(line string) {
	if !pp.tty {
		fmt.Fprintln(pp.w, line)
		return
	}
	pad := max(pp.wide-len(line), 0)
	pp.wide = len(line)
	fmt.Fprintf(pp.w, "\r%s%*s", line, pad, "")
}
