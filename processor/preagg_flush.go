package processor

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/retry"
)

// batch is what one flush sends for one partition: its partials, dead letters and mark, and
// the offset that may be committed once all of it is acknowledged.
type batch struct {
	pt      *partition
	gen     uint64
	claim   *liveClaim // the claim it was taken under; nil if none
	closing bool       // the claim's last flush: its acknowledgement hands the partition over
	windows *partials
	dead    []codec.DeadLetter
	first   int64
	last    int64
	mark    Mark
	commit  int64 // offset to commit once acknowledged
	frames  int   // frames the batch covers, for logs

	// counts is what the metrics count once it is acknowledged.
	counts counts
}

// flushLoop flushes every FlushInterval, when a partition has MaxPending frames, and when a
// claim ends, until ctx is done (Run stops it after every claim was handed over).
func (p *PreAgg) flushLoop(ctx context.Context) {
	t := time.NewTicker(p.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.poke:
		}
		p.flush(ctx)
	}
}

// flush sends one batch per partition that has a claim or an unacknowledged batch: the
// partials and dead letters first, then, once those are acknowledged, the partition's mark to
// every stage-2 partition (so stage 2 merges a window's partial before the watermark that
// closes it), and once the mark is acknowledged it commits the batch's offset. A partition
// whose batch fails keeps it and sends it again after a backoff, before anything newer, so
// its flushes reach stage 2 in order; other partitions go on meanwhile.
func (p *PreAgg) flush(ctx context.Context) {
	now := p.now()
	var todo []*batch
	for _, pt := range p.quietAtEnd(ctx, p.partitions(), now) {
		if b := pt.next(p, now); b != nil {
			todo = append(todo, b)
		}
	}
	if len(todo) == 0 {
		return
	}
	defer p.cfg.Metrics.FlushDone(time.Now())
	errs := make([]error, len(todo))
	p.sendAll(todo, errs, func(b *batch, emit func(Emitter, string, any, goka.Headers)) {
		for _, k := range b.windows.sorted() {
			// The batch's partials are the flusher's alone now: completing their sketches
			// (Builder.Sketch inserts what it buffers) costs the reader nothing.
			w := b.windows.byKey[k]
			emit(p.io.Partials, k.String(), &Partial{Partition: b.pt.id, First: b.first, Last: b.last, Frames: w.frames, Sketch: w.sketch.Sketch()}, nil)
		}
		for _, d := range b.dead {
			// The original bytes as the value, the rest as headers: nothing is escaped, and
			// a frame can be re-ingested exactly as it came.
			d.Topic = string(p.cfg.Input)
			emit(p.io.DeadLetters, fmt.Sprintf("%d/%d", d.Partition, d.Offset), deadLetterValue(d), d.KafkaHeaders())
		}
	})
	p.sendAll(todo, errs, func(b *batch, emit func(Emitter, string, any, goka.Headers)) {
		for _, k := range p.ctlKeys {
			m := b.mark
			emit(p.io.Partials, k, &m, nil)
		}
	})
	var failed error
	for i, b := range todo {
		if errs[i] != nil {
			failed = errs[i]
			b.pt.failed(p, b, now)
			continue
		}
		b.pt.acked(b)
	}
	if failed != nil {
		p.sends.Fail(failed)
	} else {
		p.sends.OK()
	}
}

// sendAll emits, for every batch still without an error, what fill gives it, and waits for
// all acknowledgements; errs[i] gets batch i's first error.
func (p *PreAgg) sendAll(todo []*batch, errs []error, fill func(*batch, func(Emitter, string, any, goka.Headers))) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, b := range todo {
		if errs[i] != nil {
			continue
		}
		fill(b, func(e Emitter, key string, v any, h goka.Headers) {
			pr, err := e.EmitWithHeaders(key, v, h)
			if err != nil {
				mu.Lock()
				if errs[i] == nil {
					errs[i] = err
				}
				mu.Unlock()
				return
			}
			wg.Add(1)
			pr.Then(func(err error) {
				if err != nil {
					mu.Lock()
					if errs[i] == nil {
						errs[i] = err
					}
					mu.Unlock()
				}
				wg.Done()
			})
		})
	}
	wg.Wait()
}

// deadLetterValue is the value of d's record: the frame's bytes, or no value (a tombstone's
// dead letter is a tombstone too).
func deadLetterValue(d codec.DeadLetter) any {
	if d.Reason == codec.Reason(codec.ErrNullValue) {
		return nil
	}
	return []byte(d.Frame)
}

