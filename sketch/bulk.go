package sketch

import (
	"slices"
	"sync"
)

// InsertHashes adds every hash of hs and leaves exactly the state InsertHash on each would
// (the state is a function of the set of hashes), for less when many of them are new to a
// sparse sketch: their keys are sorted once and merged into the sorted list in one pass,
// where InsertHash merges every pendingMax new keys into a list that grows to thousands
// before the sketch turns dense. That merge is what filling a fresh window costs, and
// stage 1 fills fresh windows all the time (every flush starts new partials). hs is only
// read. BuilderBatch says how many to pass at a time.
func (s *Sketch) InsertHashes(hs []uint64) {
	if s.regs == nil {
		s.flush()
	}
	if s.regs != nil {
		for _, h := range hs {
			s.InsertHash(h) // dense: one register each
		}
		return
	}
	if len(hs) == 0 {
		return
	}
	// pending is empty after the flush: its array holds the batch's keys, scratch serves
	// the sort and then, as always, the merge.
	keys := slices.Grow(s.pending[:0], len(hs))
	for _, h := range hs {
		keys = append(keys, encodeHash(h, s.p, pp))
	}
	s.scratch = sortKeys(keys, s.scratch)
	keys = slices.Compact(keys)
	old := s.sorted
	s.sorted = unionSorted(s.scratch[:0], old, keys)
	s.scratch, s.pending = old, keys[:0]
	s.size = streamLen(s.sorted)
	if s.size > int(s.m) {
		s.toDense()
	}
}

// radixMin is the batch size from which sortKeys uses a radix sort: below it, the four
// 256-entry histograms cost more than slices.Sort does.
const radixMin = 256

// sortKeys sorts keys in place, using tmp (grown to len(keys) if needed, and returned) as
// the radix sort's second buffer. Sparse keys are bits of a uniform hash, so an LSD radix
// sort of four 8-bit digits spreads evenly and costs four passes over the batch.
func sortKeys(keys, tmp []uint32) []uint32 {
	if len(keys) < radixMin {
		slices.Sort(keys)
		return tmp
	}
	tmp = slices.Grow(tmp[:0], len(keys))[:len(keys)]
	var counts [4][256]int
	for _, k := range keys {
		counts[0][k&0xff]++
		counts[1][k>>8&0xff]++
		counts[2][k>>16&0xff]++
		counts[3][k>>24]++
	}
	src, dst := keys, tmp
	for d := range 4 {
		c := &counts[d]
		if c[src[0]>>(8*d)&0xff] == len(src) {
			continue // every key has the same digit: this pass would only copy
		}
		sum := 0
		for i, n := range c {
			c[i], sum = sum, sum+n
		}
		shift := 8 * d
		for _, k := range src {
			b := k >> shift & 0xff
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	return tmp
}

// BuilderBatch is how many hashes a Builder buffers before it hands them to InsertHashes:
// large enough that one merge serves thousands of new keys (a sketch at p = 14 turns dense
// at ~8,000), small enough to stay in a core's cache (32 KiB).
const BuilderBatch = 4096

// Builder fills one Sketch: while the sketch is sparse it buffers the hashes and inserts
// them BuilderBatch at a time with InsertHashes; once it is dense, where an insert is one
// register, it inserts each at once. Sketch returns the sketch with every hash in, the
// same state as InsertHash on each would give. Not safe for concurrent use.
type Builder struct {
	sketch *Sketch
	buf    []uint64 // from bufs while hashes are buffered, else nil
}

// bufs recycles Builders' buffers: stage 1 starts new Builders with every flush.
var bufs = sync.Pool{New: func() any { b := make([]uint64, 0, BuilderBatch); return &b }}

// NewBuilder returns a Builder that fills s.
func NewBuilder(s *Sketch) *Builder { return &Builder{sketch: s} }

// Insert adds a hash from Hash.
func (b *Builder) Insert(h uint64) {
	if b.sketch.regs != nil {
		b.sketch.InsertHash(h) // dense: one register, nothing to batch
		return
	}
	if b.buf == nil {
		b.buf = *bufs.Get().(*[]uint64)
	}
	b.buf = append(b.buf, h)
	if len(b.buf) == BuilderBatch {
		b.sketch.InsertHashes(b.buf)
		b.buf = b.buf[:0]
		if b.sketch.regs != nil {
			b.release() // dense from here on: no more buffering, so no buffer to hold
		}
	}
}

// Sketch inserts what is buffered and returns the sketch. The Builder may go on after it.
func (b *Builder) Sketch() *Sketch {
	if b.buf != nil {
		b.sketch.InsertHashes(b.buf)
		b.release()
	}
	return b.sketch
}

// release returns the emptied buffer to bufs for the next Builder.
func (b *Builder) release() {
	buf := b.buf[:0]
	bufs.Put(&buf)
	b.buf = nil
}
