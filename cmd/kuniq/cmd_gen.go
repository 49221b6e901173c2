package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kuniq/kuniq/gen"
)

func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := gen.DefaultConfig()
	fs := newFlagSet("gen", "gen [flags]  (frames to stdout or --out)", stdout)
	count := fs.Int("count", d.Count, "frames to write")
	rate := fs.Int("rate", d.Rate, "the clock advances 1 s with probability 1/rate per frame (challenge: 1000)")
	pool := fs.Int("pool", d.Pool, "distinct users (uids are 19 hex chars)")
	seed := fs.Uint64("seed", d.Seed, "random seed: the same seed and flags give the same bytes")
	start := fs.Int("start", int(d.Start), "ts of the first frame, unix seconds")
	disorderPct := fs.Float64("disorder-pct", d.DisorderPct, "percent of frames whose ts is lowered by 1..disorder-max s")
	disorderMax := fs.Duration("disorder-max", d.DisorderMax, "largest disorder")
	latePct := fs.Float64("late-pct", d.LatePct, "percent of very late frames (beyond the allowed lateness; not counted)")
	lateBy := fs.Duration("late-by", d.LateBy, "how late a very late frame is, at least")
	flipPct := fs.Float64("bitflip-pct", d.BitFlipPct, "percent of frames with one bit of ts (13..40) flipped (not counted)")
	malformedPct := fs.Float64("malformed-pct", d.MalformedPct, "percent of malformed lines (not counted)")
	jumpEvery := fs.Int("jump-every", d.JumpEvery, "every N frames the clock jumps forward by --jump-by (0: never)")
	jumpBy := fs.Duration("jump-by", d.JumpBy, "size of a clock jump")
	frameBytes := fs.Int("frame-bytes", d.FrameBytes, "target length of a frame in bytes")
	out := fs.String("out", "-", "output file ('-' for stdout; a .gz name compresses)")
	truth := fs.String("truth", "", "also write the exact uniques and frames per window as JSON lines to this file")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gen takes no arguments, got %q", fs.Args())
	}
	// gen.Config reads 0 as "the default" for these; on the command line 0 is a mistake.
	var bad outOfRange
	bad.check(*rate >= 1, "--rate %d: want 1 or more (the clock advances 1 s with probability 1/rate)", *rate)
	bad.check(*pool >= 1, "--pool %d: want 1 or more users", *pool)
	bad.check(*start >= 1, "--start %d: want unix seconds > 0", *start)
	bad.check(*frameBytes >= gen.MinFrameBytes, "--frame-bytes %d: want %d or more", *frameBytes, gen.MinFrameBytes)
	bad.check(*disorderMax >= time.Second, "--disorder-max %v: want 1s or more", *disorderMax)
	bad.check(*lateBy >= time.Second, "--late-by %v: want 1s or more", *lateBy)
	bad.check(*jumpBy >= time.Second, "--jump-by %v: want 1s or more", *jumpBy)
	if err := bad.err(); err != nil {
		return err
	}
	cfg := d
	cfg.Count, cfg.Rate, cfg.Pool, cfg.Seed, cfg.Start = *count, *rate, *pool, *seed, int64(*start)
	cfg.DisorderPct, cfg.DisorderMax, cfg.LatePct, cfg.LateBy = *disorderPct, *disorderMax, *latePct, *lateBy
	cfg.BitFlipPct, cfg.MalformedPct, cfg.JumpEvery, cfg.JumpBy = *flipPct, *malformedPct, *jumpEvery, *jumpBy
	cfg.FrameBytes = *frameBytes
	g, err := gen.New(cfg)
	if err != nil {
		return err
	}
	w, closeOut, err := createOutput(*out, stdout)
	if err != nil {
		return err
	}
	_, werr := g.WriteTo(w)
	if err := errors.Join(werr, closeOut()); err != nil {
		return fmt.Errorf("write frames: %w", err)
	}
	if *truth != "" {
		tw, closeTruth, err := createOutput(*truth, stdout)
		if err != nil {
			return err
		}
		if err := errors.Join(gen.WriteTruth(tw, g.Truth()), closeTruth()); err != nil {
			return fmt.Errorf("write truth: %w", err)
		}
	}
	st := g.Stats()
	fmt.Fprintf(stderr, "kuniq gen: %d lines, %s; clean %d, disordered %d, late %d, bit-flipped %d, malformed %d\n",
		st.Lines, humanBytes(st.Bytes), st.Kinds[gen.Clean], st.Kinds[gen.Disordered], st.Kinds[gen.Late],
		st.Kinds[gen.BitFlipped], st.Kinds[gen.Malformed])
	return nil
}

// createOutput opens name for writing ("-" is stdout; *.gz is gzip-compressed), buffered.
func createOutput(name string, stdout io.Writer) (io.Writer, func() error, error) {
	var sink io.Writer = stdout
	closeFile := func() error { return nil }
	if name != "-" && name != "" {
		f, err := os.Create(name)
		if err != nil {
			return nil, nil, err
		}
		sink, closeFile = f, f.Close
	}
	var gz *gzip.Writer
	if strings.HasSuffix(name, ".gz") {
		gz = gzip.NewWriter(sink)
		sink = gz
	}
	bw := bufio.NewWriterSize(sink, 1<<20)
	return bw, func() error {
		err := bw.Flush()
		if gz != nil {
			err = errors.Join(err, gz.Close())
		}
		return errors.Join(err, closeFile())
	}, nil
}

// humanBytes is a size in binary units (KiB, MiB, GiB), the units of every size and rate kuniq
// prints (rates in MiB/s).
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
