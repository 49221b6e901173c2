package processor

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Emitter is what stage 1 needs of a goka.Emitter (tests substitute the tester's).
type Emitter interface {
	Emit(key string, msg any) (*goka.Promise, error)
	Finish() error
}

// PreAgg is stage 1: frames in, partials, marks and dead letters out. Build it with NewPreAgg,
// then run Processor() and Run(ctx) (the flusher) side by side.
type PreAgg struct {
	cfg      Config
	partials Emitter
	dlq      Emitter
	ctlKeys  []string // one per stage-2 partition

	mu    sync.Mutex
	parts map[int32]*partition
	// assigned is the latest assignment; partitions outside it are dropped once flushed.
	assigned map[int32]bool
	poke     chan struct{}
	// positions reports the input's high-water marks and the group's committed offsets, so
	// only a partition read to its end can be idle; nil treats every partition as read to its end.
	positions PositionsFunc
}

// PositionsFunc returns, per input partition, the high-water mark and the committed offset.
type PositionsFunc func(partitions []int32) (hwm, committed map[int32]int64, err error)

// SetPositions installs how stage 1 learns whether a partition is read to its end.
func (p *PreAgg) SetPositions(f PositionsFunc) { p.positions = f }

// partition is one input partition's stage-1 state. mu guards everything below it; the
// partition's Goka goroutine and the flusher are the only users.
type partition struct {
	id  int32
	dec codec.FrameDecoder

	mu        sync.Mutex
	session   context.Context // the Goka session of the latest callback; nil before any
	src       *engine.Source
	windows   map[window.Key]*partial
	dead      []codec.DeadLetter
	commits   []heldCommit
	first     int64 // smallest offset counted since the last flush, -1 if none
	last      int64
	read      int64 // largest offset read in this process, -1 if none
	lastFrame time.Time
	settled   bool // the clock was flushed after the partition went idle
	precision uint8
}

type partial struct {
	sketch *sketch.Sketch
	frames int64
}

type heldCommit struct {
	offset int64
	done   func(error)
}

// NewPreAgg returns stage 1 writing partials through partials and dead letters through dlq.
// stage2Partitions is the partition count of the partials topic.
func NewPreAgg(cfg Config, stage2Partitions int, partials, dlq Emitter) *PreAgg {
	return &PreAgg{
		cfg:      cfg,
		partials: partials,
		dlq:      dlq,
		ctlKeys:  ControlKeys(stage2Partitions),
		parts:    map[int32]*partition{},
		assigned: map[int32]bool{},
		poke:     make(chan struct{}, 1),
	}
}

// Graph is stage 1's Goka group: a stateless reader of the input topic as raw bytes (a
// codec error would stop Goka; a bad frame must become a dead letter instead).
func (p *PreAgg) Graph() *goka.GroupGraph {
	return goka.DefineGroup(p.cfg.Names.PreAgg, goka.Input(p.cfg.Input, codec.Bytes{}, p.onFrame))
}

// Options are the processor options stage 1 needs beyond the Kafka ones.
func (p *PreAgg) Options() []goka.ProcessorOption {
	return []goka.ProcessorOption{goka.WithRebalanceCallback(p.onAssign)}
}

// onAssign learns the partitions of a new generation, so the flusher marks every assigned
// partition, including one that never receives a frame (it must report itself idle, or stage
// 2 would wait for it forever).
func (p *PreAgg) onAssign(a goka.Assignment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.assigned = map[int32]bool{}
	for id := range a {
		p.assigned[id] = true
		p.partitionLocked(id)
	}
}

func (p *PreAgg) partition(id int32) *partition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.partitionLocked(id)
}

func (p *PreAgg) partitionLocked(id int32) *partition {
	pt := p.parts[id]
	if pt == nil {
		pt = &partition{id: id, windows: map[window.Key]*partial{}, first: -1, read: -1, lastFrame: time.Now(), precision: p.cfg.Engine.Precision}
		pt.src = engine.NewSource(id, p.cfg.Engine.Granularities, p.cfg.Engine.Clock, pt)
		_ = pt.dec.Configure(p.cfg.Engine.Frame) // Config.Validate checked it
		p.parts[id] = pt
	}
	return pt
}

