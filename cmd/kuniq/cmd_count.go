package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// countingFlags are the event-time and sketch settings `count` and `run` share, so a file
// counted alone and a partition in the pipeline follow the same rules.
type countingFlags struct {
	granularity *string
	precision   *int
	outOfOrder  *time.Duration
	lateness    *time.Duration
	maxJump     *time.Duration
	confirm     *int
	reject      *int
	input       *inputFlags
}

func addCountingFlags(fs *flagSet, defaultGranularity string) *countingFlags {
	d := window.DefaultConfig()
	return &countingFlags{
		granularity: fs.String("granularity", defaultGranularity, "windows to count: comma list of minute,hour,day,week,month,year, or all"),
		precision:   fs.Int("precision", sketch.DefaultPrecision, fmt.Sprintf("HyperLogLog precision p (%d..%d): standard error 1.04/sqrt(2^p), 0.81%% at 14", sketch.MinPrecision, sketch.MaxPrecision)),
		outOfOrder:  fs.Duration("out-of-order", d.OutOfOrder, "allowed out-of-orderness: watermark = max ts - this"),
		lateness:    fs.Duration("lateness", d.Lateness, "allowed lateness: frames older than watermark - this are dead letters"),
		maxJump:     fs.Duration("max-jump", d.MaxJump, "a ts further than this ahead of the event time is held until confirmed (bit-flip guard)"),
		confirm:     fs.Int("confirm", d.Confirm, "frames that confirm a jump of event time"),
		reject:      fs.Int("reject", d.Reject, "frames at the old time that reject a pending jump"),
		input:       addInputFlags(fs, "", ""),
	}
}

func (f *countingFlags) engineConfig() (engine.Config, error) {
	gs, err := window.ParseList(*f.granularity)
	if err != nil {
		return engine.Config{}, err
	}
	if *f.precision < sketch.MinPrecision || *f.precision > sketch.MaxPrecision {
		return engine.Config{}, fmt.Errorf("--precision %d: want %d..%d", *f.precision, sketch.MinPrecision, sketch.MaxPrecision)
	}
	cfg := engine.DefaultConfig()
	cfg.Granularities = gs
	cfg.Precision = uint8(*f.precision)
	cfg.Clock.OutOfOrder, cfg.Clock.Lateness, cfg.Clock.MaxJump = *f.outOfOrder, *f.lateness, *f.maxJump
	cfg.Clock.Confirm, cfg.Clock.Reject = *f.confirm, *f.reject
	if cfg.Frame, err = f.input.frameConfig(); err != nil {
		return engine.Config{}, err
	}
	return cfg, cfg.Validate()
}

func runCount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("count", "count [flags] [FILE...]  (no FILE or '-': stdin; .gz read transparently; JSON lines, or with --input-format protobuf a length-delimited stream)", stdout)
	cf := addCountingFlags(fs, "minute")
	early := fs.Duration("early", 0, "emit provisional (final:false) results of open windows every this much event time (0: finals only)")
	correction := fs.Duration("correction-interval", engine.DefaultCorrectionEvery, "publish at most one correction of a final window per this much event time; the closed record carries the last (0: every one)")
	deadLetters := fs.String("dead-letters", "-", "where dead letters go as JSON lines: a file, '-' for stderr, 'none' to only count them")
	workers := fs.Int("workers", 0, "decoding goroutines (0: one per core); output is the same for any value")
	quiet := fs.Bool("quiet", false, "no summary line on stderr")
	if err := fs.parse(args); err != nil {
		return err
	}
	var bad outOfRange
	bad.check(*workers >= 0, "--workers %d: want 0 (one per core) or more", *workers)
	bad.check(*correction >= 0 && *correction%time.Second == 0, "--correction-interval %v: want whole seconds >= 0 (0: every correction)", *correction)
	if err := bad.err(); err != nil {
		return err
	}
	cfg, err := cf.engineConfig()
	if err != nil {
		return err
	}
	cfg.EarlyEvery, cfg.CorrectionEvery = *early, *correction

	// A delimited protobuf stream is binary: files are joined as they are, never with a
	// newline added between them.
	in, closeIn, err := openInputs(fs.Args(), cfg.Frame.Format == codec.FormatJSON)
	if err != nil {
		return err
	}
	defer closeIn()
	counted := &countingReader{r: in}
	out := bufio.NewWriterSize(stdout, 1<<16)
	var dlq io.Writer
	closeDLQ := func() error { return nil }
	switch *deadLetters {
	case "none":
	case "-":
		dlq = stderr
	default:
		f, err := os.Create(*deadLetters)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		dlq, closeDLQ = bw, func() error { return errors.Join(bw.Flush(), f.Close()) }
	}
	sink := &lineSink{out: out, dlq: dlq}
	counter, err := engine.NewCounter(cfg, sink)
	if err != nil {
		return err
	}
	started := time.Now()
	err = engine.Read(ctx, counted, engine.ReadConfig{Workers: *workers, Frame: cfg.Frame}, func(frames []engine.Frame) error {
		for _, f := range frames {
			counter.Add(f)
		}
		return sink.err
	})
	if err == nil || errors.Is(err, codec.ErrDelimited) {
		// A broken protobuf stream was read up to the break (its dead letter says where):
		// what was read is counted and output, and the error still makes the exit status.
		counter.Close()
	}
	bytesIn := counted.n
	err = errors.Join(err, sink.err, out.Flush(), closeDLQ())
	if !*quiet {
		printSummary(stderr, counter.Stats(), sink.finals, bytesIn, time.Since(started))
	}
	return err
}

