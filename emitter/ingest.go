package emitter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

// ErrNoTopic is returned, wrapped, when the topic to ingest into does not exist. Ingest never
// creates it (the broker's auto-creation would give it one partition): create it with
// kafka.Config.EnsureTopics first.
var ErrNoTopic = errors.New("emitter: topic does not exist")

// Config says where Ingest writes and how.
type Config struct {
	Kafka kafka.Config
	// Topic is the input topic; it must exist.
	Topic string
	// Keying picks the record key, and so the partition, of each line.
	Keying Keying
	// FlushBytes is the batch size the producer aims for per partition before it sends; larger
	// batches compress better and cost fewer requests.
	FlushBytes int
	// FlushFrequency bounds how long a record waits for its batch to fill.
	FlushFrequency time.Duration
	// MaxInFlightBytes bounds the value bytes sent but not yet acknowledged. sarama buffers
	// without limit, so without it a fast reader would hold a large part of the input in
	// memory (and progress would report reading, not ingesting).
	MaxInFlightBytes int64
	// MaxLineBytes is the longest line accepted (ErrLineTooLong beyond); it must fit in a
	// record, so it stays below the producer's MaxMessageBytes.
	MaxLineBytes int
	// Progress, if not nil, is called every ProgressEvery from one goroutine, and once more with
	// Done set when Run ends.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// TotalBytes, if known, is the input size in bytes, for the ETA in Progress.
	TotalBytes int64
}

// DefaultConfig returns the settings used by `kuniq ingest`: topic "frames", uid keys, 1 MiB
// batches flushed at least every 50 ms.
func DefaultConfig() Config {
	return Config{
		Kafka:            kafka.DefaultConfig(),
		Topic:            "frames",
		Keying:           KeyUID,
		FlushBytes:       1 << 20,
		FlushFrequency:   50 * time.Millisecond,
		MaxLineBytes:     4 << 20,
		MaxInFlightBytes: 32 << 20,
		ProgressEvery:    time.Second,
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	errs := []error{c.Kafka.Validate()}
	if c.Topic == "" {
		errs = append(errs, errors.New("no topic"))
	}
	if c.Keying > KeyHash {
		errs = append(errs, fmt.Errorf("unknown %v", c.Keying))
	}
	if c.FlushBytes <= 0 {
		errs = append(errs, fmt.Errorf("flush bytes %d <= 0", c.FlushBytes))
	}
	if c.FlushFrequency <= 0 {
		errs = append(errs, fmt.Errorf("flush frequency %v <= 0", c.FlushFrequency))
	}
	// Leave room for the record's key and headers inside the producer's request limit.
	if limit := c.Kafka.Sarama().Producer.MaxMessageBytes - 64<<10; c.MaxLineBytes <= 0 || c.MaxLineBytes > limit {
		errs = append(errs, fmt.Errorf("max line bytes %d outside 1..%d", c.MaxLineBytes, limit))
	}
	if c.MaxInFlightBytes < int64(c.MaxLineBytes) {
		errs = append(errs, fmt.Errorf("max in-flight bytes %d < max line bytes %d", c.MaxInFlightBytes, c.MaxLineBytes))
	}
	if c.Progress != nil && c.ProgressEvery <= 0 {
		errs = append(errs, fmt.Errorf("progress interval %v <= 0", c.ProgressEvery))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("emitter config: %w", err)
	}
	return nil
}

// Stats is what an ingest did.
type Stats struct {
	Frames  int64 // records acknowledged
	Bytes   int64 // value bytes of those records
	Read    int64 // input bytes consumed, newlines and blank lines included
	Blank   int64 // blank lines skipped
	Failed  int64 // records the producer gave up on (each is also in Run's error)
	Elapsed time.Duration
	// PerPartition counts acknowledged records by partition.
	PerPartition map[int32]int64
}

// Ingest produces lines into the input topic. It holds no connection between runs.
type Ingest struct {
	cfg Config
}

// NewIngest checks cfg and returns an Ingest. It starts nothing and connects to nothing.
func NewIngest(cfg Config) (*Ingest, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Ingest{cfg: cfg}, nil
}

// saramaConfig is the producer configuration: kuniq's (lz4, protocol version, no topic
// auto-creation, so a missing topic is an error and not a one-partition surprise) plus what
// ingest needs: acks returned (Run counts them), FNV-1a hash partitioning (what Goka's emitters
// and processors use, so a frame lands where a Goka emitter would put it), big batches, and
// order kept across retries (one request in flight; see below).
func (in *Ingest) saramaConfig() *sarama.Config {
	sc := in.cfg.Kafka.Sarama()
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	sc.Producer.Flush.Bytes = in.cfg.FlushBytes
	sc.Producer.Flush.Frequency = in.cfg.FlushFrequency
	// Every broker in the ISR must have a record before it counts as ingested: history is
	// written once, and the input topic is the pipeline's only copy of it.
	sc.Producer.RequiredAcks = sarama.WaitForAll
	// Order within a partition is event-time order for kuniq's per-partition clocks: a batch
	// retried after a transient error (a fresh topic's "not the leader", seen in CI) must not
	// land behind the next one, or a day of history turns into late frames. One request in
	// flight per broker keeps sarama's retries in order. (sarama's idempotent producer would
	// also drop a retry's duplicates, but failed here with "out of order sequence number"
	// after the same transient errors, so a retried batch may be written twice: uniques do not
	// mind, frame sums may count it twice.)
	sc.Net.MaxOpenRequests = 1
	if sc.Producer.Retry.Max < 5 {
		sc.Producer.Retry.Max = 5
	}
	return sc
}

// Run produces every non-blank line of r as one record and returns once all of them are
// acknowledged. It stops early on the first producer error, a read error, a line longer than
// MaxLineBytes, or when ctx ends; records already sent are still awaited, and the error says
// why it stopped. Stats count what was acknowledged either way.
func (in *Ingest) Run(ctx context.Context, r io.Reader) (Stats, error) {
	start := time.Now()
	client, parts, err := in.connect()
	if err != nil {
		return Stats{}, err
	}
	defer client.Close()
	producer, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		return Stats{}, fmt.Errorf("ingest: new producer: %w", err)
	}
	acks := newAcks(in.cfg.Topic, len(parts))
	acks.drain(producer)
	stopProgress := in.startProgress(acks, start)

	fl := flow{stop: acks.stop, freed: acks.freed, inFlight: &acks.inFlight, max: in.cfg.MaxInFlightBytes}
	blank, sendErr := in.send(ctx, r, producer, fl, &acks.read)
	// AsyncClose flushes what is buffered and closes Successes and Errors once every record
	// sent has its answer, so draining both is waiting for the last ack.
	producer.AsyncClose()
	acks.wait()
	stopProgress()

	st := Stats{Frames: acks.acked.Load(), Bytes: acks.ackedBytes.Load(), Read: acks.read.Load(), Blank: blank,
		Failed: acks.failed.Load(), Elapsed: time.Since(start), PerPartition: acks.perPartition}
	if in.cfg.Progress != nil {
		p := acks.progress(in.cfg.TotalBytes, start, true)
		p.Elapsed = st.Elapsed
		in.cfg.Progress(p)
	}
	return st, errors.Join(acks.err(), sendErr)
}

