package codec

import "testing"

// FuzzDecodeFrame checks that Decode never panics and agrees with the
// encoding/json reference on every input: validity, reason, ts and uid. It
// is seeded with the 1,000 challenge frames, the table cases and the corpus
// in testdata/fuzz/FuzzDecodeFrame.
func FuzzDecodeFrame(f *testing.F) {
	for _, line := range sampleLines(f) {
		f.Add(line)
	}
	for _, tc := range decodeCases {
		f.Add([]byte(tc.line))
	}
	var d FrameDecoder
	f.Fuzz(func(t *testing.T, line []byte) {
		checkAgainstRef(t, &d, line)
	})
}
