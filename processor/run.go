package processor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/kafka"
)

// ErrPartitions is returned, wrapped, when the input topic and the application's internal
// topics disagree on the partition count.
var ErrPartitions = errors.New("processor: partition counts disagree")

// ErrForeignTopic is returned, wrapped, when the output or dead-letter topic holds records of
// another application: two apps writing one compacted output would replace each other's
// results (Config.SharedOutput allows it on purpose).
var ErrForeignTopic = errors.New("processor: topic holds another application's records")

// ErrStateDir is returned, wrapped, when the state directory cannot hold stage 2's tables.
var ErrStateDir = errors.New("processor: state directory unusable")

// Topology is the partition layout Run found or created: the input's partition count, which
// the partials topic, the table and the loop topic share.
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
func Prepare(ctx context.Context, cfg Config) (Topology, error) {
	kc := cfg.Kafka
	for _, t := range []kafka.Topic{
		{Name: string(cfg.Input), Partitions: cfg.Partitions},
		{Name: string(cfg.Output), Partitions: cfg.Partitions, Compact: true},
		{Name: string(cfg.DeadLetter), Partitions: cfg.Partitions},
	} {
		// An existing user topic may have any partition count; only the internal topics
		// must match the input (checked below).
		if err := kc.EnsureTopicsContext(ctx, t); err != nil && !errors.Is(err, kafka.ErrPartitionMismatch) {
			return Topology{}, err
		}
	}
	in, err := kc.PartitionCountContext(ctx, string(cfg.Input))
	if err != nil {
		return Topology{}, err
	}
	for _, internal := range []string{string(cfg.Names.Partials), string(cfg.Names.Table())} {
		n, err := kc.PartitionCountContext(ctx, internal)
		if err != nil {
			return Topology{}, err
		}
		if n != 0 && n != in {
			return Topology{}, fmt.Errorf("%w: input topic %q has %d partitions, app %q's topic %q has %d; "+
				"use a new --app to count this input, or recreate the input with %d partitions",
				ErrPartitions, cfg.Input, in, cfg.Names.App, internal, n, n)
		}
	}
	if !cfg.SharedOutput {
		for _, t := range []goka.Stream{cfg.Output, cfg.DeadLetter} {
			if err := checkOwner(ctx, cfg, string(t)); err != nil {
				return Topology{}, err
			}
		}
	}
	// The internal topics, Goka's loop and table included: instances starting together would
	// race to create them inside goka.NewProcessor, and the loser would fail.
	if err := kc.EnsureTopicsContext(ctx,
		kafka.Topic{Name: string(cfg.Names.Partials), Partitions: in, Retention: kc.StreamRetention},
		kafka.Topic{Name: cfg.Names.Loop(), Partitions: in, Retention: kc.StreamRetention},
		kafka.Topic{Name: string(cfg.Names.Table()), Partitions: in, Compact: true},
	); err != nil {
		return Topology{}, err
	}
	return Topology{Input: in}, nil
}

// ownerSample is how many of the newest records of each partition checkOwner reads.
const ownerSample = 100

// checkOwner refuses a topic whose newest records were written by another application (by
// their kuniq.app header). Records without the header (an older kuniq, another program) are
// allowed, with a warning.
func checkOwner(ctx context.Context, cfg Config, topic string) error {
	var foreign string
	anonymous := 0
	err := cfg.Kafka.Scan(ctx, topic, kafka.ScanFrom{Last: ownerSample}, func(r kafka.Record) error {
		switch app := r.Header(codec.HeaderApp); app {
		case cfg.Names.App:
		case "":
			anonymous++
		default:
			foreign = app
			return kafka.ErrStopScan
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the owner of %s: %w", topic, err)
	}
	if foreign != "" {
		return fmt.Errorf("%w: %s holds records of app %q, this is app %q: give this app topics of its own (--output, --dlq), or pass --shared-output to write there anyway",
			ErrForeignTopic, topic, foreign, cfg.Names.App)
	}
	if anonymous > 0 {
		cfg.logger().Warn("topic holds records without an application id (written by an older kuniq or another program)",
			"topic", topic, "records", anonymous, "sampled", fmt.Sprintf("the newest %d of each partition", ownerSample))
	}
	return nil
}

// CheckStateDir makes sure stage 2 can keep its tables in dir before any group is joined: a
// failure found only while recovering a partition would cost the whole group a rebalance.
func CheckStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrStateDir, err)
	}
	f, err := os.CreateTemp(dir, ".kuniq-write-check-*")
	if err != nil {
		return fmt.Errorf("%w: %s is not writable: %w", ErrStateDir, dir, err)
	}
	_, werr := f.Write(make([]byte, 64<<10))
	serr := f.Sync()
	cerr := f.Close()
	os.Remove(f.Name())
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("%w: cannot write to %s: %w", ErrStateDir, dir, err)
	}
	return nil
}

