package emitter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/kafka"
)

// ErrNoTopic is returned, wrapped, when the topic to ingest into does not exist. Ingest never
// creates it (the broker's auto-creation would give it one partition): create it with
// kafka.Config.EnsureTopics first.
var ErrNoTopic = errors.New("emitter: topic does not exist")

// DefaultRetryTimeout is Config.RetryTimeout's default: 5 minutes. It outlasts a broker restart
// with log recovery and a rolling restart of a cluster (leaders move; each partition is out for
// seconds), so a routine outage never stops a long historical load; and a job whose cluster is
// gone for good still ends within minutes with a resume position, instead of hanging until
// someone looks. 0 retries forever, for ingests run under a supervisor that watches the log.
const DefaultRetryTimeout = 5 * time.Minute

// Config says where Ingest writes and how.
type Config struct {
	Kafka kafka.Config
	// Topic is the input topic; it must exist.
	Topic string
	// Keying picks the record key, and so the partition, of each line.
	Keying Keying
	// Format is what the records hold: codec.FormatJSON (the zero value), each line as it is,
	// or codec.FormatProtobuf, each line converted to a message Frame in protobuf's plain wire
	// format (codec/frame.proto), its ts in Frame.TSUnit. A line that does not decode as a
	// frame has no protobuf form: it is produced as it is, so that the processor dead-letters
	// it with its original bytes, as it does a malformed JSON frame, and counted
	// (Stats.NotFrames).
	Format codec.Format
	// Frame says where the lines keep their uid and ts, and the ts's unit: for the key
	// (KeyUID) and when they are converted to protobuf. Its Format must be JSON: it describes
	// the lines.
	Frame codec.FrameConfig
	// Compression is the codec of the record batches (lz4 by default: fast, and a JSON frame
	// shrinks to a fifth; zstd shrinks it further for more CPU, see docs/performance.md §7).
	// zstd needs Kafka 2.1 or later.
	Compression sarama.CompressionCodec
	// FlushBytes is the batch size aimed for per partition before it is sent; larger batches
	// compress better and cost fewer requests.
	FlushBytes int
	// FlushFrequency bounds how long a record waits for its batch to fill.
	FlushFrequency time.Duration
	// MaxInFlightBytes bounds the value bytes read but not yet acknowledged, so a fast reader
	// does not hold a large part of the input in memory (and progress reports ingesting, not
	// reading).
	MaxInFlightBytes int64
	// MaxLineBytes is the longest line sent; longer lines are skipped, logged and counted
	// (Stats.TooLong). It must fit in a record, so it stays below the producer's limit.
	MaxLineBytes int
	// RetryTimeout is how long a partition may keep failing (the broker down, no leader, no
	// quorum) before Run gives up with a *ResumeError wrapping ErrGaveUp; 0 retries forever.
	RetryTimeout time.Duration
	// Backoff spaces the retries of a failed batch and of a failed metadata lookup.
	Backoff retry.Backoff
	// FromLine, if > 0, resumes an ingest that stopped: lines before it (numbered across all
	// sources, 1-based) are skipped, and so is every later line already in the topic, as the
	// headers of the partitions' last records tell (see RunSources). 1 re-reads the whole input
	// and writes only what the topic lacks.
	FromLine int64
	// Producer is the value of HeaderProducer on every record: who wrote it.
	Producer string
	// Log receives warnings (an outage, its recovery, skipped lines); nil: slog.Default().
	Log *slog.Logger
	// Progress, if not nil, is called every ProgressEvery from one goroutine, and once more with
	// Done set when Run ends.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// TotalBytes, if known, is the input size in bytes, for the ETA in Progress.
	TotalBytes int64
}

