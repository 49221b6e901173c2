package sketch

import (
	"errors"
	"fmt"
	"slices"
)

// DefaultPrecision is the precision kuniq uses unless told otherwise: 2^14
// registers, a standard error of 1.04/√16384 ≈ 0.81 %, 16 KiB when dense.
const DefaultPrecision = 14

// MinPrecision and MaxPrecision bound the precisions New accepts; they are
// axiomhq's bounds.
const (
	MinPrecision = 4
	MaxPrecision = 18
)

// ErrPrecision is returned, wrapped, by New for a precision outside
// [MinPrecision, MaxPrecision] and by Merge for sketches whose precisions
// differ.
var ErrPrecision = errors.New("sketch: precision")

// pendingMax bounds the small sorted buffer of new sparse keys. New keys
// land there (a memmove of at most pendingMax*4 bytes) and are merged into
// the big sorted list in batches, so a unique insert never moves the big
// list, and a repeated one is two binary searches.
const pendingMax = 128

// Sketch is a HyperLogLog sketch with axiomhq/hyperloglog's hash, sparse
// encoding, registers, estimator and wire format, and a state that depends
// only on the set of hashes inserted: it is sparse exactly while the sorted
// delta-varint list of its sparse keys fits in 2^p bytes (axiomhq's own
// sparse→dense rule), and dense after. The zero value is not usable; call New.
type Sketch struct {
	p uint8
	m uint32

	// Sparse state (regs == nil): the set K of sparse keys is
	// sorted ∪ pending, two disjoint sorted slices.
	sorted  []uint32
	pending []uint32
	// size is the byte length of sorted's delta varint stream; bound is an
	// upper bound on how much pending can add to it.
	size, bound int
	// scratch is reused as the destination of the next batch merge.
	scratch []uint32

	// Dense state: one register per bucket, and hist[v] = number of
	// registers holding v, kept up to date so Estimate is O(65).
	regs []uint8
	hist [66]uint32
}

// New returns an empty sparse sketch with 2^precision registers. precision
// must lie in [MinPrecision, MaxPrecision].
func New(precision uint8) (*Sketch, error) {
	if precision < MinPrecision || precision > MaxPrecision {
		return nil, fmt.Errorf("new sketch with precision %d, want %d..%d: %w", precision, MinPrecision, MaxPrecision, ErrPrecision)
	}
	return &Sketch{p: precision, m: 1 << precision}, nil
}

// Precision returns the sketch's precision p (2^p registers).
func (s *Sketch) Precision() uint8 { return s.p }

// Sparse reports whether the sketch is still in the sparse representation.
func (s *Sketch) Sparse() bool { return s.regs == nil }

// Insert hashes uid and inserts it. To feed one uid into many sketches, hash it
// once and call InsertHash on each.
func (s *Sketch) Insert(uid []byte) { s.InsertHash(Hash(uid)) }

// InsertHash adds a hash from Hash (or any uniformly distributed 64-bit
// value) to the sketch.
func (s *Sketch) InsertHash(h uint64) {
	if s.regs != nil {
		i, r := getPosVal(h, s.p)
		s.setReg(uint32(i), r)
		return
	}
	s.addKey(encodeHash(h, s.p, pp))
}

// setReg raises register i to r, keeping the histogram in step.
func (s *Sketch) setReg(i uint32, r uint8) {
	if old := s.regs[i]; r > old {
		s.hist[old]--
		s.hist[r]++
		s.regs[i] = r
	}
}

// addKey adds a sparse key to K. Repeats, the common case in a busy window,
// cost two binary searches and never touch the big list.
func (s *Sketch) addKey(k uint32) {
	if _, ok := slices.BinarySearch(s.sorted, k); ok {
		return
	}
	i, ok := slices.BinarySearch(s.pending, k)
	if ok {
		return
	}
	s.pending = slices.Insert(s.pending, i, k)
	// Inserting b between a and c changes the stream by
	// len(b-a)+len(c-b)-len(c-a), which lies in [0, len(b)].
	s.bound += varintLen(k)
	if len(s.pending) >= pendingMax || s.size+s.bound > int(s.m) {
		s.flush()
	}
}

