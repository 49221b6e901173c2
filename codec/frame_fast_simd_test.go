//go:build goexperiment.simd && amd64

package codec

import (
	"math/rand/v2"
	"testing"
)

// checkFast compares the structural scanner with the general one on line: the same syntax
// verdict, and on a valid line the same fields.
func checkFast(t testing.TB, d *FrameDecoder, line []byte, c *frameConfig) {
	t.Helper()
	if !useAVX2 {
		t.Skip("no AVX2: the structural scanner does not run")
	}
	_, what := d.scan(line, c)
	general := d.found
	fast := d.scanFast(line, c)
	// It may leave a valid line to the general scanner only when the line is too long or
	// nests deeper than its register stack.
	if valid := what == ""; fast && !valid || !fast && valid && len(line) <= fastMaxLine && nesting(line) <= 63 {
		t.Fatalf("scanFast(%q) = %v, the general scanner says valid = %v (%s)", line, fast, valid, what)
	}
	if fast && d.found != general {
		t.Fatalf("scanFast(%q) found %+v, the general scanner %+v", line, d.found, general)
	}
}

// simdWidths are the block scans of this build's SIMD paths; useWidth selects one.
var simdWidths = []struct {
	name   string
	avx512 bool
}{{"avx512", true}, {"avx2", false}}

// useWidth makes the decoder use AVX-512 (or AVX2) until tb ends, skipping tb when the CPU
// has no AVX-512.
func useWidth(tb testing.TB, avx512 bool) {
	if avx512 && !useAVX512 {
		tb.Skip("the CPU has no AVX-512")
	}
	detected := useAVX512
	useAVX512 = avx512
	tb.Cleanup(func() { useAVX512 = detected })
}

// vectorWidths runs f once per block scan this CPU has: AVX-512 (64-byte compares into
// mask registers) and AVX2 (two 32-byte halves).
func vectorWidths(t *testing.T, f func(t *testing.T)) {
	for _, w := range simdWidths {
		t.Run(w.name, func(t *testing.T) {
			useWidth(t, w.avx512)
			f(t)
		})
	}
}

// nesting returns the deepest nesting of a valid line.
func nesting(line []byte) int {
	depth, deepest, in := 0, 0, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == '{' || c == '['):
			depth++
			deepest = max(deepest, depth)
		case !in && (c == '}' || c == ']'):
			depth--
		}
	}
	return deepest
}

// TestFastMatchesGeneral runs the structural scanner on every kind of line the other tests
// use: the challenge frames (whole, corrupted, truncated), the table cases and generated
// frames for each root-key configuration.
func TestFastMatchesGeneral(t *testing.T) { vectorWidths(t, testFastMatchesGeneral) }

func testFastMatchesGeneral(t *testing.T) {
	var d FrameDecoder
	accepted := 0
	for _, line := range sampleLines(t) {
		checkFast(t, &d, line, defaultConfig)
		if d.scanFast(line, defaultConfig) {
			accepted++
		}
	}
	if accepted != 1000 {
		t.Errorf("scanFast accepted %d of the 1000 sample frames", accepted)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, line := range sampleLines(t) {
		for range 8 {
			checkFast(t, &d, mutate(rng, line), defaultConfig)
		}
		checkFast(t, &d, line[:rng.IntN(len(line))], defaultConfig)
	}
	for _, tc := range decodeCases {
		c, err := compileConfig(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.rootOnly {
			checkFast(t, &d, []byte(tc.line), c)
		}
	}
	for _, cfg := range fuzzConfigs {
		c, err := compileConfig(cfg)
		if err != nil || !c.rootOnly {
			continue
		}
		g := newFrameGen(rng, cfg)
		n := 20000
		if testing.Short() || raceEnabled {
			n = 2000
		}
		for range n {
			line := g.frame()
			if rng.IntN(3) == 0 {
				line = mutate(rng, line)
			}
			checkFast(t, &d, line, c)
		}
	}
}

// FuzzFastMatchesGeneral is TestFastMatchesGeneral's check on fuzzed lines.
func FuzzFastMatchesGeneral(f *testing.F) {
	for _, line := range sampleLines(f)[:100] {
		f.Add(line)
	}
	for _, tc := range decodeCases {
		f.Add([]byte(tc.line))
	}
	var d FrameDecoder
	detected := useAVX512
	f.Fuzz(func(t *testing.T, line []byte) {
		defer func() { useAVX512 = detected }()
		for _, on := range []bool{detected, false} { // AVX-512 if the CPU has it, then AVX2
			useAVX512 = on
			checkFast(t, &d, line, defaultConfig)
		}
	})
}

// BenchmarkDecodeFrameWidth is BenchmarkDecodeFrame/kuniq with each SIMD width the CPU
// has, in one run, so their ratio means something on a noisy machine.
//
//	GOEXPERIMENT=simd go test -run '^$' -bench DecodeFrameWidth ./codec/
func BenchmarkDecodeFrameWidth(b *testing.B) {
	lines := sampleLines(b)
	var total int
	for _, l := range lines {
		total += len(l)
	}
	for _, w := range simdWidths {
		b.Run(w.name, func(b *testing.B) {
			useWidth(b, w.avx512)
			var d FrameDecoder
			b.SetBytes(int64(total / len(lines)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if f, err := d.Decode(lines[i%len(lines)]); err != nil || f.TS == 0 {
					b.Fatalf("Decode: %v", err)
				}
				i++
			}
		})
	}
}