// DefaultConfig returns the settings used by `kuniq ingest`: topic "frames", uid keys, 1 MiB
// batches flushed at least every 50 ms, lines up to 4 MiB, retries for up to 5 minutes.
func DefaultConfig() Config {
	return Config{
		Kafka:            kafka.DefaultConfig(),
		Topic:            "frames",
		Keying:           KeyUID,
		Compression:      sarama.CompressionLZ4,
		FlushBytes:       1 << 20,
		FlushFrequency:   50 * time.Millisecond,
		MaxLineBytes:     4 << 20,
		MaxInFlightBytes: 32 << 20,
		RetryTimeout:     DefaultRetryTimeout,
		// Retries at most 2 s apart: a broker back from an outage is written to within about
		// 2 s, for the cost of one metadata request per 2 s while it is down.
		Backoff:       retry.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second},
		Producer:      "kuniq ingest",
		ProgressEvery: time.Second,
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
	if c.Format > codec.FormatProtobuf {
		errs = append(errs, fmt.Errorf("unknown %v", c.Format))
	}
	if c.Frame.Format != codec.FormatJSON {
		errs = append(errs, fmt.Errorf("frame config of the lines: format %v, want json", c.Frame.Format))
	} else if err := c.Frame.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Compression < sarama.CompressionNone || c.Compression > sarama.CompressionZSTD {
		errs = append(errs, fmt.Errorf("unknown compression codec %d", c.Compression))
	} else if c.Compression == sarama.CompressionZSTD && !c.Kafka.Version.IsAtLeast(sarama.V2_1_0_0) {
		errs = append(errs, fmt.Errorf("zstd compression needs Kafka 2.1 or later, the client speaks %v", c.Kafka.Version))
	}
	if c.FlushBytes <= 0 {
		errs = append(errs, fmt.Errorf("flush bytes %d <= 0", c.FlushBytes))
	}
	if c.FlushFrequency <= 0 {
		errs = append(errs, fmt.Errorf("flush frequency %v <= 0", c.FlushFrequency))
	}
	// Leave room for the record's key and headers inside the producer's request limit.
	if limit := MaxLineLimit(c.Kafka); c.MaxLineBytes <= 0 || c.MaxLineBytes > limit {
		errs = append(errs, fmt.Errorf("max line bytes %d outside 1..%d", c.MaxLineBytes, limit))
	}
	if c.MaxInFlightBytes < int64(c.MaxLineBytes) {
		errs = append(errs, fmt.Errorf("max in-flight bytes %d < max line bytes %d", c.MaxInFlightBytes, c.MaxLineBytes))
	}
	if c.RetryTimeout < 0 {
		errs = append(errs, fmt.Errorf("retry timeout %v < 0 (0: retry forever)", c.RetryTimeout))
	}
	if c.FromLine < 0 {
		errs = append(errs, fmt.Errorf("from line %d < 0", c.FromLine))
	}
	if c.Progress != nil && c.ProgressEvery <= 0 {
		errs = append(errs, fmt.Errorf("progress interval %v <= 0", c.ProgressEvery))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("emitter config: %w", err)
	}
	return nil
}

// MaxLineLimit is the largest Config.MaxLineBytes for the cluster settings kc: the producer's
// record limit less 64 KiB for the key and headers.
func MaxLineLimit(kc kafka.Config) int { return kc.Sarama().Producer.MaxMessageBytes - 64<<10 }

