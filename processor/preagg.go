package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"golang.org/x/sync/errgroup"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Emitter is what stage 1 needs of a goka.Emitter (tests substitute their own).
type Emitter interface {
	Emit(key string, msg any) (*goka.Promise, error)
	EmitWithHeaders(key string, msg any, headers goka.Headers) (*goka.Promise, error)
	Finish() error
}

// HighWaterFunc returns the high-water mark of an input partition (the offset its next record
// will get), asked of the partition's leader.
type HighWaterFunc func(partition int32) (int64, error)

// PreAggIO is what stage 1 reads from and writes to: Run builds it from Kafka, tests from fakes.
type PreAggIO struct {
	// Group is stage 1's consumer group on the input topic.
	Group sarama.ConsumerGroup
	// Partials carries partials and marks to stage 2; DeadLetters the frames not counted.
	Partials, DeadLetters Emitter
	// HighWater tells a partition read to its end from one that merely went quiet.
	HighWater HighWaterFunc
	// Now is the wall clock (idle timeouts, retry times); nil means time.Now.
	Now func() time.Time
}

// batchSize is how many records one decoding job holds: ~0.5 MB of challenge frames, enough
// that handing a job to another goroutine costs little next to decoding it.
const batchSize = 256

// PreAgg is stage 1: it reads the input topic with a sarama consumer group, decodes each frame
// once on every core, counts it into per-window partial sketches of its partition, and flushes
// them to stage 2. A record's offset is committed only after everything it contributed
// (partials, dead letters, the partition's mark) was acknowledged by Kafka. Build it with
// NewPreAgg and call Run.
type PreAgg struct {
	cfg      Config
	io       PreAggIO
	ctlKeys  []string // one per stage-2 partition
	decoders *engine.Decoders
	log      *slog.Logger
	now      func() time.Time

	// sends follows the flush's writes to Kafka; group the consumer group's sessions.
	sends, group *retry.Outage

	mu    sync.Mutex
	parts map[int32]*partition
	poke  chan struct{}
}

// NewPreAgg returns stage 1 for a partials topic of stage2Partitions partitions.
func NewPreAgg(cfg Config, stage2Partitions int, io PreAggIO) *PreAgg {
	if io.Now == nil {
		io.Now = time.Now
	}
	log := cfg.logger().With("stage", "preagg")
	return &PreAgg{
		cfg:      cfg,
		io:       io,
		ctlKeys:  ControlKeys(stage2Partitions),
		decoders: engine.NewDecoders(cfg.Decoders, cfg.MaxFrameBytes, cfg.Engine.Frame),
		log:      log,
		now:      io.Now,
		sends:    retry.NewOutage("stage 1: sending partials to Kafka", log),
		group:    retry.NewOutage("stage 1: consumer group", log),
		parts:    map[int32]*partition{},
		poke:     make(chan struct{}, 1),
	}
}

// Health reports the state of stage 1's two links to Kafka.
func (p *PreAgg) Health() []retry.State { return []retry.State{p.group.State(), p.sends.State()} }

// Run consumes the input until ctx is done. Faults of the broker are waited out: the consumer
// group rejoins with backoff and failed flushes are retried, each logged at its state changes
// only. On return every partition has been handed over (its last flush sent and committed, or,
// if Kafka could not be reached in time, left to be read again by its next owner).
func (p *PreAgg) Run(ctx context.Context) error {
	decodeCtx, stopDecoders := context.WithCancel(context.Background())
	flushCtx, stopFlusher := context.WithCancel(context.Background())
	var bg errgroup.Group
	bg.Go(func() error { return p.decoders.Run(decodeCtx) })
	bg.Go(func() error { p.flushLoop(flushCtx); return nil })
	bg.Go(func() error {
		for err := range p.io.Group.Errors() {
			// Fetch and commit errors of a live session: sarama retries them itself; the
			// session ends (and Consume is retried below) if they persist.
			p.group.Fail(err)
		}
		return nil
	})

	topics := []string{string(p.cfg.Input)}
	for attempt := 1; ctx.Err() == nil; {
		err := p.io.Group.Consume(ctx, topics, p)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			if errors.Is(err, sarama.ErrClosedConsumerGroup) {
				break
			}
			p.group.Fail(fmt.Errorf("join %s: %w", p.cfg.Names.PreAgg, err))
			retry.DefaultBackoff.Sleep(ctx, attempt)
			attempt++
			continue
		}
		attempt = 1
	}
	// Every claim has been handed over when Consume returns; leave the group, then stop.
	closeErr := p.io.Group.Close()
	stopFlusher()
	stopDecoders()
	_ = bg.Wait()
	if closeErr != nil && !errors.Is(closeErr, sarama.ErrClosedConsumerGroup) {
		p.log.Warn("leaving the consumer group", "error", closeErr)
	}
	return errors.Join(p.io.Partials.Finish(), p.io.DeadLetters.Finish())
}

