package main

import (
	"context"
	"io"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/window"
)

// runFlags are the flags of `run` (and `replay`, which is `run` on a fresh app).
type runFlags struct {
	kafka                          *kafkaFlags
	counting                       *countingFlags
	streamRetention                *time.Duration
	app, input, output, dlq, stage *string
	partitions, maxPending         *int
	stateDir                       *string
	sharedOutput                   *bool
	idle, flush, early             *time.Duration
	retMinute, retHour, retDay     *time.Duration
	retWeek, retMonth, retYear     *time.Duration
	http                           *string
	httpPage                       *bool
	httpf                          *httpFlags
	correction                     *time.Duration
}

// addRunFlags defines the flags of run, or of replay: its output and dead-letter topics
// default to the app's own (<app>-uniques, <app>-dlq), so a replay never writes into the live
// app's topics by accident.
func addRunFlags(fs *flagSet, replay bool) *runFlags {
	d := processor.DefaultConfig()
	r := d.Retention
	output, dlq := string(processor.DefaultOutput), string(processor.DefaultDeadLetter)
	outHelp, dlqHelp := "", ""
	if replay {
		output, dlq = "", ""
		outHelp, dlqHelp = " (default <app>-uniques)", " (default <app>-dlq)"
	}
	return &runFlags{
		kafka:           addKafkaFlags(fs),
		counting:        addCountingFlags(fs, "all"),
		streamRetention: fs.Duration("stream-retention", d.Kafka.StreamRetention, "retention of the stream topics kuniq creates (0: forever, so history can be replayed)"),
		app:             fs.String("app", processor.DefaultApp, "application id: prefixes every consumer group and internal topic (like Kafka Streams' application.id)"),
		input:           fs.String("input", string(processor.DefaultInput), "input topic of JSON frames"),
		output:          fs.String("output", output, "output topic of result records (compacted, key <granularity>/<start>)"+outHelp),
		dlq:             fs.String("dlq", dlq, "dead-letter topic: frames not counted, with the reason"+dlqHelp),
		sharedOutput:    fs.Bool("shared-output", false, "write into output and dead-letter topics that hold another app's records (refused otherwise)"),
		stage:           fs.String("stage", string(processor.StageBoth), "what this process runs: both, preagg (stage 1) or windows (stage 2)"),
		partitions:      fs.Int("partitions", d.Partitions, "partitions of the topics kuniq creates when they are missing"),
		maxPending:      fs.Int("max-pending", d.MaxPending, "frames one input partition may hold before it flushes early"),
		stateDir:        fs.String("state-dir", d.StateDir, "directory of the local LevelDB tables (one per instance)"),
		idle:            fs.Duration("idle-timeout", d.IdleTimeout, "an input partition without frames for this long stops holding windows open"),
		flush:           fs.Duration("flush-interval", d.FlushInterval, "how often stage 1 sends its partial sketches (bounds result latency)"),
		early:           fs.Duration("early-interval", d.EarlyInterval, "publish a changed open window at most this often (0: finals only)"),
		correction:      fs.Duration("correction-interval", d.CorrectionInterval, "publish at most one correction of a final window per this much wall time; the last is always published (0: every one at once)"),
		retMinute:       fs.Duration("retention-minute", r[window.Minute], "keep minute windows this long after their end, in event time (0: forever)"),
		retHour:         fs.Duration("retention-hour", r[window.Hour], "keep hour windows this long after their end (0: forever)"),
		retDay:          fs.Duration("retention-day", 0, "keep day windows this long after their end (0: forever)"),
		retWeek:         fs.Duration("retention-week", 0, "keep week windows this long after their end (0: forever)"),
		retMonth:        fs.Duration("retention-month", 0, "keep month windows this long after their end (0: forever)"),
		retYear:         fs.Duration("retention-year", 0, "keep year windows this long after their end (0: forever)"),
		http:            fs.String("http", "", "serve /metrics (Prometheus), /healthz and /readyz on this address, e.g. 127.0.0.1:9464 (empty: off)"),
		httpPage:        fs.Bool("http-page", true, "with --http and stage 2 here, also serve the page and the query API (/, /api/v1/windows, /api/v1/uniques, /api/v1/progress) from a view of the table kept under --state-dir"),
		httpf:           addHTTPFlags(fs),
	}
}

func (f *runFlags) config() (processor.Config, error) {
	cfg := processor.DefaultConfig()
	ec, err := f.counting.engineConfig()
	if err != nil {
		return cfg, err
	}
	if cfg.Kafka, err = f.kafka.config(); err != nil {
		return cfg, err
	}
	cfg.Kafka.StreamRetention = *f.streamRetention
	cfg.Engine = ec
	cfg.Names = processor.NamesFor(*f.app)
	cfg.Input, cfg.Output, cfg.DeadLetter = goka.Stream(*f.input), goka.Stream(*f.output), goka.Stream(*f.dlq)
	if cfg.Output == "" {
		cfg.Output = goka.Stream(*f.app + "-uniques")
	}
	if cfg.DeadLetter == "" {
		cfg.DeadLetter = goka.Stream(*f.app + "-dlq")
	}
	cfg.SharedOutput = *f.sharedOutput
	cfg.Stage = processor.Stage(*f.stage)
	cfg.Partitions, cfg.MaxPending = *f.partitions, *f.maxPending
	cfg.StateDir = *f.stateDir
	cfg.IdleTimeout, cfg.FlushInterval, cfg.EarlyInterval = *f.idle, *f.flush, *f.early
	cfg.CorrectionInterval = *f.correction
	cfg.Retention = map[window.Granularity]time.Duration{
		window.Minute: *f.retMinute, window.Hour: *f.retHour, window.Day: *f.retDay,
		window.Week: *f.retWeek, window.Month: *f.retMonth, window.Year: *f.retYear,
	}
	return cfg, cfg.Validate()
}

// parseRun parses the flags `run` and `replay` share into a processor config.
func parseRun(name, usage string, args []string, stdout, stderr io.Writer, extra func(*flagSet)) (processor.Config, *runFlags, error) {
	fs := newFlagSet(name, usage, stdout)
	rf := addRunFlags(fs, name == "replay")
	if extra != nil {
		extra(fs)
	}
	if err := fs.parse(args); err != nil {
		return processor.Config{}, nil, err
	}
	log, err := rf.kafka.setup(stderr)
	if err != nil {
		return processor.Config{}, nil, err
	}
	cfg, err := rf.config()
	if err != nil {
		return processor.Config{}, nil, err
	}
	cfg.Logger = log
	cfg.Options = append(cfg.Options, goka.WithLogger(gokaLogger(log)))
	log.Info("kuniq "+name, "app", cfg.Names.App, "input", cfg.Input, "output", cfg.Output, "dead_letters", cfg.DeadLetter,
		"stage", cfg.Stage, "granularities", *rf.counting.granularity, "precision", cfg.Engine.Precision, "state_dir", cfg.StateDir,
		"kafka", cfg.Kafka.String())
	return cfg, rf, nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, rf, err := parseRun("run", "run [flags]  (a processor instance; run several side by side, each with its own --state-dir)", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	return rf.kafka.explain(runProcessor(ctx, cfg, rf, cfg.Logger, processor.Run))
}
