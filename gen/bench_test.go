package gen

import (
	"io"
	"testing"
)

func benchWriteTo(b *testing.B, cfg Config) {
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := g.WriteTo(io.Discard); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(g.Stats().Bytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Count)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkWriteTo is the challenge's stream: frames plus the truth of all
// six granularities, to io.Discard.
func BenchmarkWriteTo(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Count = 20_000
	benchWriteTo(b, cfg)
}

// BenchmarkWriteToDirty adds every kind of bad data.
func BenchmarkWriteToDirty(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Count = 20_000
	cfg.DisorderPct, cfg.LatePct, cfg.BitFlipPct, cfg.MalformedPct = 10, 1, 1, 1
	benchWriteTo(b, cfg)
}

// BenchmarkTruthAdd is the truth's share: one counted frame into six
// granularities.
func BenchmarkTruthAdd(b *testing.B) {
	t := newTruth()
	r := newRNG(1)
	ts := int64(DefaultStart)
	b.ReportAllocs()
	for b.Loop() {
		t.add(ts, uint32(r.intn(DefaultPool)))
		if r.intn(DefaultRate) == 0 {
			ts++
		}
	}
}