// Setup is called by sarama when a session starts; nothing to do: each claim sets itself up.
func (p *PreAgg) Setup(sess sarama.ConsumerGroupSession) error {
	p.group.OK()
	claims := sess.Claims()[string(p.cfg.Input)]
	p.log.Info("partitions assigned", "partitions", claims, "generation", sess.GenerationID())
	return nil
}

// Cleanup is called by sarama after every claim of a session has returned.
func (p *PreAgg) Cleanup(sarama.ConsumerGroupSession) error { return nil }

// ConsumeClaim reads one partition for one session: it continues the partition's state if this
// process read it last and nothing else moved its committed offset, reads and counts frames
// until the session ends, then hands the partition over.
func (p *PreAgg) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	pt := p.partition(claim.Partition())
	c := &liveClaim{sess: sess, topic: claim.Topic(), initial: claim.InitialOffset(), hwm: claim.HighWaterMarkOffset, handedOver: make(chan struct{})}
	from := pt.begin(c, p)
	p.read(sess.Context(), pt, claim.Messages(), from)
	p.handOver(pt, c)
	return nil
}

func (p *PreAgg) partition(id int32) *partition {
	p.mu.Lock()
	defer p.mu.Unlock()
	pt := p.parts[id]
	if pt == nil {
		pt = &partition{id: id, durable: -1, room: make(chan struct{}), tally: tally{m: p.cfg.Metrics}}
		p.parts[id] = pt
	}
	return pt
}

// partitions returns every partition this process has state for, in id order.
func (p *PreAgg) partitions() []*partition {
	p.mu.Lock()
	defer p.mu.Unlock()
	pts := make([]*partition, 0, len(p.parts))
	for _, pt := range p.parts {
		pts = append(pts, pt)
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].id < pts[j].id })
	return pts
}

func (p *PreAgg) wake() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// partition is one input partition's stage-1 state. It lives as long as the process, across
// sessions, so that a partition this process gets back after an outage continues where it was
// instead of counting again what it had already sent. mu guards every field but id; the
// partition's reader, the flusher and the claim's hand-over are its users.
type partition struct {
	id int32

	mu      sync.Mutex
	src     *engine.Source
	windows *partials
	dead    []codec.DeadLetter
	// first and last are the offsets counted since the last take (first -1: none); last stays
	// after a take, so a flush that only settles held frames repeats it.
	first, last int64
	read        int64 // largest offset applied, or the claim's initial offset - 1
	pending     int   // frames applied since the last take
	decoding    int   // frames read and not yet applied
	lastFrame   time.Time
	settled     bool // the guard was flushed after the partition went idle
	lastIdle    bool // the last acknowledged mark said idle
	// gen changes when the state is reset: a batch of an older generation is not retried.
	gen uint64
	// durable is the offset below which every record's contribution was acknowledged
	// downstream: what may be committed. -1 before the partition's first claim. Between
	// claims, src has seen exactly the records below it (the hand-over either flushed
	// everything read or reset the state to it).
	durable int64
	claim   *liveClaim // nil between claims
	// unacked is a batch taken and not yet acknowledged (sent again until it is, in order).
	unacked  *batch
	failures int
	retryAt  time.Time
	// hwm is the latest high-water mark asked for, at hwmAt.
	hwm   int64
	hwmAt time.Time
	// room is closed when a take makes room for the reader (it waits while too much is pending).
	room chan struct{}
	// tally is what the metrics count (preagg_metrics.go).
	tally tally
}

// liveClaim is a partition's claim in the current session.
type liveClaim struct {
	sess    sarama.ConsumerGroupSession
	topic   string
	initial int64
	// hwm is the partition's high-water mark as of the latest fetch response (metrics).
	hwm func() int64
	// ending: the session is over and reading stopped; the next flush settles and hands over.
	ending bool
	// handedOver is closed when the closing flush of this claim was acknowledged.
	handedOver chan struct{}
	closedOnce sync.Once
}

// partial is one window's share of a flush: the frames counted into it and their uids.
type partial struct {
	key    window.Key
	sketch *sketch.Builder
	frames int64
}