func (p *PreAgg) onFrame(ctx goka.Context, msg any) {
	pt := p.partition(ctx.Partition())
	line, _ := msg.([]byte)
	off := ctx.Offset()
	// Decoding needs no lock: only this partition's goroutine uses pt.dec.
	f := engine.Decode(&pt.dec, off, line)
	commit := ctx.DeferCommit()

	pt.mu.Lock()
	if s := ctx.Context(); pt.session != s {
		pt.session = s
		go func() { <-s.Done(); p.wake() }() // revoked: flush at once, the rebalance waits for us
	}
	pt.src.Add(f)
	if pt.first < 0 {
		pt.first = off
	}
	pt.last, pt.read = off, max(pt.read, off)
	pt.lastFrame, pt.settled = time.Now(), false
	pt.commits = append(pt.commits, heldCommit{offset: off, done: commit})
	full := len(pt.commits) >= p.cfg.MaxPending
	pt.mu.Unlock()
	if full {
		p.wake()
	}
}

// Accept and Reject make a partition the engine.Sink of its Source (called under pt.mu).
func (pt *partition) Accept(_ int64, h uint64, keys []window.Key) {
	for _, k := range keys {
		w := pt.windows[k]
		if w == nil {
			s, _ := sketch.New(pt.precision) // Config.Validate checked the precision
			w = &partial{sketch: s}
			pt.windows[k] = w
		}
		w.sketch.InsertHash(h)
		w.frames++
	}
}

func (pt *partition) Reject(d codec.DeadLetter) { pt.dead = append(pt.dead, d) }

func (p *PreAgg) wake() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// Run flushes every FlushInterval, when a partition has MaxPending frames, and when a session
// ends, until ctx is done; then it flushes once more. It returns the first emit error (the
// processor is stopped through the held commits by then).
func (p *PreAgg) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return p.flushAll(true)
		case <-t.C:
		case <-p.poke:
		}
		if err := p.flushAll(false); err != nil {
			return err
		}
	}
}

func (p *PreAgg) flushAll(final bool) error {
	p.mu.Lock()
	ids := make([]int32, 0, len(p.parts))
	for id := range p.parts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	pts := make([]*partition, len(ids))
	closing := make([]bool, len(ids))
	for i, id := range ids {
		pts[i], closing[i] = p.parts[id], final || !p.assigned[id]
	}
	p.mu.Unlock()
	empty, err := p.flushMany(pts, closing)
	p.mu.Lock()
	for i, id := range ids {
		if empty[i] && !p.assigned[id] {
			delete(p.parts, id) // revoked and handed over: nothing left to send
		}
	}
	p.mu.Unlock()
	return err
}

type batch struct {
	windows map[window.Key]*partial
	dead    []codec.DeadLetter
	release []heldCommit
	first   int64
	last    int64
	mark    codec.Mark
}

// flush flushes one partition (see flushMany).
func (p *PreAgg) flush(pt *partition, closing bool) (empty bool, err error) {
	empties, err := p.flushMany([]*partition{pt}, []bool{closing})
	return empties[0], err
}

// flushMany sends the partitions' partials and dead letters, waits for Kafka to acknowledge
// them, broadcasts each partition's mark, waits again, and then releases the commits of the
// frames the flush covered. All partitions go in one round, so a flush costs two producer
// round trips however many partitions the instance owns. It reports, per partition, whether
// nothing was left pending.
func (p *PreAgg) flushMany(pts []*partition, closing []bool) (empty []bool, err error) {
	batches := make([]batch, len(pts))
	var release []heldCommit
	atEnd := p.readToEnd(pts)
	for i, pt := range pts {
		batches[i] = pt.take(p.cfg.IdleTimeout, closing[i], atEnd[i])
		release = append(release, batches[i].release...)
	}
	var promises []*goka.Promise
	emit := func(e Emitter, key string, v any) {
		pr, err := e.Emit(key, v)
		if err != nil {
			promises = append(promises, failedPromise(err))
			return
		}
		promises = append(promises, pr)
	}
	for i, b := range batches {
		keys := make([]window.Key, 0, len(b.windows))
		for k := range b.windows {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].End() < keys[j].End() })
		for _, k := range keys {
			w := b.windows[k]
			emit(p.partials, k.String(), &codec.Partial{Source: pts[i].id, First: b.first, Last: b.last, Frames: w.frames, Sketch: w.sketch})
		}
		for _, d := range b.dead {
			emit(p.dlq, fmt.Sprintf("%d/%d", d.Source, d.Offset), d)
		}
	}
	empty = make([]bool, len(pts))
	if err := wait(promises); err != nil {
		return empty, p.fail(release, fmt.Errorf("send partials: %w", err))
	}
	// The marks follow the partials they cover: a stage-2 partition sees a window's partial
	// before the watermark that closes it.
	promises = promises[:0]
	for _, b := range batches {
		for _, k := range p.ctlKeys {
			m := b.mark
			emit(p.partials, k, &m)
		}
	}
	if err := wait(promises); err != nil {
		return empty, p.fail(release, fmt.Errorf("send marks: %w", err))
	}
	for _, c := range release {
		c.done(nil)
	}
	for i, pt := range pts {
		pt.mu.Lock()
		empty[i] = len(pt.commits) == 0
		pt.mu.Unlock()
	}
	return empty, nil
}

