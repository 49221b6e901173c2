package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/kafka"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := emitter.DefaultConfig()
	fs := newFlagSet("ingest", "ingest [flags] FILE...  ('-': stdin; .gz read transparently)", stdout)
	kf := addKafkaFlags(fs)
	topic := fs.String("input", d.Topic, "input topic to produce frames into")
	partitions := fs.Int("partitions", 4, "partitions of the input topic when ingest creates it")
	keying := fs.String("key", d.Keying.String(), "record key: uid (the frame's uid, where --uid-field says, with --ts-unit's ts, as the processor reads it; a user stays on one partition; a line that does not decode falls back to hash) or hash (CRC-32C of the record's value)")
	format := fs.String("format", codec.FormatJSON.String(), "what the records hold: json (each line as it is) or protobuf (each line converted to message Frame of codec/frame.proto, plain wire format, for run --input-format protobuf; a line that is no frame is produced as it is, and dead-lettered by the processor)")
	fields := addFieldFlags(fs, "; ingest reads it for --key uid and to convert with --format protobuf")
	compression := fs.String("compression", d.Compression.String(), "codec of the record batches: none, gzip, snappy, lz4 or zstd (Kafka 2.1+); what a frame costs on the wire and on disk with each: docs/performance.md §7")
	retryTimeout := fs.Duration("retry-timeout", d.RetryTimeout, "give up when the broker has not taken a partition's records for this long, naming the line to resume from (0: retry forever)")
	fromLine := fs.Int("from-line", 0, "resume a stopped ingest at this line of the input (the files joined, 1-based): later lines already in the topic are skipped, none is written twice")
	maxLine := byteSizeFlag(fs, "max-line-bytes", int64(d.MaxLineBytes), "longest line sent, a `size` (4MiB, 64KiB, bytes); longer lines are skipped with a warning naming them, and counted")
	progress := fs.Duration("progress", 2*time.Second, "progress report interval (0: off)")
	quiet := fs.Bool("quiet", false, "no summary line on stderr")
	if err := fs.parse(args); err != nil {
		return err
	}
	if _, err := kf.setup(stderr); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("ingest needs at least one FILE ('-' for stdin)")
	}
	kc, err := kf.config()
	if err != nil {
		return err
	}
	limit := emitter.MaxLineLimit(kc)
	var bad outOfRange
	bad.check(*progress >= 0, "--progress %v: want a duration >= 0 (0: off)", *progress)
	bad.check(*partitions >= 1, "--partitions %d: want 1 or more", *partitions)
	bad.check(*retryTimeout >= 0, "--retry-timeout %v: want a duration >= 0 (0: retry forever)", *retryTimeout)
	bad.check(*fromLine >= 0, "--from-line %d: want a line number >= 1 (0: from the start)", *fromLine)
	bad.check(*maxLine >= 1 && *maxLine <= int64(limit), "--max-line-bytes %d: want 1..%d (the producer's record limit less room for key and headers)", *maxLine, limit)
	if err := bad.err(); err != nil {
		return err
	}
	cfg := d
	cfg.Kafka = kc
	cfg.Topic = *topic
	k, err := emitter.ParseKeying(*keying)
	if err != nil {
		return err
	}
	cfg.Keying = k
	if cfg.Format, err = codec.ParseFormat(*format); err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	if err := cfg.Compression.UnmarshalText([]byte(strings.ToLower(*compression))); err != nil {
		return fmt.Errorf("--compression: %w (want none, gzip, snappy, lz4 or zstd)", err)
	}
	if cfg.Frame, err = fields.frameConfig(); err != nil {
		return err
	}
	cfg.RetryTimeout = *retryTimeout
	cfg.FromLine = int64(*fromLine)
	cfg.MaxLineBytes = int(*maxLine)
	cfg.Producer = "kuniq ingest " + buildVersion()
	logTo := stderr
	if *progress > 0 {
		pp := &emitter.ProgressPrinter{W: stderr, TTY: isTerminal(stderr)}
		cfg.Progress, cfg.ProgressEvery = pp.Update, *progress
		cfg.TotalBytes = plainSize(fs.Args())
		logTo = pp.Log()
	}
	cfg.Log = slog.New(slog.NewTextHandler(logTo, nil))
	in, err := emitter.NewIngest(cfg)
	if err != nil {
		return err
	}
	// Retention forever: history replays from this topic, and the broker would otherwise delete
	// it after its default 7 days. An existing topic keeps its partition count: ingest only adds
	// frames to it, so a mismatch with --partitions is not an error here.
	err = cfg.Kafka.EnsureTopicsContext(ctx, kafka.Topic{Name: cfg.Topic, Partitions: *partitions})
	if err != nil && !errors.Is(err, kafka.ErrPartitionMismatch) {
		return kf.explain(err)
	}

	srcs, err := ingestSources(fs.Args())
	if err != nil {
		return err
	}
	st, err := in.RunSources(ctx, srcs...)
	if !*quiet {
		fmt.Fprintln(stderr, ingestSummary(st, cfg.Topic))
	}
	var re *emitter.ResumeError
	if errors.As(err, &re) {
		// Said on stderr before the error, which main may shorten (an interrupt is "interrupted").
		fmt.Fprintf(stderr, "kuniq ingest: stopped: every line before %s is in %q; resume with the same files, --input and --key and --from-line %d\n",
			re.Resume, cfg.Topic, re.Resume.Input)
	}
	return kf.explain(err)
}

