//go:build goexperiment.simd && amd64

package codec

import "simd/archsimd"

// useAVX2 selects the AVX2 block scan; without AVX2 the portable one runs.
var useAVX2 = archsimd.X86.AVX2()

// classifyBlock is the block scan of this build: AVX2 compares over two 32-byte halves,
// their masks moved to bitmaps (VPMOVMSKB), when the CPU has AVX2.
func classifyBlock(p *[64]byte) (quote, back uint64, ctrl bool) {
	if !useAVX2 {
		return classifyBlockSWAR(p)
	}
	return classifyBlockAVX2(p)
}

func classifyBlockAVX2(p *[64]byte) (quote, back uint64, ctrl bool) {
	a := archsimd.LoadUint8x32((*[32]uint8)(p[:32]))
	b := archsimd.LoadUint8x32((*[32]uint8)(p[32:]))
	q := archsimd.BroadcastUint8x32('"')
	s := archsimd.BroadcastUint8x32('\\')
	c := archsimd.BroadcastUint8x32(0x1f)
	quote = uint64(a.Equal(q).ToBits()) | uint64(b.Equal(q).ToBits())<<32
	back = uint64(a.Equal(s).ToBits()) | uint64(b.Equal(s).ToBits())<<32
	// A byte is below 0x20 exactly when max(byte, 0x1f) is 0x1f.
	ctrl = a.Max(c).Equal(c).ToBits()|b.Max(c).Equal(c).ToBits() != 0
	return quote, back, ctrl
}
