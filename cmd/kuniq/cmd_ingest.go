package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/kafka"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := emitter.DefaultConfig()
	fs := newFlagSet("ingest", "ingest [flags] FILE...  ('-': stdin; .gz read transparently)", stdout)
	kf := addKafkaFlags(fs)
	topic := fs.String("input", d.Topic, "input topic to produce frames into")
	partitions := fs.Int("partitions", 4, "partitions of the input topic when ingest creates it")
	keying := fs.String("key", d.Keying.String(), "record key: uid (the frame's root uid; a user stays on one partition) or hash (CRC-32C of the line)")
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
	var bad outOfRange
	bad.check(*progress >= 0, "--progress %v: want a duration >= 0 (0: off)", *progress)
	bad.check(*partitions >= 1, "--partitions %d: want 1 or more", *partitions)
	if err := bad.err(); err != nil {
		return err
	}
	cfg := d
	kc, err := kf.config()
	if err != nil {
		return err
	}
	cfg.Kafka = kc
	cfg.Topic = *topic
	k, err := emitter.ParseKeying(*keying)
	if err != nil {
		return err
	}
	cfg.Keying = k
	if *progress > 0 {
		pp := &emitter.ProgressPrinter{W: stderr, TTY: isTerminal(stderr)}
		cfg.Progress, cfg.ProgressEvery = pp.Update, *progress
		cfg.TotalBytes = plainSize(fs.Args())
	}
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

	r, closeIn, err := openInputs(fs.Args())
	if err != nil {
		return err
	}
	defer closeIn()
	st, err := in.Run(ctx, r)
	if !*quiet {
		secs := max(st.Elapsed.Seconds(), 1e-9)
		fmt.Fprintf(stderr, "kuniq ingest: %d frames, %s in %.2fs: %.0f frames/s, %.1f MiB/s into %q (%d partitions); blank lines %d, failed %d\n",
			st.Frames, humanBytes(st.Bytes), st.Elapsed.Seconds(), float64(st.Frames)/secs, float64(st.Bytes)/secs/(1<<20),
			cfg.Topic, len(st.PerPartition), st.Blank, st.Failed)
	}
	return kf.explain(err)
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
// files and none gzip-compressed. Otherwise it is 0 (unknown, so no ETA).
func plainSize(names []string) int64 {
	var total int64
	for _, name := range names {
		if name == "-" {
			return 0
		}
		f, err := os.Open(name)
		if err != nil {
			return 0
		}
		var magic [2]byte
		n, _ := io.ReadFull(f, magic[:])
		fi, err := f.Stat()
		f.Close()
		if err != nil || !fi.Mode().IsRegular() || isGzip(magic[:n]) {
			return 0
		}
		total += fi.Size()
	}
	return total
}