// lineSink writes results to out and dead letters to dlq, one JSON object per line.
type lineSink struct {
	out, dlq io.Writer
	buf      []byte
	finals   int
	err      error
}

func (s *lineSink) Result(r codec.Result) {
	if r.Closed {
		// Every window gets exactly one closed record, by the end of input at the latest.
		s.finals++
	}
	s.buf = append(r.AppendJSON(s.buf[:0]), '\n')
	if _, err := s.out.Write(s.buf); err != nil && s.err == nil {
		s.err = fmt.Errorf("write results: %w", err)
	}
}

func (s *lineSink) DeadLetter(d codec.DeadLetter) {
	if s.dlq == nil {
		return
	}
	s.buf = append(d.AppendJSON(s.buf[:0]), '\n')
	if _, err := s.dlq.Write(s.buf); err != nil && s.err == nil {
		s.err = fmt.Errorf("write dead letters: %w", err)
	}
}

func printSummary(w io.Writer, st engine.Stats, finals int, bytesIn int64, took time.Duration) {
	reasons := make([]string, 0, len(st.Dead))
	for r := range st.Dead {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var dead strings.Builder
	for i, r := range reasons {
		if i > 0 {
			dead.WriteString(", ")
		}
		fmt.Fprintf(&dead, "%s %d", r, st.Dead[r])
	}
	secs := max(took.Seconds(), 1e-9)
	fmt.Fprintf(w, "kuniq count: %d frames, %s in %.2fs: %.0f frames/s, %.0f MiB/s; counted %d, dead letters %d (%s); %d windows final\n",
		st.Frames, humanBytes(bytesIn), took.Seconds(), float64(st.Frames)/secs, float64(bytesIn)/secs/(1<<20),
		st.Accepted, st.DeadTotal(), dead.String(), finals)
}

// isGzip reports whether a file starting with magic is gzip-compressed (RFC 1952's ID1 ID2),
// whatever its name.
func isGzip(magic []byte) bool { return len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// openInputs concatenates the named files ("-" or none: stdin) into one stream, decompressing
// gzip files (recognised by their magic bytes, whatever their name). With lines set it ends
// each file that does not end with a newline with one, so the last line of one never merges
// with the first of the next; nothing else is added: no blank line between files, none for an
// empty file. Without it (binary streams) the files are joined byte for byte.
func openInputs(names []string, lines bool) (io.Reader, func(), error) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	var readers []io.Reader
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	for _, name := range names {
		var r io.Reader = os.Stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			closers = append(closers, f)
			r = f
		}
		br := bufio.NewReaderSize(r, 1<<20)
		if magic, _ := br.Peek(2); isGzip(magic) {
			gz, err := gzip.NewReader(br)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("%s: %w", name, err)
			}
			closers = append(closers, gz)
			r = gz
		} else {
			r = br
		}
		if !lines {
			readers = append(readers, r)
			continue
		}
		last := &lastByte{r: r}
		readers = append(readers, last, &newlineIfMissing{after: last})
	}
	return io.MultiReader(readers...), closeAll, nil
}

// lastByte reads r and remembers the last byte it read.
type lastByte struct {
	r    io.Reader
	last byte
	any  bool
}

func (l *lastByte) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.last, l.any = p[n-1], true
	}
	return n, err
}

// newlineIfMissing reads as one "\n" if the stream before it (read to its end first, as
// io.MultiReader does) was not empty and did not end with one, and as nothing otherwise.
type newlineIfMissing struct {
	after *lastByte
	done  bool
}

func (n *newlineIfMissing) Read(p []byte) (int, error) {
	if n.done || !n.after.any || n.after.last == '\n' {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n.done = true
	p[0] = '\n'
	return 1, io.EOF
}