// connect opens a client with the producer configuration and checks that the topic exists
// and can be written to; it returns the client and the topic's partitions.
func (in *Ingest) connect() (sarama.Client, []int32, error) {
	client, err := sarama.NewClient(in.cfg.Kafka.Brokers, in.saramaConfig())
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: connect to %v: %w", in.cfg.Kafka.Brokers, err)
	}
	fail := func(err error) (sarama.Client, []int32, error) {
		client.Close()
		return nil, nil, err
	}
	// Asking for a missing topic's partitions retries for seconds; the topic list answers at once.
	topics, err := client.Topics()
	if err != nil {
		return fail(fmt.Errorf("ingest: list topics: %w", err))
	}
	if !slices.Contains(topics, in.cfg.Topic) {
		return fail(fmt.Errorf("ingest into %q: %w", in.cfg.Topic, ErrNoTopic))
	}
	// A topic created a moment ago may not have its leaders yet: the first batch would fail
	// with "not the leader" and its retry land behind later batches (seen on a fresh topic in
	// CI: a replayed history's first segment arrived after the rest and counted as late).
	if err := in.cfg.Kafka.WaitWritable(in.cfg.Topic); err != nil {
		return fail(fmt.Errorf("ingest: %w", err))
	}
	parts, err := client.Partitions(in.cfg.Topic)
	if err != nil {
		return fail(fmt.Errorf("ingest: partitions of %q: %w", in.cfg.Topic, err))
	}
	return client, parts, nil
}

// acks counts what the producer acknowledged and failed, and what is still in flight.
type acks struct {
	topic                   string
	acked, ackedBytes, read atomic.Int64
	failed, inFlight        atomic.Int64
	freed                   chan struct{} // poked when inFlight drops
	stop                    chan struct{} // closed on the first producer error
	errOnce                 sync.Once
	firstErr                error
	perPartition            map[int32]int64 // written by drain's goroutine only, read after wait
	drained                 sync.WaitGroup
}

