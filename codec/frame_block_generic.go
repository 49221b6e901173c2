//go:build !goexperiment.simd || !amd64

package codec

// classifyBlock is the block scan of this build: the portable one.
func classifyBlock(p *[64]byte) (quote, back uint64, ctrl bool) { return classifyBlockSWAR(p) }
