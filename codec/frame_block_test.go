package codec

import (
	"math/rand/v2"
	"testing"
)

// randomBlockBytes returns n bytes biased toward what the block scan looks for: quotes,
// backslashes (often in runs), control bytes and bytes that differ from them by one bit.
func randomBlockBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		switch rng.IntN(10) {
		case 0, 1:
			b[i] = '"'
		case 2, 3, 4:
			b[i] = '\\'
		case 5:
			b[i] = byte(rng.IntN(0x21))
		case 6:
			b[i] = []byte{'"' ^ 1, '\\' ^ 1, '"' | 0x80, '\\' | 0x80, 0x20, 0x7f, 0xff}[rng.IntN(7)]
		default:
			b[i] = byte(rng.IntN(256))
		}
	}
	return b
}

func naiveClassify(p *[64]byte) (quote, back uint64, ctrl bool) {
	for i, c := range p {
		if c == '"' {
			quote |= 1 << i
		}
		if c == '\\' {
			back |= 1 << i
		}
		ctrl = ctrl || c < 0x20
	}
	return quote, back, ctrl
}

// TestClassifyBlock checks every block scan this build and CPU can run against a
// byte loop.
func TestClassifyBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		p := (*[64]byte)(randomBlockBytes(rng, 64))
		wq, wb, wc := naiveClassify(p)
		for name, f := range blockScans() {
			if q, b, c := f(p); q != wq || b != wb || c != wc {
				t.Fatalf("%s classify(%q) = %x %x %v, want %x %x %v", name, p, q, b, c, wq, wb, wc)
			}
		}
	}
}

// naiveRealQuotes returns the offsets of the quotes not escaped by an odd run of
// backslashes.
func naiveRealQuotes(b []byte) []int {
	var qs []int
	run := 0
	for i, c := range b {
		switch {
		case c == '\\':
			run++
			continue
		case c == '"' && run%2 == 0:
			qs = append(qs, i)
		}
		run = 0
	}
	return qs
}

// TestQuoteIndex checks the first pass's escape arithmetic (runs of backslashes of every
// length, across blocks and refills) against a byte loop: the quote list holds exactly the
// real quotes, in order.
func TestQuoteIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := range 2000 {
		size := 1 + rng.IntN(300)
		if n%50 == 0 {
			size = chunkBlocks*64*2 + rng.IntN(200) // several refills
		}
		line := randomBlockBytes(rng, size)
		for i, c := range line {
			// Only letters that make valid escapes, so the pass never stops and the
			// backslash runs decide everything.
			if c != '"' && c != '\\' {
				line[i] = "nbfrt/"[c%6]
			}
		}
		line = append(line, 'n') // no escape runs off the end
		var d FrameDecoder
		d.qx.reset()
		var got []int
		for {
			q, ok := d.nextQuote(line)
			if !ok {
				break
			}
			got = append(got, q)
		}
		want := naiveRealQuotes(line)
		if len(got) != len(want) {
			t.Fatalf("line %q: %d real quotes, want %d", line, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %q: real quote %d at %d, want %d", line, i, got[i], want[i])
			}
		}
	}
}

func TestPrefixXor(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for range 1000 {
		x := rng.Uint64()
		got, want := prefixXor(x), uint64(0)
		var acc uint64
		for i := range 64 {
			acc ^= x >> i & 1
			want |= acc << i
		}
		if got != want {
			t.Fatalf("prefixXor(%x) = %x, want %x", x, got, want)
		}
	}
}

// BenchmarkClassifyBlock is the block scan alone over the challenge frames' bytes, the
// build's, the portable one and (with GOEXPERIMENT=simd) each SIMD width the CPU has.
//
//	go test -run '^$' -bench ClassifyBlock ./codec/
func BenchmarkClassifyBlock(b *testing.B) {
	var all []byte
	for _, l := range sampleLines(b) {
		all = append(all, l...)
	}
	blocks := len(all) / 64
	for name, f := range blockScans() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(64)
			b.ReportAllocs()
			var sink uint64
			i := 0
			for b.Loop() {
				q, bs, c := f((*[64]byte)(all[i*64 : i*64+64]))
				sink += q ^ bs
				if c {
					sink++
				}
				if i++; i == blocks {
					i = 0
				}
			}
			if sink == 1 {
				b.Log(sink)
			}
		})
	}
}
