package processor

import (
	"sort"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/metrics"
)

// tally is what one input partition reports to the metrics: every input record is counted
// once, by the instance that commits its offset, when the flush carrying its contribution was
// acknowledged (metrics' package doc states the promise). Counting when read would count
// again the records a next owner reads after a hand-over that timed out; counting a whole
// batch at its acknowledgement would count the frames read after a frame the bit-flip guard
// still holds, which the commit does not pass and a next owner reads again. So the tally keeps
// the offsets of the records read and the dead letters decided, and a batch counts those below
// its commit. The cost is 8 bytes per frame read since the last flush, and none without
// metrics.
type tally struct {
	m *metrics.Pipeline
	// offsets of the records applied and not yet counted, ascending (frames are applied in
	// offset order).
	offsets []int64
	// dead letters decided and not yet counted (a frame released by the guard may be older
	// than the batch's commit or not).
	dead []deadAt
	// stash holds what Kafka acknowledged after the partition's state was reset (its hand-over
	// timed out): counted if this process gets the partition back and commits it (begin).
	stash counts
	// seen is the durable offset the last stall check saw with records to read, since seenAt,
	// in claim seenClaim.
	seen      int64
	seenAt    time.Time
	seenClaim *liveClaim
}

type deadAt struct {
	offset int64
	reason string
}

// counts are the records a batch counts once acknowledged.
type counts struct {
	frames int64
	dead   map[string]int64
}

func (c *counts) add(o counts) {
	c.frames += o.frames
	for r, n := range o.dead {
		if c.dead == nil {
			c.dead = map[string]int64{}
		}
		c.dead[r] += n
	}
}

// read notes an applied record.
func (t *tally) read(offset int64) {
	if t.m != nil {
		t.offsets = append(t.offsets, offset)
	}
}

// take returns what a batch with this commit offset counts: the records and dead letters
// below it; the rest waits for a later batch.
func (t *tally) take(commit int64, dead []codec.DeadLetter) counts {
	if t.m == nil {
		return counts{}
	}
	for _, d := range dead {
		t.dead = append(t.dead, deadAt{offset: d.Offset, reason: d.Reason})
	}
	n := sort.Search(len(t.offsets), func(i int) bool { return t.offsets[i] >= commit })
	c := counts{frames: int64(n)}
	t.offsets = t.offsets[:copy(t.offsets, t.offsets[n:])]
	keep := t.dead[:0]
	for _, d := range t.dead {
		if d.offset >= commit {
			keep = append(keep, d)
			continue
		}
		if c.dead == nil {
			c.dead = map[string]int64{}
		}
		c.dead[d.reason]++
	}
	t.dead = keep
	return c
}

// acked counts an acknowledged batch: at once if it belongs to the partition's current state
// (this process commits it), else into the stash.
func (t *tally) acked(c counts, current bool) {
	if !current {
		t.stash.add(c)
		return
	}
	t.m.Acked(c.frames, c.dead)
}

// resume counts the stash: the partition continues past its committed offset, and this process
// commits what the stash covers.
func (t *tally) resume() {
	t.m.Acked(t.stash.frames, t.stash.dead)
	t.stash = counts{}
}

// reset forgets everything uncounted: the partition's records from its durable offset on are
// read again, by this process or its next owner, and counted then.
func (t *tally) reset() {
	t.offsets, t.dead, t.stash = t.offsets[:0], nil, counts{}
}

// Inputs reports the input partitions this instance reads now, for the metrics and /readyz.
func (p *PreAgg) Inputs() []metrics.Input {
	now := p.now()
	var out []metrics.Input
	for _, pt := range p.partitions() {
		pt.mu.Lock()
		if c := pt.claim; c != nil {
			hwm := int64(-1)
			if c.hwm != nil {
				hwm = c.hwm()
			}
			out = append(out, metrics.Input{
				Topic: c.topic, Partition: pt.id, HighWater: hwm, Committed: pt.durable,
				Watermark: pt.src.Watermark(),
				Idle:      pt.atEndLocked() && now.Sub(pt.lastFrame) >= p.cfg.IdleTimeout,
			})
		}
		pt.mu.Unlock()
	}
	return out
}

// stalled returns the first claimed partition that had records to read at every check for d
// while its durable offset did not move, with its lag. It samples: the checks are the
// readiness probes and scrapes, so a stall is seen within one probe interval after d.
func (p *PreAgg) stalled(d time.Duration) (partition int32, lag int64, since time.Duration, ok bool) {
	now := p.now()
	for _, pt := range p.partitions() {
		pt.mu.Lock()
		t, c := &pt.tally, pt.claim
		if c == nil || c.hwm == nil {
			pt.mu.Unlock()
			continue
		}
		lag := c.hwm() - pt.durable
		if lag <= 0 || pt.durable != t.seen || c != t.seenClaim {
			t.seen, t.seenAt, t.seenClaim = pt.durable, now, c
		}
		since := now.Sub(t.seenAt)
		pt.mu.Unlock()
		if lag > 0 && since >= d {
			return pt.id, lag, since, true
		}
	}
	return 0, 0, 0, false
}