// readToEnd tells, per partition, whether everything in it has been read (by this process, or
// committed by the group before): a partition with a backlog is never idle, however long it
// waits for a rebalance or a slow start. If the positions cannot be read, none is.
func (p *PreAgg) readToEnd(pts []*partition) []bool {
	out := make([]bool, len(pts))
	// Only a partition without frames for the idle timeout can be idle: ask Kafka about
	// those alone, so a busy instance makes no extra requests per flush.
	var ids []int32
	var quiet []int
	for i, pt := range pts {
		pt.mu.Lock()
		q := time.Since(pt.lastFrame) >= p.cfg.IdleTimeout
		pt.mu.Unlock()
		if q {
			ids, quiet = append(ids, pt.id), append(quiet, i)
		}
	}
	if len(ids) == 0 {
		return out
	}
	if p.positions == nil {
		for _, i := range quiet {
			out[i] = true
		}
		return out
	}
	hwm, committed, err := p.positions(ids)
	if err != nil {
		return out
	}
	for _, i := range quiet {
		pt := pts[i]
		pt.mu.Lock()
		next := max(pt.read+1, committed[pt.id])
		pt.mu.Unlock()
		out[i] = next >= hwm[pt.id]
	}
	return out
}

// take swaps out what a flush sends, under the partition's lock. A partition is idle when it
// was read to its end and no frame arrived for idleTimeout.
func (pt *partition) take(idleTimeout time.Duration, closing, atEnd bool) batch {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	idle := atEnd && time.Since(pt.lastFrame) >= idleTimeout
	revoked := pt.session != nil && pt.session.Err() != nil
	if (idle && !pt.settled) || revoked || closing {
		// End of input, a rebalance or shutdown: settle the frames the bit-flip guard holds,
		// so their commits can be released and nothing waits for frames that won't come.
		pt.src.Flush()
		pt.settled = idle
	}
	b := batch{windows: pt.windows, dead: pt.dead, first: pt.first, last: pt.last}
	pt.windows, pt.dead, pt.first = map[window.Key]*partial{}, nil, -1
	// Commits may go up to, not past, the oldest frame still held by the guard.
	cut := len(pt.commits)
	if oldest, ok := pt.src.OldestHeld(); ok {
		cut = sort.Search(len(pt.commits), func(i int) bool { return pt.commits[i].offset >= oldest })
	}
	b.release = pt.commits[:cut:cut]
	pt.commits = append([]heldCommit(nil), pt.commits[cut:]...)
	b.mark = codec.Mark{Source: pt.id, Watermark: pt.src.Watermark(), MaxTS: pt.src.MaxTS(), Idle: idle}
	if b.mark.Watermark == math.MinInt64 {
		b.mark.MaxTS = math.MinInt64
	}
	return b
}

// fail stops the processor: a commit released with an error shuts Goka down, so the frames
// of a flush that did not reach Kafka are read again after the restart.
func (p *PreAgg) fail(release []heldCommit, err error) error {
	if len(release) > 0 {
		release[0].done(err)
	}
	return err
}

func wait(ps []*goka.Promise) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	wg.Add(len(ps))
	for _, pr := range ps {
		pr.Then(func(err error) {
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return first
}

func failedPromise(err error) *goka.Promise {
	_, finish := goka.NewPromiseWithFinisher()
	return finish(nil, err)
}