// Stats is what an ingest did.
type Stats struct {
	Frames  int64 // records acknowledged
	Bytes   int64 // value bytes of those records
	Read    int64 // input bytes consumed, newlines and blank lines included
	Blank   int64 // blank lines skipped
	TooLong int64 // lines longer than MaxLineBytes, skipped
	// NotFrames counts the lines that do not decode as a frame, produced as they are, when
	// converting to protobuf (Config.Format); the processor dead-letters them.
	NotFrames int64
	Before    int64 // lines before Config.FromLine, skipped
	Present   int64 // lines from Config.FromLine on that were in the topic already, skipped
	Failed    int64 // records read but not acknowledged when Run stopped early
	Retried   int64 // batches sent again after a failure
	Outages   int   // times records stopped being acknowledged for a while
	// Stalled is the time during which some partition could not be written.
	Stalled time.Duration
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

func (in *Ingest) log() *slog.Logger {
	if in.cfg.Log != nil {
		return in.cfg.Log
	}
	return slog.Default()
}

// saramaConfig is the client configuration: kuniq's (protocol version, timeouts, security, no
// topic auto-creation, so a missing topic is an error and not a one-partition surprise), with a
// metadata lookup that fails fast: Run retries it itself, with backoff and a log of the outage.
func (in *Ingest) saramaConfig() *sarama.Config {
	sc := in.cfg.Kafka.Sarama()
	sc.Metadata.Retry.Max = 1
	sc.Net.MaxOpenRequests = 1
	return sc
}

// Run produces every non-blank line of r as one record; see RunSources. r is named "-" in
// messages and headers.
func (in *Ingest) Run(ctx context.Context, r io.Reader) (Stats, error) {
	return in.RunSources(ctx, ReaderSource("-", r))
}

// RunSources produces every non-blank line of the sources, in order, as one record each, and
// returns once all of them are acknowledged.
//
// A broker fault is waited out: a batch that fails is sent again as it is after a backoff
// (Config.Backoff), each partition's batches strictly one after the other, so every partition
// holds its lines in input order, and the broker's idempotence drops a resent batch it had
// written, so no line is written twice. The outage is logged when it starts, at growing
// intervals while it lasts and when it ends (retry.Outage), and shows in Progress.
//
// Run stops early when a partition has failed for longer than Config.RetryTimeout (ErrGaveUp),
// the broker refuses a record for good (ErrRefused), reading fails, or ctx ends; the error is a
// *ResumeError naming the first line not acknowledged. Run again with Config.FromLine set to it
// and the same sources: lines before it are skipped, and so are later lines already written,
// found from the headers of each partition's last records (a partition holds a prefix of its
// lines, so its last line of these sources tells which of its lines it has). Every line then
// reaches the topic exactly once over the two runs. Stats count what was acknowledged either
// way. Lines longer than Config.MaxLineBytes are skipped and counted; blank lines are skipped.
func (in *Ingest) RunSources(ctx context.Context, srcs ...Source) (Stats, error) {
	start := time.Now()
	log := in.log()
	client, parts, err := in.connect(ctx)
	if err != nil {
		return Stats{}, err
	}
	defer client.Close()

	var have *written
	if in.cfg.FromLine > 0 {
		log.Info("resume: lines before from_line are skipped; reading each partition back to its last line of this input",
			"from_line", in.cfg.FromLine, "topic", in.cfg.Topic)
		k := in.keyer()
		if have, err = scanWritten(ctx, client, in.cfg.Topic, parts, srcs, k); err != nil {
			return Stats{}, fmt.Errorf("ingest: %w", err)
		}
		for _, p := range parts {
			if last := have.last[p]; last.src >= 0 {
				log.Info("resume: partition holds lines of this input", "topic", in.cfg.Topic, "partition", p,
					"last_source", srcs[last.src].Name, "last_line", last.line, "records_of_input_read", have.found[p])
			} else {
				log.Info("resume: partition holds no line of this input", "topic", in.cfg.Topic, "partition", p)
			}
		}
	}

	p := newProducer(in.cfg, client, parts, log)
	p.start()
	stopCancel := context.AfterFunc(ctx, p.cancel)
	defer stopCancel()
	var read atomic.Int64
	stopProgress := in.startProgress(p, &read, start)

	var st Stats
	next, readErr := in.read(srcs, p, have, len(parts), &st, &read)
	// Send what was read, also after a read error (the resume position is then the line that
	// could not be read); finish returns at once if the producer stopped.
	p.finish()
	p.mu.Lock()
	stop, aborted := p.stop, p.abort
	p.mu.Unlock()
	// Requests still in flight answer within the request timeout, and their answers make the
	// resume position as late as it can be; a signal must stop ingest within seconds.
	grace := in.cfg.Kafka.Timeout + time.Second
	if aborted {
		grace = 2 * time.Second
	}
	p.close(grace)
	stopProgress()

	st.Frames, st.Bytes, _, _ = p.snapshot()
	st.Read = read.Load()
	st.Failed = p.unacked()
	p.mu.Lock()
	st.Retried, st.Outages, st.Stalled, st.PerPartition = p.retried, p.outages, p.stalled, p.perPartition
	if !p.stallStart.IsZero() {
		st.Stalled += time.Since(p.stallStart)
	}
	p.mu.Unlock()
	st.Elapsed = time.Since(start)
	if in.cfg.Progress != nil {
		in.cfg.Progress(Progress{Frames: st.Frames, Bytes: st.Bytes, Read: st.Read, Total: in.cfg.TotalBytes,
			Elapsed: st.Elapsed, Done: true})
	}

	var cause error
	switch {
	case stop != nil:
		cause = stop
	case aborted:
		cause = fmt.Errorf("ingest stopped: %w", context.Cause(ctx))
	case readErr != nil:
		cause = readErr
	default:
		return st, nil
	}
	at := p.resume(next)
	pos := Position{Line: at.line, Input: at.input}
	if at.src < len(srcs) {
		pos.Source = srcs[at.src].Name
	}
	return st, &ResumeError{Resume: pos, Err: cause}
}

// connect opens a client and checks that the topic exists and can be written to; it returns
// the client and the topic's partitions. It gives up when ctx ends (a broker that accepts
// connections and never answers would otherwise hold it for the client's timeouts).
func (in *Ingest) connect(ctx context.Context) (sarama.Client, []int32, error) {
	type result struct {
		client sarama.Client
		parts  []int32
		err    error
	}
	done := make(chan result, 1)
	go func() {
		c, p, err := in.connectNow()
		done <- result{c, p, err}
	}()
	select {
	case r := <-done:
		return r.client, r.parts, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.client != nil {
				r.client.Close()
			}
		}()
		return nil, nil, fmt.Errorf("ingest: connect to %v: %w", in.cfg.Kafka.Brokers, context.Cause(ctx))
	}
}