// next returns the batch the partition sends in this flush: its unacknowledged batch once its
// backoff has passed, or a new one taken from what was counted; nil if it has nothing to send
// (no claim, or waiting out a backoff).
func (pt *partition) next(p *PreAgg, now time.Time) *batch {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.unacked != nil {
		if now.Before(pt.retryAt) {
			return nil
		}
		return pt.unacked
	}
	if pt.claim == nil {
		return nil
	}
	pt.unacked = pt.takeLocked(p, now)
	return pt.unacked
}

// takeLocked swaps out what a flush sends. A partition is idle when it was read to its end and
// no frame arrived for the idle timeout.
func (pt *partition) takeLocked(p *PreAgg, now time.Time) *batch {
	c := pt.claim
	idle := pt.atEndLocked() && now.Sub(pt.lastFrame) >= p.cfg.IdleTimeout
	closing := c.ending
	if (idle && !pt.settled) || closing {
		// End of input, or the claim ends: settle the frames the bit-flip guard holds, so
		// they can be committed and nothing waits for frames that won't come.
		pt.src.Flush()
		pt.settled = idle
	}
	b := &batch{pt: pt, gen: pt.gen, claim: c, closing: closing, windows: pt.windows, dead: pt.dead,
		first: pt.first, last: pt.last, frames: pt.pending}
	pt.windows, pt.dead, pt.first, pt.pending = newPartials(p.cfg.Engine.Precision), nil, -1, 0
	pt.freeRoomLocked()
	// Commits may go up to, not past, the oldest frame the guard still holds.
	b.commit = pt.read + 1
	if oldest, ok := pt.src.OldestHeld(); ok {
		b.commit = min(b.commit, oldest)
	}
	b.counts = pt.tally.take(b.commit, b.dead)
	b.mark = Mark{Partition: pt.id, Watermark: pt.src.Watermark(), MaxTS: pt.src.MaxTS(), Idle: idle}
	if b.mark.Watermark == math.MinInt64 {
		b.mark.MaxTS = math.MinInt64
	}
	return b
}

// acked records that Kafka acknowledged all of b: its offset becomes durable and is committed
// in the claim's session, and a closing batch hands the partition over.
func (pt *partition) acked(b *batch) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.unacked == b {
		pt.unacked, pt.failures = nil, 0
	}
	// What Kafka acknowledged is durable even if the state was reset meanwhile.
	pt.durable = max(pt.durable, b.commit)
	pt.lastIdle = b.mark.Idle
	pt.tally.acked(b.counts, b.gen == pt.gen)
	if c := pt.claim; c != nil && c == b.claim && b.gen == pt.gen {
		c.sess.MarkOffset(c.topic, pt.id, pt.durable, "")
	}
	if b.closing {
		b.claim.closedOnce.Do(func() { close(b.claim.handedOver) })
	}
}

// failed keeps b to send again after a backoff, unless the partition was reset meanwhile
// (its claim was handed over without it: the records are read again by the next owner).
func (pt *partition) failed(p *PreAgg, b *batch, now time.Time) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.unacked != b {
		return
	}
	if b.gen != pt.gen {
		pt.unacked = nil
		return
	}
	pt.failures++
	pt.retryAt = now.Add(retry.DefaultBackoff.Delay(pt.failures))
}

// atEndLocked tells whether everything in the partition has been read, by the latest high-water
// mark asked for after its last frame: a partition with a backlog is never idle, however long it
// waits for a rebalance, an outage or a slow start.
func (pt *partition) atEndLocked() bool {
	if pt.claim == nil || pt.hwmAt.IsZero() || !pt.hwmAt.After(pt.lastFrame) {
		return false
	}
	return pt.read+1 >= pt.hwm
}

// quietAtEnd asks the high-water marks of the claimed partitions that had no frame for the idle
// timeout (again each flush interval), so takeLocked can tell whether they are read to their
// end; a busy partition costs no request. A failed request leaves a partition not at its end.
func (p *PreAgg) quietAtEnd(ctx context.Context, pts []*partition, now time.Time) []*partition {
	for _, pt := range pts {
		pt.mu.Lock()
		stale := !pt.hwmAt.After(pt.lastFrame) || now.Sub(pt.hwmAt) >= p.cfg.FlushInterval
		quiet := pt.claim != nil && !pt.claim.ending && now.Sub(pt.lastFrame) >= p.cfg.IdleTimeout && stale
		pt.mu.Unlock()
		if !quiet || ctx.Err() != nil {
			continue
		}
		hwm, err := p.io.HighWater(pt.id)
		if err != nil {
			continue
		}
		pt.mu.Lock()
		pt.hwm, pt.hwmAt = hwm, p.now()
		pt.mu.Unlock()
	}
	return pts
}
