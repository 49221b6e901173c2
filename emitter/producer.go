package emitter

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/internal/retry"
)

// producer sends the records of each partition in order, one batch per partition at a time and
// one request per broker in flight, and retries a failed batch as it is (the same records, the
// same idempotent sequence number) until it is acknowledged, it is refused for good, or it has
// failed for longer than Config.RetryTimeout.
//
// Why not sarama's AsyncProducer: when a batch has used up its retries there, later records of
// the same partition may already be on their way, so a resend lands behind them; while the
// broker is down its partition producers fail records at once (a failed leader lookup returns
// the record as an error, whatever its retry count), so riding out an outage means resending
// from outside, out of order; and its idempotent mode re-batches retried records under new
// sequence numbers (the "out of order sequence number" errors seen here). Here a partition
// never has two batches in flight, so what the broker holds of a partition is always a prefix
// of the partition's lines, and the broker's idempotence (a producer id, one sequence number
// per batch) drops a retried batch that was written before: within one run every line is
// written exactly once, across broker restarts too.
type producer struct {
	cfg     Config
	client  sarama.Client
	topic   string
	log     *slog.Logger
	outage  *retry.Outage
	version int16 // of the produce requests
	timeout time.Duration

	mu       sync.Mutex
	cond     *sync.Cond
	parts    []*part
	brokers  map[int32]*sarama.Broker // leaders, by id; a worker runs for each
	pid      int64                    // idempotent producer id, -1 without
	epoch    int16
	inFlight int64 // value bytes queued or in a batch, not yet acknowledged
	eof      bool  // the reader is done: send what is left without waiting
	stop     error // set once: no more requests (gave up, refused)
	abort    bool  // the context ended: stop at once
	needMeta bool  // a partition needs its leader looked up
	closed   bool  // Run is returning: goroutines exit

	acked, ackedBytes int64
	retried           int64 // batches sent again after a failure
	perPartition      map[int32]int64
	stallStart        time.Time // since when some partition fails; zero when none does
	stalled           time.Duration
	outages           int

	wg sync.WaitGroup
}

// part is one partition's queue.
type part struct {
	id      int32
	queue   []*record // read, not yet in a batch, in line order
	queued  int       // value bytes in queue
	batch   *batch    // sent, not yet acknowledged: retried as is
	seq     int32     // sequence number of the next new batch
	leader  int32     // broker id; -1 while unknown
	busy    bool      // batch is in a request now
	retryAt time.Time
	// failSince is when the partition's current failure began (zero: healthy); attempts and
	// lastErr describe it.
	failSince time.Time
	attempts  int
	lastErr   error
}

// record is one line on its way to the broker.
type record struct {
	rec *sarama.Record
	ref lineRef
	at  time.Time // when it was queued
}

// batch is a partition's records in one produce request: built once, sent again as is.
type batch struct {
	recs []*record
	rb   *sarama.RecordBatch
	seq  int32
}

func newProducer(cfg Config, client sarama.Client, parts []int32, log *slog.Logger) *producer {
	p := &producer{cfg: cfg, client: client, topic: cfg.Topic, log: log,
		outage:  retry.NewOutage(fmt.Sprintf("ingest into %q", cfg.Topic), log),
		brokers: map[int32]*sarama.Broker{}, pid: -1, epoch: -1, perPartition: map[int32]int64{}}
	p.cond = sync.NewCond(&p.mu)
	for _, id := range parts {
		p.parts = append(p.parts, &part{id: id, leader: -1})
	}
	p.needMeta = true
	// Produce v7 is what sarama's own producer sends to Kafka >= 2.1; v3 is the least that
	// carries record batches (headers, idempotence).
	p.version = 3
	if cfg.Kafka.Version.IsAtLeast(sarama.V2_1_0_0) {
		p.version = 7
	}
	// The broker's own wait for the in-sync replicas must end before the client's read
	// deadline, so a slow ISR is an error code, not a dropped connection.
	p.timeout = max(cfg.Kafka.Timeout*8/10, time.Second)
	return p
}

// start initialises idempotence and starts the metadata loop and the clock.
func (p *producer) start() {
	p.initIdempotence()
	p.wg.Add(2)
	go p.metadata()
	go p.clock()
}

