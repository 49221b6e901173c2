package sketch

import (
	"math"
	"math/bits"
)

// The primitives below are copied from github.com/axiomhq/hyperloglog v0.3.0
// (utils.go, sparse.go, hyperloglog.go; Copyright (c) 2021, Axiom, Inc.; MIT
// licence), which keeps them unexported. Sketch must produce the same sparse
// keys, the same registers and the same floating-point estimate as upstream,
// so they are copied with their expressions unchanged; the tests compare
// every one of them against the library itself.

const (
	// pp is the sparse precision of axiomhq's format version 2.
	pp = uint8(25)
	// mp is the number of sparse registers, 2^pp.
	mp = uint32(1) << pp
	// hashSeed is the MetroHash64 seed axiomhq's Insert uses.
	hashSeed = 1337
)

func alpha(m float64) float64 {
	switch m {
	case 16:
		return 0.673
	case 32:
		return 0.697
	case 64:
		return 0.709
	}
	return 0.7213 / (1 + 1.079/m)
}

func getPosVal(x uint64, p uint8) (uint64, uint8) {
	i := bextr(x, 64-p, p) // {x63,...,x64-p}
	w := x<<p | 1<<(p-1)   // {x63-p,...,x0}
	rho := uint8(bits.LeadingZeros64(w)) + 1
	return i, rho
}

func linearCount(m uint32, v uint32) float64 {
	fm := float64(m)
	return fm * math.Log(fm/float64(v))
}

func bextr(v uint64, start, length uint8) uint64 {
	return (v >> start) & ((1 << length) - 1)
}

func bextr32(v uint32, start, length uint8) uint32 {
	return (v >> start) & ((1 << length) - 1)
}

func getIndex(k uint32, p, pp uint8) uint32 {
	if k&1 == 1 {
		return bextr32(k, 32-p, p)
	}
	return bextr32(k, pp-p+1, p)
}

// encodeHash encodes a hash as a sparse key.
func encodeHash(x uint64, p, pp uint8) uint32 {
	idx := uint32(bextr(x, 64-pp, pp))
	if bextr(x, 64-pp, pp-p) == 0 {
		zeros := bits.LeadingZeros64((bextr(x, 0, 64-pp)<<pp)|(1<<pp-1)) + 1
		return idx<<7 | uint32(zeros<<1) | 1
	}
	return idx << 1
}

// decodeHash turns a sparse key back into a register index and value.
func decodeHash(k uint32, p, pp uint8) (uint32, uint8) {
	var r uint8
	if k&1 == 1 {
		r = uint8(bextr32(k, 1, 6)) + pp - p
	} else {
		// We can use the 64bit clz implementation and reduce the result
		// by 32 to get a clz for a 32bit word.
		r = uint8(bits.LeadingZeros64(uint64(k<<(32-pp+p-1))) - 31) // -32 + 1
	}
	return getIndex(k, p, pp), r
}

// maxRho is the largest register value precision p can produce.
func maxRho(p uint8) uint8 { return 64 - p + 1 }

// varintLen is the number of bytes axiomhq's delta varint stream spends on x.
func varintLen(x uint32) int {
	return (bits.Len32(x|1) + 6) / 7
}
