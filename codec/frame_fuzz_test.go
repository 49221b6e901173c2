package codec

import (
	"math/rand/v2"
	"testing"
	"time"
)

// FuzzDecodeFrame checks that Decode never panics and agrees with the encoding/json reference
// on every input: validity, reason, ts and uid. It is seeded with the 1,000 challenge frames,
// the table cases and the corpus in testdata/fuzz/FuzzDecodeFrame.
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

// fuzzConfigs are the configurations FuzzDecodeFramePath and FuzzDecodeFrameUnit choose from
// (and TestDecodeGeneratedMatchesReference runs): the default first, nested paths sharing an
// object, a key with a dot, paths onto the challenge data's own decoys and Lorem keys, and
// every ts unit.
var fuzzConfigs = []FrameConfig{
	{},
	{UIDField: "user.id", TSField: "user.ts"},
	{UIDField: "user.id", TSField: "meta.time", TSUnit: time.Millisecond},
	{UIDField: `a\.b`, TSField: "m.t.s", TSUnit: time.Microsecond},
	{UIDField: "Duis.uid", TSField: "Duis.ts"},
	{UIDField: "Lorem", TSField: "ipsum", TSUnit: time.Nanosecond},
	{TSUnit: time.Millisecond},
	{TSUnit: time.Microsecond},
	{TSUnit: time.Nanosecond},
}

// fuzzConfig fuzzes Decode under the configurations fuzzConfigs[sels[sel]], seeded with
// challenge frames, the matching table cases and generated frames planted along each path.
func fuzzConfig(f *testing.F, sels []uint8) {
	lines := sampleLines(f)
	rng := rand.New(rand.NewPCG(5, 6))
	for j, i := range sels {
		for _, line := range lines[:50] {
			f.Add(uint8(j), line)
		}
		g := newFrameGen(rng, fuzzConfigs[i])
		for range 50 {
			f.Add(uint8(j), g.frame())
		}
		for _, tc := range decodeCases {
			if tc.cfg == fuzzConfigs[i] {
				f.Add(uint8(j), []byte(tc.line))
			}
		}
	}
	decoders := make([]*FrameDecoder, len(fuzzConfigs))
	for i, c := range fuzzConfigs {
		var err error
		if decoders[i], err = NewFrameDecoder(c); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, line []byte) {
		i := int(sels[int(sel)%len(sels)])
		checkAgainstRefWith(t, decoders[i], line, fuzzConfigs[i])
	})
}

// FuzzDecodeFramePath is FuzzDecodeFrame with nested and unusual field paths.
func FuzzDecodeFramePath(f *testing.F) { fuzzConfig(f, []uint8{1, 2, 3, 4, 5}) }

// FuzzDecodeFrameUnit is FuzzDecodeFrame with every ts unit, at the root and nested.
func FuzzDecodeFrameUnit(f *testing.F) { fuzzConfig(f, []uint8{6, 7, 8, 2, 3, 5}) }
