package sketch

import (
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// The benchmarks run each operation on Sketch and, as the baseline it was
// designed against, on axiomhq/hyperloglog directly ("impl=axiomhq").
// Compare with: go test -run XXX -bench . -benchmem ./sketch/ | benchstat.

// inserter is what both implementations offer.
type inserter interface{ InsertHash(uint64) }

func impls(b *testing.B, p uint8) map[string]func() inserter {
	return map[string]func() inserter{
		"impl=sketch":  func() inserter { return mustNew(b, p) },
		"impl=axiomhq": func() inserter { return upstream(b, p) },
	}
}

// BenchmarkInsert: unique users go to fresh hashes; repeated users cycle
// through a fixed population already in the sketch (a busy minute window:
// ~60k frames from ~45k users). "sparse" keeps the population below the
// dense switch at p=14 (5,000 users), "dense" above it (45,000 users).
func BenchmarkInsert(b *testing.B) {
	for _, mode := range []struct {
		name string
		pop  int
	}{{"sparse", 5000}, {"dense", 45000}} {
		pop := hashes(11, mode.pop)
		fresh := hashes(12, 1<<16)
		for name, mk := range impls(b, 14) {
			b.Run("users=repeated/"+mode.name+"/"+name, func(b *testing.B) {
				s := mk()
				for _, h := range pop {
					s.InsertHash(h)
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					s.InsertHash(pop[i])
					if i++; i == len(pop) {
						i = 0
					}
				}
			})
			b.Run("users=unique/"+mode.name+"/"+name, func(b *testing.B) {
				// Unique users from an empty sketch up to the population
				// size, then start over: the cost of filling a window.
				s := mk()
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					s.InsertHash(fresh[i])
					if i++; i == mode.pop {
						b.StopTimer()
						s, i = mk(), 0
						b.StartTimer()
					}
				}
			})
		}
	}
}

// BenchmarkInsertSix is the per-frame cost for six granularities, as the
// engine pays it: hash the uid once, insert the hash into six sketches, at
// the steady state of a busy hour (every sketch dense).
func BenchmarkInsertSix(b *testing.B) {
	us := uids(21, 45000)
	ss := make([]*Sketch, 6)
	for i := range ss {
		ss[i] = mustNew(b, 14)
	}
	insert := func(uid []byte) {
		h := Hash(uid)
		for _, s := range ss {
			s.InsertHash(h)
		}
	}
	for _, u := range us {
		insert(u)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		insert(us[i])
		if i++; i == len(us) {
			i = 0
		}
	}
}

func BenchmarkHash(b *testing.B) {
	uid := []byte("2b7b0a8c6f1e5d3a4c9")
	b.ReportAllocs()
	for b.Loop() {
		Hash(uid)
	}
}

func BenchmarkEstimate(b *testing.B) {
	for _, mode := range []struct {
		name string
		n    int
	}{{"sparse", 5000}, {"dense", 45000}} {
		hs := hashes(31, mode.n)
		b.Run(mode.name+"/impl=sketch", func(b *testing.B) {
			s := build(b, 14, hs)
			b.ReportAllocs()
			for b.Loop() {
				s.Estimate()
			}
		})
		b.Run(mode.name+"/impl=axiomhq", func(b *testing.B) {
			s := upstream(b, 14)
			for _, h := range hs {
				s.InsertHash(h)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Estimate()
			}
		})
	}
}

func BenchmarkMerge(b *testing.B) {
	for _, mode := range []struct {
		name string
		n    int
	}{{"sparse", 2000}, {"dense", 45000}} {
		x, y := hashes(41, mode.n), hashes(42, mode.n)
		b.Run(mode.name+"/impl=sketch", func(b *testing.B) {
			dst, src := build(b, 14, x), build(b, 14, y)
			b.ReportAllocs()
			for b.Loop() {
				d := dst.Clone()
				if err := d.Merge(src); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/impl=axiomhq", func(b *testing.B) {
			dst, src := upstream(b, 14), upstream(b, 14)
			for i := range x {
				dst.InsertHash(x[i])
				src.InsertHash(y[i])
			}
			b.ReportAllocs()
			for b.Loop() {
				d := dst.Clone()
				if err := d.Merge(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, mode := range []struct {
		name string
		n    int
	}{{"sparse", 2000}, {"dense", 45000}} {
		hs := hashes(51, mode.n)
		s := build(b, 14, hs)
		theirs := upstream(b, 14)
		for _, h := range hs {
			theirs.InsertHash(h)
		}
		raw, _ := s.MarshalBinary()
		b.Run("marshal/"+mode.name+"/impl=sketch", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, len(raw))
			for b.Loop() {
				buf, _ = s.AppendBinary(buf[:0])
			}
		})
		b.Run("marshal/"+mode.name+"/impl=axiomhq", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, len(raw))
			for b.Loop() {
				buf, _ = theirs.AppendBinary(buf[:0])
			}
		})
		b.Run("unmarshal/"+mode.name+"/impl=sketch", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var d Sketch
				if err := d.UnmarshalBinary(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("unmarshal/"+mode.name+"/impl=axiomhq", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var d hyperloglog.Sketch
				if err := d.UnmarshalBinary(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFill is the cost per hash of filling a fresh sketch, as stage 1 does with every
// flush's partials: pop distinct users once each (sparse: 5,000 stay below the dense switch;
// dense: 45,000 cross it at ~7,750), one op being one whole sketch, by InsertHash on each and
// by a Builder.
func BenchmarkFill(b *testing.B) {
	for _, mode := range []struct {
		name string
		pop  int
	}{{"sparse", 5000}, {"dense", 45000}} {
		hs := hashes(13, mode.pop)
		b.Run(mode.name+"/InsertHash", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := mustNew(b, 14)
				for _, h := range hs {
					s.InsertHash(h)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mode.pop), "ns/hash")
		})
		b.Run(mode.name+"/Builder", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bd := NewBuilder(mustNew(b, 14))
				for _, h := range hs {
					bd.Insert(h)
				}
				bd.Sketch()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mode.pop), "ns/hash")
		})
	}
}