// initIdempotence asks the cluster for a producer id. Without one (a cluster that does not
// grant IdempotentWrite), a batch retried after an ambiguous failure may be written twice; it
// says so once.
func (p *producer) initIdempotence() {
	req := &sarama.InitProducerIDRequest{ProducerID: -1, ProducerEpoch: -1, TransactionTimeout: time.Minute}
	switch v := p.cfg.Kafka.Version; {
	case v.IsAtLeast(sarama.V2_7_0_0):
		req.Version = 4
	case v.IsAtLeast(sarama.V2_5_0_0):
		req.Version = 3
	case v.IsAtLeast(sarama.V2_4_0_0):
		req.Version = 2
	case v.IsAtLeast(sarama.V2_0_0_0):
		req.Version = 1
	}
	// A broker that has just started answers "coordinator loading" for a few seconds.
	deadline := time.Now().Add(max(p.cfg.Kafka.Timeout, 10*time.Second))
	var err error
	for attempt := 1; ; attempt++ {
		var b *sarama.Broker
		if b, err = p.client.Leader(p.topic, p.parts[0].id); err == nil {
			var resp *sarama.InitProducerIDResponse
			if resp, err = b.InitProducerID(req); err == nil && resp.Err != sarama.ErrNoError {
				err = resp.Err
			}
			if err == nil {
				p.pid, p.epoch = resp.ProducerID, resp.ProducerEpoch
				return
			}
		}
		retriable := errors.Is(err, sarama.ErrOffsetsLoadInProgress) || errors.Is(err, sarama.ErrConsumerCoordinatorNotAvailable) ||
			errors.Is(err, sarama.ErrNotCoordinatorForConsumer) || errors.Is(err, sarama.ErrRequestTimedOut)
		if !retriable || time.Now().After(deadline) {
			break
		}
		time.Sleep(p.cfg.Backoff.Delay(attempt))
	}
	p.log.Warn("ingest without idempotence: a batch retried after a broker fault may be written twice",
		"topic", p.topic, "error", err)
}

// enqueue adds r to partition id's queue, waiting while MaxInFlightBytes are in flight. It
// returns false once the producer stopped (gave up, or the context ended).
func (p *producer) enqueue(id int32, r *record) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.inFlight >= p.cfg.MaxInFlightBytes && p.stop == nil && !p.abort {
		p.cond.Wait()
	}
	if p.stop != nil || p.abort {
		return false
	}
	pt := p.parts[id]
	n := len(r.rec.Value)
	r.at = time.Now()
	pt.queue = append(pt.queue, r)
	pt.queued += n
	p.inFlight += int64(n)
	if pt.queued >= p.cfg.FlushBytes {
		p.cond.Broadcast()
	}
	return true
}

// finish tells the workers that nothing more will be queued, and waits until every record is
// acknowledged or the producer stopped.
func (p *producer) finish() {
	p.mu.Lock()
	p.eof = true
	p.cond.Broadcast()
	for !p.drained() && p.stop == nil && !p.abort {
		p.cond.Wait()
	}
	p.mu.Unlock()
}

// drained reports whether every queued record was acknowledged. p.mu is held.
func (p *producer) drained() bool {
	for _, pt := range p.parts {
		if pt.batch != nil || len(pt.queue) > 0 {
			return false
		}
	}
	return true
}

// cancel stops the producer when the context ended: no new request; those in flight finish.
func (p *producer) cancel() {
	p.mu.Lock()
	p.abort = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

// close ends every goroutine. Requests still in flight after grace are cut off by closing the
// client's connections (their batches count as not acknowledged).
func (p *producer) close(grace time.Duration) {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		p.client.Close()
		<-done
	}
}

// resume is the first line not acknowledged, given the reader's next line: every line before
// it was acknowledged (or never needed sending).
func (p *producer) resume(next lineRef) lineRef {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := next
	for _, pt := range p.parts {
		var r *record
		switch {
		case pt.batch != nil:
			r = pt.batch.recs[0]
		case len(pt.queue) > 0:
			r = pt.queue[0]
		default:
			continue
		}
		if first.after(r.ref) {
			first = r.ref
		}
	}
	return first
}

// unacked counts the records not acknowledged.
func (p *producer) unacked() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, pt := range p.parts {
		n += int64(len(pt.queue))
		if pt.batch != nil {
			n += int64(len(pt.batch.recs))
		}
	}
	return n
}