// partials are a partition's partial sketches until the next take, by window. Every flush
// starts them afresh, so they are always being filled from empty: a sketch.Builder takes the
// uids in batches (~7× cheaper per uid while a sketch is sparse, BenchmarkFill), and, as in
// engine.Counter, the current window of each granularity is tried before the map (frames
// mostly arrive in time order: a minute's frames hit the same windows).
type partials struct {
	precision uint8
	byKey     map[window.Key]*partial
	recent    [8]*partial // by granularity: the window the last frame had
}

func newPartials(precision uint8) *partials {
	return &partials{precision: precision, byKey: map[window.Key]*partial{}}
}

// add counts one frame, uid hash h, into each of its windows keys.
func (ps *partials) add(h uint64, keys []window.Key) {
	for _, k := range keys {
		w := ps.recent[k.Granularity]
		if w == nil || w.key != k {
			if w = ps.byKey[k]; w == nil {
				s, _ := sketch.New(ps.precision) // Config.Validate checked the precision
				w = &partial{key: k, sketch: sketch.NewBuilder(s)}
				ps.byKey[k] = w
			}
			ps.recent[k.Granularity] = w
		}
		w.sketch.Insert(h)
		w.frames++
	}
}

// sorted returns the windows in the order of their ends.
func (ps *partials) sorted() []window.Key {
	keys := make([]window.Key, 0, len(ps.byKey))
	for k := range ps.byKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].End() < keys[j].End() })
	return keys
}

// begin prepares the partition for claim c and returns the first offset to count. Records
// below the partition's durable offset were sent downstream by this process already: they are
// skipped, and committed at once, whatever offset the group had committed (a commit lost to an
// outage would otherwise count them twice), and the clock continues where it was.
func (pt *partition) begin(c *liveClaim, p *PreAgg) int64 {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.claim = c
	pt.lastFrame = p.now()
	if pt.durable < 0 || c.initial > pt.durable {
		// New to this process, or another owner went further: start at the committed offset.
		pt.resetLocked(p, c.initial)
		return c.initial
	}
	if pt.durable > c.initial {
		p.log.Info("partition continues past its committed offset: records up to its last acknowledged flush are counted already",
			"partition", pt.id, "committed", c.initial, "from", pt.durable)
	}
	c.sess.MarkOffset(c.topic, pt.id, pt.durable, "")
	pt.tally.resume()
	return pt.durable
}

// resetLocked starts the partition afresh at offset next: a new clock, nothing pending.
func (pt *partition) resetLocked(p *PreAgg, next int64) {
	pt.src = engine.NewSource(pt.id, p.cfg.Engine.Granularities, p.cfg.Engine.Clock, pt)
	pt.windows, pt.dead, pt.unacked = newPartials(p.cfg.Engine.Precision), nil, nil
	pt.first, pt.last, pt.read, pt.pending = -1, next-1, next-1, 0
	pt.settled, pt.failures, pt.retryAt = false, 0, time.Time{}
	pt.durable = max(pt.durable, next)
	pt.gen++
	pt.tally.reset()
	pt.freeRoomLocked()
}

func (pt *partition) freeRoomLocked() {
	close(pt.room)
	pt.room = make(chan struct{})
}

// Accept and Reject make a partition the engine.Sink of its Source (called under pt.mu).
func (pt *partition) Accept(_ int64, h uint64, keys []window.Key) { pt.windows.add(h, keys) }

func (pt *partition) Reject(d codec.DeadLetter) { pt.dead = append(pt.dead, d) }

// handOver ends a claim: the next flush settles what the bit-flip guard holds and sends
// everything; once Kafka acknowledged it, its offsets are committed and the partition can go
// to its next owner with nothing counted twice. If that takes longer than HandoverTimeout
// (Kafka unreachable), the unsent work is dropped instead: it was never committed, so the next
// owner reads it again, and nothing is lost.
func (p *PreAgg) handOver(pt *partition, c *liveClaim) {
	pt.mu.Lock()
	c.ending = true
	pt.mu.Unlock()
	p.wake()
	t := time.NewTimer(p.cfg.HandoverTimeout)
	defer t.Stop()
	done := false
	select {
	case <-c.handedOver:
		done = true
	case <-t.C:
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.claim = nil
	if done {
		return
	}
	lost := pt.read + 1 - max(pt.durable, 0)
	p.log.Warn("partition handed over without its last flush: Kafka did not acknowledge it in time; its next owner reads the uncommitted records again",
		"partition", pt.id, "timeout", p.cfg.HandoverTimeout, "records", lost, "from", pt.durable)
	pt.resetLocked(p, pt.durable)
}