func newAcks(topic string, partitions int) *acks {
	return &acks{topic: topic, freed: make(chan struct{}, 1), stop: make(chan struct{}),
		perPartition: make(map[int32]int64, partitions)}
}

// drain reads the producer's successes and errors on two goroutines until they close.
func (a *acks) drain(producer sarama.AsyncProducer) {
	a.drained.Add(2)
	go func() {
		defer a.drained.Done()
		for m := range producer.Successes() {
			n := int64(m.Value.Length())
			a.acked.Add(1)
			a.ackedBytes.Add(n)
			a.perPartition[m.Partition]++
			a.inFlight.Add(-n)
			poke(a.freed)
		}
	}()
	go func() {
		defer a.drained.Done()
		for pe := range producer.Errors() {
			a.failed.Add(1)
			a.inFlight.Add(-int64(pe.Msg.Value.Length()))
			poke(a.freed)
			a.errOnce.Do(func() {
				a.firstErr = fmt.Errorf("ingest: produce to %q: %w", a.topic, pe.Err)
				close(a.stop)
			})
		}
	}()
}

// wait returns once the producer has closed both channels.
func (a *acks) wait() { a.drained.Wait() }

// err is the first producer error (after wait), with the count of the others.
func (a *acks) err() error {
	if n := a.failed.Load(); n > 1 {
		return fmt.Errorf("%w (and %d more records failed)", a.firstErr, n-1)
	}
	return a.firstErr
}

func (a *acks) progress(total int64, start time.Time, done bool) Progress {
	return Progress{Frames: a.acked.Load(), Bytes: a.ackedBytes.Load(), Read: a.read.Load(),
		Total: total, Elapsed: time.Since(start), Done: done}
}

// startProgress calls Config.Progress every ProgressEvery until the returned stop is called.
func (in *Ingest) startProgress(a *acks, start time.Time) (stop func()) {
	if in.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(in.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				in.cfg.Progress(a.progress(in.cfg.TotalBytes, start, false))
			case <-done:
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// send reads lines and hands them to the producer until the input ends, the producer fails
// (stop closes) or ctx ends. It returns the number of blank lines skipped.
func (in *Ingest) send(ctx context.Context, r io.Reader, p sarama.AsyncProducer, fl flow, read *atomic.Int64) (blank int64, err error) {
	lr := newLineReader(r, in.cfg.MaxLineBytes)
	k := keyer{mode: in.cfg.Keying}
	values := slab{size: 1 << 20}
	keys := slab{size: 64 << 10}
	var key []byte
	var msgs []sarama.ProducerMessage
	for {
		line, err := lr.next()
		read.Store(lr.read)
		if errors.Is(err, io.EOF) {
			return lr.blank, nil
		}
		if err != nil {
			return lr.blank, fmt.Errorf("ingest: %w", err)
		}
		key = k.appendKey(key[:0], line)
		// Messages come from blocks too: the producer keeps a pointer to each until its ack.
		if len(msgs) == 0 {
			msgs = make([]sarama.ProducerMessage, 512)
		}
		m := &msgs[0]
		msgs = msgs[1:]
		m.Topic = in.cfg.Topic
		m.Key = sarama.ByteEncoder(keys.copy(key))
		m.Value = sarama.ByteEncoder(values.copy(line))
		for fl.inFlight.Load() >= fl.max {
			select {
			case <-fl.freed:
			case <-fl.stop:
				return lr.blank, nil
			case <-ctx.Done():
				return lr.blank, fmt.Errorf("ingest stopped before line %d: %w", lr.line, context.Cause(ctx))
			}
		}
		// select picks at random among ready cases: check cancellation first, so a cancelled
		// ingest sends nothing more (the test saw two frames go out after the cancel).
		if ctx.Err() != nil {
			return lr.blank, fmt.Errorf("ingest stopped before line %d: %w", lr.line, context.Cause(ctx))
		}
		fl.inFlight.Add(int64(len(line)))
		select {
		case p.Input() <- m:
		case <-fl.stop:
			return lr.blank, nil
		case <-ctx.Done():
			return lr.blank, fmt.Errorf("ingest stopped before line %d: %w", lr.line, context.Cause(ctx))
		}
	}
}

// flow is the sender's view of the ack side: stop closes on the first producer error, and
// freed is poked whenever inFlight drops, so the sender can wait below max.
type flow struct {
	stop     <-chan struct{}
	freed    <-chan struct{}
	inFlight *atomic.Int64
	max      int64
}

// poke signals c without blocking; one pending signal is enough to wake the sender.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
