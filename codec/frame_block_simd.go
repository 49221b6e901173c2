//go:build goexperiment.simd && amd64

package codec

import "simd/archsimd"

// useAVX2 selects the AVX2 block scan; without AVX2 the portable one runs. useAVX512
// (AVX-512F/BW/CD/DQ/VL, which imply AVX2) selects compares over the whole 64-byte block
// into mask registers instead.
var (
	useAVX2   = archsimd.X86.AVX2()
	useAVX512 = archsimd.X86.AVX512()
)

// classifyBlock is the block scan of this build: AVX-512 compares over the block, or AVX2
// compares over its two 32-byte halves with their masks moved to bitmaps (VPMOVMSKB), or
// the portable scan, whichever the CPU has.
func classifyBlock(p *[64]byte) (quote, back uint64, ctrl bool) {
	switch {
	case useAVX512:
		return classifyBlockAVX512(p)
	case useAVX2:
		return classifyBlockAVX2(p)
	}
	return classifyBlockSWAR(p)
}

func classifyBlockAVX512(p *[64]byte) (quote, back uint64, ctrl bool) {
	v := archsimd.LoadUint8x64(p)
	quote = v.Equal(archsimd.BroadcastUint8x64('"')).ToBits()
	back = v.Equal(archsimd.BroadcastUint8x64('\\')).ToBits()
	ctrl = v.Less(archsimd.BroadcastUint8x64(0x20)).ToBits() != 0
	return quote, back, ctrl
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