func (in *Ingest) connectNow() (sarama.Client, []int32, error) {
	client, err := sarama.NewClient(in.cfg.Kafka.Brokers, in.saramaConfig())
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: connect to %v: %w: %w", in.cfg.Kafka.Brokers, kafka.ErrUnreachable, err)
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
	// with "not the leader" and wait out a backoff.
	if err := in.cfg.Kafka.WaitWritable(in.cfg.Topic); err != nil {
		return fail(fmt.Errorf("ingest: %w", err))
	}
	parts, err := client.Partitions(in.cfg.Topic)
	if err != nil {
		return fail(fmt.Errorf("ingest: partitions of %q: %w", in.cfg.Topic, err))
	}
	for i, p := range parts {
		if p != int32(i) {
			return fail(fmt.Errorf("ingest: partitions of %q are %v, want 0..%d", in.cfg.Topic, parts, len(parts)-1))
		}
	}
	return client, parts, nil
}

// startProgress calls Config.Progress every ProgressEvery until the returned stop is called.
func (in *Ingest) startProgress(p *producer, read *atomic.Int64, start time.Time) (stop func()) {
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
				frames, bytes, stalled, problem := p.snapshot()
				in.cfg.Progress(Progress{Frames: frames, Bytes: bytes, Read: read.Load(), Total: in.cfg.TotalBytes,
					Elapsed: time.Since(start), Stalled: stalled, Problem: problem, RetryTimeout: in.cfg.RetryTimeout})
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

// maxLogged is how many skipped lines are logged one by one; later ones are only counted.
const maxLogged = 10

// read reads the sources line by line and queues each line to send, until the input ends, the
// producer stops, or reading fails. It returns the line after the last one it handled.
func (in *Ingest) read(srcs []Source, p *producer, have *written, partitions int, st *Stats, read *atomic.Int64) (next lineRef, err error) {
	log := in.log()
	k := in.keyer()
	conv := in.converter()
	values := slab{size: 1 << 20}
	small := slab{size: 64 << 10}
	var recs recordBlocks
	producerHdr := []byte(in.cfg.Producer)
	hk := [3][]byte{[]byte(HeaderProducer), []byte(HeaderSource), []byte(HeaderLine)}
	var key, num []byte
	var base, readBase int64 // lines and bytes of the sources before this one
	from := in.cfg.FromLine
	for si, src := range srcs {
		rc, err := src.Open()
		if err != nil {
			return lineRef{si, 1, base + 1}, fmt.Errorf("ingest: open %s: %w", src.Name, err)
		}
		lr := newLineReader(rc, in.cfg.MaxLineBytes)
		srcHdr := []byte(src.id())
		stop := func(ref lineRef, err error) (lineRef, error) {
			st.Blank += lr.blank
			rc.Close()
			return ref, err
		}
		for {
			line, err := lr.next()
			read.Store(readBase + lr.read)
			if errors.Is(err, io.EOF) {
				break
			}
			ref := lineRef{src: si, line: lr.line, input: base + lr.line}
			switch {
			case errors.Is(err, ErrLineTooLong):
				if ref.input < from {
					st.Before++
					continue
				}
				st.TooLong++
				if st.TooLong <= maxLogged {
					log.Warn("skipped a line longer than --max-line-bytes", "source", src.Name, "error", err)
				}
				if st.TooLong == maxLogged {
					log.Warn("more lines longer than --max-line-bytes are skipped without a message; the summary counts them")
				}
				continue
			case err != nil:
				ref.line, ref.input = ref.line+1, ref.input+1 // the line it could not read
				return stop(ref, fmt.Errorf("ingest: %s: %w", src.Name, err))
			case ref.input < from:
				st.Before++
				continue
			}
			if conv != nil {
				value, ok := conv.convert(line)
				if !ok {
					st.NotFrames++
				}
				line = value
			}
			key = k.appendKey(key[:0], line)
			pt := hashPartition(key, partitions)
			if have != nil && have.has(pt, ref) {
				st.Present++
				continue
			}
			num = strconv.AppendInt(num[:0], ref.line, 10)
			r := recs.next()
			r.ref = ref
			r.rec.Key = small.copy(key)
			r.rec.Value = values.copy(line)
			r.hdrs[0] = sarama.RecordHeader{Key: hk[0], Value: producerHdr}
			r.hdrs[1] = sarama.RecordHeader{Key: hk[1], Value: srcHdr}
			r.hdrs[2] = sarama.RecordHeader{Key: hk[2], Value: small.copy(num)}
			r.rec.Headers = append(r.rec.Headers[:0], &r.hdrs[0], &r.hdrs[1], &r.hdrs[2])
			if !p.enqueue(pt, &r.record) {
				return stop(ref, nil)
			}
		}
		st.Blank += lr.blank
		base += lr.line
		readBase += lr.read
		rc.Close()
	}
	return lineRef{src: len(srcs), input: base + 1}, nil
}

// recordBlocks hands out records from blocks of 512, so that holding a record until its ack
// costs one allocation per block.
type recordBlocks struct{ free []fullRecord }

// fullRecord is a record with the storage of its sarama record and headers.
type fullRecord struct {
	record
	sr    sarama.Record
	hdrs  [3]sarama.RecordHeader
	hptrs [3]*sarama.RecordHeader
}

func (b *recordBlocks) next() *fullRecord {
	if len(b.free) == 0 {
		b.free = make([]fullRecord, 512)
	}
	r := &b.free[0]
	b.free = b.free[1:]
	r.rec = &r.sr
	r.sr.Headers = r.hptrs[:0]
	return r
}

// slab hands out copies of byte strings from large shared blocks, so that keeping a record's
// bytes until its ack costs one allocation per block instead of one per record. A block is
// freed by the GC once every record carved from it was acknowledged.
type slab struct {
	buf  []byte
	size int
}

// copy returns a copy of b that stays valid until the GC frees it.
func (s *slab) copy(b []byte) []byte {
	if cap(s.buf)-len(s.buf) < len(b) {
		s.buf = make([]byte, 0, max(s.size, len(b)))
	}
	start := len(s.buf)
	s.buf = append(s.buf, b...)
	return s.buf[start:len(s.buf):len(s.buf)]
}

// keyer is the keyer of the records this ingest writes, and reads back when it resumes.
func (in *Ingest) keyer() *keyer {
	k := &keyer{mode: in.cfg.Keying}
	// The lines' uid and ts where Config.Frame says, as the processor reads them: a nested uid
	// or a ts in milliseconds decodes, so the line is keyed by its user, not by its hash.
	_ = k.json.Configure(in.cfg.Frame) // validated with the Config
	if in.cfg.Format == codec.FormatProtobuf {
		pc := in.cfg.Frame
		pc.UIDField, pc.TSField = "", ""       // the paths are the lines'; the message has fields 1 and 2
		k.proto, _ = codec.NewProtoDecoder(pc) // validated with the Config
	}
	return k
}

// converter turns lines into protobuf records, or is nil when ingest writes lines as they are.
func (in *Ingest) converter() *protoConverter {
	if in.cfg.Format != codec.FormatProtobuf {
		return nil
	}
	d, _ := codec.NewFrameDecoder(in.cfg.Frame) // validated with the Config
	return &protoConverter{dec: d, units: in.cfg.Frame.UnitsPerSecond()}
}

// protoConverter converts JSON lines to protobuf messages. It is not safe for concurrent use.
type protoConverter struct {
	dec   *codec.FrameDecoder
	units int64 // of the ts per second: the message's ts counts in the lines' unit
	buf   []byte
}

// convert returns the protobuf message of line, valid until the next call, and true; or line
// itself and false when it does not decode as a frame (or its ts, in its unit, overflows an
// int64: a nanosecond ts after 2262).
func (c *protoConverter) convert(line []byte) ([]byte, bool) {
	f, err := c.dec.Decode(line)
	if err != nil || f.TS > math.MaxInt64/c.units {
		return line, false
	}
	c.buf = codec.AppendProtoFrame(c.buf[:0], f.TS*c.units, f.UID)
	return c.buf, true
}