// done reports whether the goroutines should exit. p.mu is held.
func (p *producer) done() bool { return p.closed || p.stop != nil || p.abort || (p.eof && p.drained()) }

// clock wakes the workers for lingering batches and due retries, and gives up on a partition
// that failed for longer than RetryTimeout.
func (p *producer) clock() {
	defer p.wg.Done()
	tick := time.NewTicker(max(p.cfg.FlushFrequency/2, 5*time.Millisecond))
	defer tick.Stop()
	for range tick.C {
		p.mu.Lock()
		if p.done() {
			p.cond.Broadcast()
			p.mu.Unlock()
			return
		}
		now := time.Now()
		if p.cfg.RetryTimeout > 0 {
			for _, pt := range p.parts {
				if !pt.failSince.IsZero() && now.Sub(pt.failSince) > p.cfg.RetryTimeout {
					p.stop = fmt.Errorf("%w after %v: partition %d failing since %s: %w", ErrGaveUp,
						p.cfg.RetryTimeout, pt.id, pt.failSince.Format(time.TimeOnly), pt.lastErr)
					break
				}
			}
		}
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// metadata looks up the leaders of partitions that lost theirs (at the start, after a
// connection failed or a broker said it is not the leader), retrying with backoff, and starts
// a worker for every new leader.
func (p *producer) metadata() {
	defer p.wg.Done()
	attempt := 0
	for {
		p.mu.Lock()
		for !p.needMeta && !p.done() {
			p.cond.Wait()
		}
		if p.done() {
			p.mu.Unlock()
			return
		}
		p.needMeta = false
		p.mu.Unlock()

		err := p.client.RefreshMetadata(p.topic)
		leaders := map[int32]*sarama.Broker{}
		if err == nil {
			for _, pt := range p.parts {
				b, lerr := p.client.Leader(p.topic, pt.id)
				if lerr != nil {
					err = fmt.Errorf("leader of %s/%d: %w", p.topic, pt.id, lerr)
					continue
				}
				leaders[pt.id] = b
			}
		}

		p.mu.Lock()
		now := time.Now()
		for _, pt := range p.parts {
			b, ok := leaders[pt.id]
			if !ok {
				if pt.leader < 0 && (pt.batch != nil || len(pt.queue) > 0) {
					p.failing(pt, now, fmt.Errorf("metadata: %w", err))
				}
				continue
			}
			if pt.leader != b.ID() || p.brokers[b.ID()] != b {
				pt.leader = b.ID()
				if _, running := p.brokers[b.ID()]; !running {
					p.wg.Add(1)
					go p.work(b.ID())
				}
				p.brokers[b.ID()] = b
			}
		}
		missing := len(leaders) < len(p.parts)
		if missing {
			p.needMeta = true
		}
		p.cond.Broadcast()
		p.mu.Unlock()

		if !missing {
			attempt = 0
			continue
		}
		attempt++
		if !p.sleep(p.cfg.Backoff.Delay(attempt)) {
			return
		}
	}
}

// sleep waits d, or less if the producer is done; it reports whether it is still running.
func (p *producer) sleep(d time.Duration) bool {
	deadline := time.Now().Add(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.done() && time.Now().Before(deadline) {
		p.cond.Wait() // the clock broadcasts every few milliseconds
	}
	return !p.done()
}

// work sends the batches of the partitions broker id leads, one request at a time.
func (p *producer) work(id int32) {
	defer p.wg.Done()
	for {
		b, req, sent := p.take(id)
		if req == nil {
			return
		}
		resp, err := b.Produce(req)
		p.settle(b, sent, resp, err)
	}
}

// take waits until some partition of broker id is due (a full or lingering queue, the end of
// input, a retry whose backoff has passed) and returns a request with one batch for each due
// partition it leads; nil when the producer is done.
func (p *producer) take(id int32) (*sarama.Broker, *sarama.ProduceRequest, []*part) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.done() {
			return nil, nil, nil
		}
		b := p.brokers[id]
		now := time.Now()
		trigger := false
		for _, pt := range p.parts {
			if pt.leader == id && !pt.busy && p.due(pt, now) {
				trigger = true
				break
			}
		}
		if b == nil || !trigger {
			p.cond.Wait()
			continue
		}
		req := &sarama.ProduceRequest{RequiredAcks: sarama.WaitForAll, Timeout: int32(p.timeout.Milliseconds()), Version: p.version}
		var sent []*part
		size := 0
		for _, pt := range p.parts {
			if pt.leader != id || pt.busy || size >= maxRequestBytes {
				continue
			}
			if pt.batch != nil {
				if now.Before(pt.retryAt) {
					continue
				}
				p.retried++
			} else if len(pt.queue) > 0 {
				pt.batch = p.newBatch(pt, now)
			} else {
				continue
			}
			pt.busy = true
			size += pt.batch.bytes()
			req.AddBatch(p.topic, pt.id, pt.batch.rb)
			sent = append(sent, pt)
		}
		return b, req, sent
	}
}

// maxRequestBytes bounds the value bytes of one produce request (the broker's default
// socket.request.max.bytes is 100 MiB).
const maxRequestBytes = 16 << 20

// due reports whether pt has something to send now. p.mu is held.
func (p *producer) due(pt *part, now time.Time) bool {
	if pt.batch != nil {
		return !now.Before(pt.retryAt)
	}
	if len(pt.queue) == 0 {
		return false
	}
	return p.eof || pt.queued >= p.cfg.FlushBytes || now.Sub(pt.queue[0].at) >= p.cfg.FlushFrequency
}

// newBatch takes up to FlushBytes of pt's queue (at least one record) into a batch. p.mu is
// held.
func (p *producer) newBatch(pt *part, now time.Time) *batch {
	n, size := 0, 0
	for n < len(pt.queue) && (n == 0 || size+len(pt.queue[n].rec.Value) <= p.cfg.FlushBytes) {
		size += len(pt.queue[n].rec.Value)
		n++
	}
	recs := pt.queue[:n:n]
	pt.queue = pt.queue[n:]
	pt.queued -= size
	return p.makeBatch(recs, pt.seq, now)
}

// makeBatch encodes recs as one record batch with sequence number seq. Records are stamped
// with the time of sending (never the frames' event time: see the package doc).
func (p *producer) makeBatch(recs []*record, seq int32, now time.Time) *batch {
	rb := &sarama.RecordBatch{
		Version:          2,
		Codec:            p.cfg.Compression,
		FirstTimestamp:   now.Truncate(time.Millisecond),
		MaxTimestamp:     now.Truncate(time.Millisecond),
		ProducerID:       p.pid,
		ProducerEpoch:    p.epoch,
		FirstSequence:    seq,
		LastOffsetDelta:  int32(len(recs) - 1),
		Records:          make([]*sarama.Record, len(recs)),
		CompressionLevel: sarama.CompressionLevelDefault,
	}
	if p.pid < 0 {
		rb.FirstSequence = -1
	}
	for i, r := range recs {
		r.rec.OffsetDelta = int64(i)
		r.rec.TimestampDelta = 0
		rb.Records[i] = r.rec
	}
	return &batch{recs: recs, rb: rb, seq: seq}
}

func (b *batch) bytes() int {
	n := 0
	for _, r := range b.recs {
		n += len(r.rec.Value)
	}
	return n
}

// settle applies a produce response (or the request's failure) to the partitions sent.
func (p *producer) settle(b *sarama.Broker, sent []*part, resp *sarama.ProduceResponse, err error) {
	if err != nil {
		// The connection failed or timed out: the broker may or may not have written the
		// batches. They are sent again as they are; idempotence drops what was written.
		_ = b.Close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.cond.Broadcast()
	now := time.Now()
	for _, pt := range sent {
		pt.busy = false
		if err != nil {
			pt.leader = -1
			p.needMeta = true
			p.failing(pt, now, fmt.Errorf("produce to %s/%d via broker %d: %w", p.topic, pt.id, b.ID(), err))
			continue
		}
		block := resp.GetBlock(p.topic, pt.id)
		if block == nil {
			p.failing(pt, now, fmt.Errorf("produce to %s/%d: %w", p.topic, pt.id, sarama.ErrIncompleteResponse))
			continue
		}
		switch block.Err {
		case sarama.ErrNoError, sarama.ErrDuplicateSequenceNumber:
			p.ack(pt)
		case sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable, sarama.ErrUnknownTopicOrPartition,
			sarama.ErrFencedLeaderEpoch, sarama.ErrUnknownLeaderEpoch:
			pt.leader = -1
			p.needMeta = true
			p.failing(pt, now, fmt.Errorf("produce to %s/%d: %w", p.topic, pt.id, block.Err))
		case sarama.ErrRequestTimedOut, sarama.ErrNotEnoughReplicas, sarama.ErrNotEnoughReplicasAfterAppend,
			sarama.ErrKafkaStorageError, sarama.ErrNetworkException, sarama.ErrInvalidMessage:
			p.failing(pt, now, fmt.Errorf("produce to %s/%d: %w", p.topic, pt.id, block.Err))
		case sarama.ErrMessageSizeTooLarge, sarama.ErrMessageSetSizeTooLarge:
			if len(pt.batch.recs) > 1 {
				// The batch, not a record, is over the topic's limit: send it in halves,
				// in order. Nothing of it was written, so the first half keeps its number.
				p.split(pt, now)
				continue
			}
			p.refuse(pt, block.Err)
		default:
			p.refuse(pt, block.Err)
		}
	}
	if p.stallStart.IsZero() {
		return
	}
	for _, pt := range p.parts {
		if !pt.failSince.IsZero() {
			return
		}
	}
	p.stalled += now.Sub(p.stallStart)
	p.stallStart = time.Time{}
	p.outage.OK()
}

// ack counts pt's batch as written. p.mu is held.
func (p *producer) ack(pt *part) {
	bt := pt.batch
	pt.batch = nil
	pt.failSince, pt.attempts, pt.lastErr = time.Time{}, 0, nil
	n := len(bt.recs)
	pt.seq = nextSeq(bt.seq, n)
	bytes := bt.bytes()
	p.acked += int64(n)
	p.ackedBytes += int64(bytes)
	p.perPartition[pt.id] += int64(n)
	p.inFlight -= int64(bytes)
}

// nextSeq is the sequence number after n records from seq; Kafka wraps it at MaxInt32.
func nextSeq(seq int32, n int) int32 {
	return int32((int64(seq) + int64(n)) % (math.MaxInt32 + 1))
}

// failing records a failed attempt for pt and schedules its retry. p.mu is held.
func (p *producer) failing(pt *part, now time.Time, err error) {
	if pt.failSince.IsZero() {
		pt.failSince = now
	}
	if p.stallStart.IsZero() {
		p.stallStart = now
		p.outages++
	}
	pt.attempts++
	pt.lastErr = err
	pt.retryAt = now.Add(p.cfg.Backoff.Delay(pt.attempts))
	p.outage.Fail(err)
}

// split halves pt's batch after the broker found it too large. p.mu is held.
func (p *producer) split(pt *part, now time.Time) {
	recs := pt.batch.recs
	h := len(recs) / 2
	pt.queue = append(append(make([]*record, 0, len(recs)-h+len(pt.queue)), recs[h:]...), pt.queue...)
	for _, r := range recs[h:] {
		pt.queued += len(r.rec.Value)
	}
	pt.batch = p.makeBatch(recs[:h:h], pt.batch.seq, now)
	pt.retryAt = now
}

// refuse stops the ingest: the broker will never take pt's batch. p.mu is held.
func (p *producer) refuse(pt *part, kerr error) {
	if p.stop != nil {
		return
	}
	r := pt.batch.recs[0]
	what := fmt.Sprintf("%d records from input line %d", len(pt.batch.recs), r.ref.input)
	if len(pt.batch.recs) == 1 {
		what = fmt.Sprintf("input line %d (%d bytes)", r.ref.input, len(r.rec.Value))
	}
	p.stop = fmt.Errorf("%w: produce to %s/%d: %s: %w", ErrRefused, p.topic, pt.id, what, kerr)
	if errors.Is(kerr, sarama.ErrMessageSizeTooLarge) {
		p.stop = fmt.Errorf("%w (larger than the topic's max.message.bytes: lower --max-line-bytes below %d to skip it, or raise the limit)",
			p.stop, len(r.rec.Value))
	}
}

// snapshot returns the counters for Progress and Stats.
func (p *producer) snapshot() (acked, ackedBytes int64, stalledFor time.Duration, problem string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stallStart.IsZero() {
		stalledFor = time.Since(p.stallStart)
		for _, pt := range p.parts {
			if pt.lastErr != nil {
				problem = pt.lastErr.Error()
				break
			}
		}
	}
	return p.acked, p.ackedBytes, stalledFor, problem
}
