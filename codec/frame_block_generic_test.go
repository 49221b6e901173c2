//go:build !goexperiment.simd || !amd64

package codec

// blockScans are the block scans this build and CPU can run, by name.
func blockScans() map[string]func(*[64]byte) (uint64, uint64, bool) {
	return map[string]func(*[64]byte) (uint64, uint64, bool){"build": classifyBlock, "swar": classifyBlockSWAR}
}
