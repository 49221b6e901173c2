//go:build goexperiment.simd && amd64

package codec

// blockScans are the block scans this build and CPU can run, by name: the build's choice,
// the portable one, and each SIMD width the CPU has.
func blockScans() map[string]func(*[64]byte) (uint64, uint64, bool) {
	m := map[string]func(*[64]byte) (uint64, uint64, bool){"build": classifyBlock, "swar": classifyBlockSWAR}
	if useAVX2 {
		m["avx2"] = classifyBlockAVX2
	}
	if useAVX512 {
		m["avx512"] = classifyBlockAVX512
	}
	return m
}
