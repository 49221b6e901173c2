//go:build !goexperiment.simd || !amd64

package codec

// Without GOEXPERIMENT=simd on amd64 there is no structural scanner (frame_fast_simd.go):
// every line goes through the general one.

//lint:ignore U1000 used by the GOEXPERIMENT=simd build only
type fastScratch struct{}

func (d *FrameDecoder) scanFast(b []byte, c *frameConfig) bool { return false }
