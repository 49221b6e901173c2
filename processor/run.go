package processor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"golang.org/x/sync/errgroup"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/kafka"
)

// ErrPartitions is returned, wrapped, when the input topic and the application's internal
// topics disagree on the partition count.
var ErrPartitions = errors.New("processor: partition counts disagree")

// Topology is the partition layout Run found or created.
type Topology struct {
	// Input is the input topic's partition count. The partials topic, the loop topic and the
	// table have as many (Prepare creates them so or refuses to start), so it is also the
	// number of stage-2 partitions.
	Input int
}

// Prepare creates the missing topics (input, output and dead letters with cfg.Partitions,
// partials with the input's count) and refuses an input whose partition count disagrees with
// the application's partials topic or table: the windows of a table are spread over its
// partitions, so changing the count needs a new --app.
func Prepare(cfg Config) (Topology, error) {
	kc := cfg.Kafka
	for _, t := range []kafka.Topic{
		{Name: string(cfg.Input), Partitions: cfg.Partitions},
		{Name: string(cfg.Output), Partitions: cfg.Partitions, Compact: true},
		{Name: string(cfg.DeadLetter), Partitions: cfg.Partitions},
	} {
		// An existing user topic may have any partition count; only the internal topics
		// must match the input (checked below).
		if err := kc.EnsureTopics(t); err != nil && !errors.Is(err, kafka.ErrPartitionMismatch) {
			return Topology{}, err
		}
	}
	in, err := kc.PartitionCount(string(cfg.Input))
	if err != nil {
		return Topology{}, err
	}
	for _, internal := range []string{string(cfg.Names.Partials), string(cfg.Names.Table())} {
		n, err := kc.PartitionCount(internal)
		if err != nil {
			return Topology{}, err
		}
		if n != 0 && n != in {
			return Topology{}, fmt.Errorf("%w: input topic %q has %d partitions, app %q's topic %q has %d; "+
				"use a new --app to count this input, or recreate the input with %d partitions",
				ErrPartitions, cfg.Input, in, cfg.Names.App, internal, n, n)
		}
	}
	// The internal topics, Goka's loop and table included: instances starting together would
	// race to create them inside goka.NewProcessor, and the loser would fail.
	if err := kc.EnsureTopics(
		kafka.Topic{Name: string(cfg.Names.Partials), Partitions: in, Retention: kc.StreamRetention},
		kafka.Topic{Name: cfg.Names.Loop(), Partitions: in, Retention: kc.StreamRetention},
		kafka.Topic{Name: string(cfg.Names.Table()), Partitions: in, Compact: true},
	); err != nil {
		return Topology{}, err
	}
	return Topology{Input: in}, nil
}

// Run runs the configured stages until ctx is done or one fails. Shutdown is graceful: stage 1
// flushes what it holds and commits it before Run returns.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	top, err := Prepare(cfg)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	if cfg.Stage == StageBoth || cfg.Stage == StageWindows {
		w := NewWindows(cfg, top.Input)
		opts := append(cfg.Kafka.ProcessorOptions(),
			goka.WithStorageBuilder(storage.DefaultBuilder(filepath.Join(cfg.StateDir, cfg.Names.App))))
		proc, err := goka.NewProcessor(cfg.Kafka.Brokers, w.Graph(), append(opts, cfg.Options...)...)
		if err != nil {
			return fmt.Errorf("stage 2: %w", err)
		}
		g.Go(func() error { return wrap("stage 2 (window table)", proc.Run(gctx)) })
	}
	if cfg.Stage == StageBoth || cfg.Stage == StagePreAgg {
		partials, err := goka.NewEmitter(cfg.Kafka.Brokers, cfg.Names.Partials, PartialsCodec{}, cfg.Kafka.EmitterOptions()...)
		if err != nil {
			return fmt.Errorf("stage 1 emitter: %w", err)
		}
		dlq, err := goka.NewEmitter(cfg.Kafka.Brokers, cfg.DeadLetter, codec.DeadLetterCodec{}, cfg.Kafka.EmitterOptions()...)
		if err != nil {
			return errors.Join(fmt.Errorf("stage 1 emitter: %w", err), partials.Finish())
		}
		pa := NewPreAgg(cfg, top.Input, partials, dlq)
		positions, err := cfg.Kafka.NewPositions()
		if err != nil {
			return errors.Join(fmt.Errorf("stage 1 positions: %w", err), partials.Finish(), dlq.Finish())
		}
		defer positions.Close()
		pa.SetPositions(func(parts []int32) (map[int32]int64, map[int32]int64, error) {
			return positions.Get(string(cfg.Names.PreAgg), string(cfg.Input), parts)
		})
		opts := append(cfg.Kafka.ProcessorOptions(), pa.Options()...)
		proc, err := goka.NewProcessor(cfg.Kafka.Brokers, pa.Graph(), append(opts, cfg.Options...)...)
		if err != nil {
			return errors.Join(fmt.Errorf("stage 1: %w", err), partials.Finish(), dlq.Finish())
		}
		g.Go(func() error {
			// The flusher outlives the processor: Goka's shutdown waits for the held commits
			// that only the flusher releases.
			flushCtx, stopFlush := context.WithCancel(context.Background())
			flushed := make(chan error, 1)
			go func() { flushed <- pa.Run(flushCtx) }()
			perr := proc.Run(gctx)
			stopFlush()
			ferr := <-flushed
			return wrap("stage 1 (pre-aggregation)", errors.Join(perr, ferr, partials.Finish(), dlq.Finish()))
		})
	}
	err = g.Wait()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func wrap(what string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
