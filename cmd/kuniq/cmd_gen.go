package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kuniq/kuniq/codec"
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
	format := fs.String("format", codec.FormatJSON.String(), "json (one frame per line) or protobuf (a length-delimited stream of message Frame, as writeDelimitedTo writes it, for count --input-format protobuf; malformed lines have no protobuf form and are left out)")
	truth := fs.String("truth", "", "also write the exact uniques and frames per window as JSON lines to this file")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gen takes no arguments, got %q", fs.Args())
	}
	outFormat, err := codec.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
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
	var conv *delimitedWriter
	if outFormat == codec.FormatProtobuf {
		conv = &delimitedWriter{w: w}
		w = conv
	}
	_, werr := g.WriteTo(w)
	if conv != nil {
		werr = errors.Join(werr, conv.Flush())
	}
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
	if conv != nil {
		fmt.Fprintf(stderr, "kuniq gen: as protobuf: %d delimited messages, %s; %d lines that are no frame left out\n",
			conv.messages, humanBytes(conv.bytes), conv.skipped)
	}
	return nil
}

// delimitedWriter turns the JSON lines written to it into a length-delimited protobuf stream
// of message Frame on w (ts in seconds, as the lines have it); a line that does not decode
// as a frame has no protobuf form and is left out.
type delimitedWriter struct {
	w                 io.Writer
	dec               codec.FrameDecoder
	line, msg, out    []byte
	messages, skipped int64
	bytes             int64
}

func (d *delimitedWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			d.line = append(d.line, p...)
			break
		}
		l := p[:i]
		if len(d.line) > 0 {
			d.line = append(d.line, l...)
			l = d.line
		}
		d.add(l)
		d.line, p = d.line[:0], p[i+1:]
	}
	if len(d.out) >= 1<<16 {
		if err := d.Flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (d *delimitedWriter) add(line []byte) {
	f, err := d.dec.Decode(line)
	if err != nil {
		if len(bytes.TrimSpace(line)) > 0 {
			d.skipped++
		}
		return
	}
	d.msg = codec.AppendProtoFrame(d.msg[:0], f.TS, f.UID)
	from := len(d.out)
	d.out = codec.AppendDelimited(d.out, d.msg)
	d.messages++
	d.bytes += int64(len(d.out) - from)
}

// Flush writes what was converted, and the last line if it had no newline.
func (d *delimitedWriter) Flush() error {
	if len(d.line) > 0 {
		d.add(d.line)
		d.line = d.line[:0]
	}
	_, err := d.w.Write(d.out)
	d.out = d.out[:0]
	return err
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