// ingestSummary is the last line of `kuniq ingest`: what was written, and everything that was
// not (blank, too long, skipped by a resume, not acknowledged), with the outages ridden out.
func ingestSummary(st emitter.Stats, topic string) string {
	secs := max(st.Elapsed.Seconds(), 1e-9)
	s := fmt.Sprintf("kuniq ingest: %d frames, %s in %.2fs: %.0f frames/s, %.1f MiB/s into %q (%d partitions); blank lines %d, failed %d, too long %d",
		st.Frames, humanBytes(st.Bytes), st.Elapsed.Seconds(), float64(st.Frames)/secs, float64(st.Bytes)/secs/(1<<20),
		topic, len(st.PerPartition), st.Blank, st.Failed, st.TooLong)
	if st.NotFrames > 0 {
		s += fmt.Sprintf("; %d lines that are no frame produced as they are (the processor dead-letters them)", st.NotFrames)
	}
	if st.Before > 0 || st.Present > 0 {
		s += fmt.Sprintf("; resumed: %d lines before --from-line, %d already in the topic, skipped", st.Before, st.Present)
	}
	if st.Outages > 0 {
		s += fmt.Sprintf("; %d outage(s), stalled %.1fs, %d batches resent", st.Outages, st.Stalled.Seconds(), st.Retried)
	}
	return s
}

// ingestSources are the named files as ingest sources, opened one after the other (gzip read
// transparently); each is identified in the records' headers by its absolute path, so a resume
// recognises its lines from another working directory too.
func ingestSources(names []string) ([]emitter.Source, error) {
	srcs := make([]emitter.Source, 0, len(names))
	for _, name := range names {
		id := name
		if name != "-" {
			abs, err := filepath.Abs(name)
			if err != nil {
				return nil, err
			}
			id = abs
		}
		srcs = append(srcs, emitter.Source{Name: name, ID: id, Open: func() (io.ReadCloser, error) {
			r, closeIn, err := openInputs([]string{name}, true)
			if err != nil {
				return nil, err
			}
			return readCloser{r, closeIn}, nil
		}})
	}
	return srcs, nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }

// buildVersion is the module version and short commit the binary was built from, for the
// records' kuniq.producer header: "v1.2.3", "(devel) 0123abcd", "(devel) 0123abcd+dirty".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" || v != "(devel)" {
		return v // a release, or a pseudo-version that names its commit
	}
	v += " " + rev[:min(len(rev), 12)]
	if dirty {
		v += "+dirty"
	}
	return v
}

// isTerminal reports whether w is a character device (a terminal), where progress rewrites
// one line instead of logging many.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// plainSize is the total size of the named files when it predicts the bytes read: all regular
// files and none gzip-compressed. Otherwise it is 0 (unknown, so no ETA). Only regular files
// are opened: opening a named pipe to peek would take bytes from its writer and, on close,
// break its pipe.
func plainSize(names []string) int64 {
	var total int64
	for _, name := range names {
		if name == "-" {
			return 0
		}
		fi, err := os.Stat(name)
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		f, err := os.Open(name)
		if err != nil {
			return 0
		}
		var magic [2]byte
		n, _ := io.ReadFull(f, magic[:])
		f.Close()
		if isGzip(magic[:n]) {
			return 0
		}
		total += fi.Size()
	}
	return total
}

// byteSizeFlag defines a size flag with its environment twin: a byte count with an optional
// binary unit ("4MiB", "64KiB", "1048576", "2GiB"), as sizes are written everywhere in kuniq.
func byteSizeFlag(fs *flagSet, name string, def int64, usage string) *int64 {
	v := &byteSizeValue{n: envDefault(fs, name, def, parseByteSize)}
	fs.FlagSet.Var(v, name, fs.help(name, usage))
	return &v.n
}

type byteSizeValue struct{ n int64 }

func (v *byteSizeValue) String() string {
	if v == nil {
		return "0"
	}
	return formatByteSize(v.n)
}

func (v *byteSizeValue) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	v.n = n
	return nil
}

// parseByteSize reads "4MiB", "64KiB", "1GiB", "512B" or a plain number of bytes.
func parseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("not a size: want bytes with an optional unit, e.g. 4MiB, 64KiB, 1048576")
	}
	return n * mult, nil
}

// formatByteSize writes n in the largest binary unit that divides it.
func formatByteSize(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