// Run runs the configured stages until ctx is done or one fails for good (New(cfg).Run).
func Run(ctx context.Context, cfg Config) error { return New(cfg).Run(ctx) }

// runPreAgg runs stage 1 on a sarama consumer group of its own.
func (p *Pipeline) runPreAgg(ctx context.Context, top Topology) error {
	cfg := p.cfg
	kc := cfg.Kafka
	sc := kc.GroupSarama()
	// Stage 1 is a plain consumer group: the sticky strategy moves as few partitions as
	// possible when instances come and go (Goka's copartitioning is for stage 2's table).
	sc.Consumer.Group.Rebalance.Strategy = nil
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategySticky()}
	// A partition's messages wait here while the previous ones are decoded: with room for a
	// whole fetch, sarama sends the next fetch request while the decoders work on this one.
	sc.ChannelBufferSize = 4 * batchSize * max(1, cfg.Decoders, runtime.GOMAXPROCS(0))
	client, err := sarama.NewClient(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("connect to %v: %w", kc.Brokers, err)
	}
	defer client.Close()
	group, err := sarama.NewConsumerGroupFromClient(string(cfg.Names.PreAgg), client)
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", cfg.Names.PreAgg, err)
	}
	eopts := append(kc.BatchEmitterOptions(), goka.WithEmitterDefaultHeaders(cfg.Names.Headers()))
	partials, err := goka.NewEmitter(kc.Brokers, cfg.Names.Partials, PartialsCodec{}, eopts...)
	if err != nil {
		return errors.Join(fmt.Errorf("partials emitter: %w", err), group.Close())
	}
	dlq, err := goka.NewEmitter(kc.Brokers, cfg.DeadLetter, codec.Bytes{}, eopts...)
	if err != nil {
		return errors.Join(fmt.Errorf("dead-letter emitter: %w", err), partials.Finish(), group.Close())
	}
	input := string(cfg.Input)
	highWater := func(part int32) (int64, error) { return client.GetOffset(input, part, sarama.OffsetNewest) }
	pa := NewPreAgg(cfg, top.Input, PreAggIO{
		Group:       group,
		Partials:    partials,
		DeadLetters: dlq,
		HighWater:   highWater,
	})
	p.stage1.Store(&stage1Handle{pa: pa, highWater: highWater})
	defer p.stage1.Store(nil)
	cfg.Health.setPreAgg(pa)
	return pa.Run(ctx)
}

// runWindows runs stage 2, a Goka processor, and starts it again whenever it stops for a
// reason other than ctx or a broken invariant of its own: a broker outage ends Goka's consumer
// group session and its producer's writes, and Goka gives up the processor then. Its table
// survives in the state directory and the changelog, so a new processor recovers it quickly.
func (p *Pipeline) runWindows(ctx context.Context, top Topology) error {
	cfg := p.cfg
	log := cfg.logger().With("stage", "windows")
	down := retry.NewOutage("stage 2: window table processor", log)
	for attempt := 1; ; attempt++ {
		w := NewWindows(cfg, top.Input)
		opts := append(cfg.Kafka.ProcessorOptions(),
			goka.WithStorageBuilder(tableStorage(filepath.Join(cfg.StateDir, cfg.Names.App), w.setFatal)),
			goka.WithProducerDefaultHeaders(cfg.Names.Headers()))
		opts = append(opts, cfg.Options...)
		proc, err := goka.NewProcessor(cfg.Kafka.Brokers, w.Graph(), opts...)
		if err == nil {
			cfg.Health.setWindows(down, proc)
			running := watchRunning(ctx, proc, down)
			p.stage2.Store(proc)
			err = proc.Run(ctx)
			p.stage2.Store(nil)
			running()
		}
		if ctx.Err() != nil {
			return nil
		}
		if ferr := w.Fatal(); ferr != nil {
			return ferr
		}
		if err == nil {
			err = errors.New("processor stopped")
		}
		down.Fail(err)
		retry.DefaultBackoff.Sleep(ctx, min(attempt, 6))
	}
}

// watchRunning reports the processor healthy once it runs (every partition recovered); the
// returned func stops watching.
func watchRunning(ctx context.Context, proc *goka.Processor, down *retry.Outage) func() {
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if proc.WaitForReadyContext(wctx) == nil && wctx.Err() == nil {
			down.OK()
		}
	}()
	return func() { stop(); wg.Wait() }
}

func wrap(what string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