// flush merges pending into sorted and goes dense if the stream no longer
// fits in m bytes. Keeping this check exact after every mutation is what
// makes the representation, and so the estimate, a function of K alone.
func (s *Sketch) flush() {
	if len(s.pending) == 0 {
		return
	}
	out := s.scratch[:0]
	out = slices.Grow(out, len(s.sorted)+len(s.pending))
	a, b := s.sorted, s.pending
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			out = append(out, a[0])
			a = a[1:]
		} else {
			out = append(out, b[0])
			b = b[1:]
		}
	}
	out = append(out, a...)
	out = append(out, b...)
	s.scratch = s.sorted
	s.sorted = out
	s.pending = s.pending[:0]
	s.bound = 0
	s.size = streamLen(s.sorted)
	if s.size > int(s.m) {
		s.toDense()
	}
}

// streamLen is the byte length of the delta varint stream of sorted keys.
func streamLen(keys []uint32) int {
	n, last := 0, uint32(0)
	for _, k := range keys {
		n += varintLen(k - last)
		last = k
	}
	return n
}

// toDense replaces the sparse state by registers.
func (s *Sketch) toDense() {
	s.regs = make([]uint8, s.m)
	s.hist = [66]uint32{}
	s.hist[0] = s.m
	for _, keys := range [2][]uint32{s.sorted, s.pending} {
		for _, k := range keys {
			i, r := decodeHash(k, s.p, pp)
			s.setReg(i, r)
		}
	}
	s.sorted, s.pending, s.scratch = nil, nil, nil
	s.size, s.bound = 0, 0
}

// Merge adds o into s; o is only read. Both must have the same precision,
// otherwise the error wraps ErrPrecision and s is unchanged. A nil o is empty.
func (s *Sketch) Merge(o *Sketch) error {
	if o == nil {
		return nil
	}
	if s.p != o.p {
		return fmt.Errorf("merge precision %d into %d: %w", o.p, s.p, ErrPrecision)
	}
	if o.regs != nil {
		if s.regs == nil {
			s.toDense()
		}
		for i, r := range o.regs {
			s.setReg(uint32(i), r)
		}
		return nil
	}
	if s.regs != nil {
		for _, keys := range [2][]uint32{o.sorted, o.pending} {
			for _, k := range keys {
				i, r := decodeHash(k, s.p, pp)
				s.setReg(i, r)
			}
		}
		return nil
	}
	// Both sparse: union the big sorted lists in one pass, then feed o's
	// pending keys through addKey, which dedupes and re-checks the size.
	s.flush()
	if s.regs == nil && len(o.sorted) > 0 {
		old := s.sorted
		s.sorted = unionSorted(s.scratch[:0], old, o.sorted)
		s.scratch = old
		s.size = streamLen(s.sorted)
		if s.size > int(s.m) {
			s.toDense()
		}
	}
	for _, k := range o.pending {
		if s.regs != nil {
			i, r := decodeHash(k, s.p, pp)
			s.setReg(i, r)
			continue
		}
		s.addKey(k)
	}
	return nil
}

// unionSorted appends the sorted union of a and b (each sorted, distinct) to
// dst. dst must not alias a or b.
func unionSorted(dst, a, b []uint32) []uint32 {
	dst = slices.Grow(dst, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			dst = append(dst, a[0])
			a = a[1:]
		case a[0] > b[0]:
			dst = append(dst, b[0])
			b = b[1:]
		default:
			dst = append(dst, a[0])
			a, b = a[1:], b[1:]
		}
	}
	dst = append(dst, a...)
	return append(dst, b...)
}

// Clone returns a deep copy of s; s is only read.
func (s *Sketch) Clone() *Sketch {
	c := &Sketch{p: s.p, m: s.m, size: s.size, bound: s.bound, hist: s.hist}
	if s.regs != nil {
		c.regs = slices.Clone(s.regs)
		return c
	}
	c.sorted = slices.Clone(s.sorted)
	c.pending = slices.Clip(slices.Clone(s.pending))
	return c
}

// Reset empties the sketch and makes it sparse again, keeping its
// precision, so a pooled sketch can be reused for the next window.
func (s *Sketch) Reset() {
	*s = Sketch{p: s.p, m: s.m, sorted: s.sorted[:0], pending: s.pending[:0]}
}
