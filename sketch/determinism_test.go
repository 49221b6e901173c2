package sketch

import (
	"math/rand/v2"
	"testing"
)

// determinismCards are the cardinalities the property runs at; 7,400–8,100
// straddle the sparse→dense switch at p=14 (TestThresholdIsWhereExpected),
// so parts are sparse while their union is dense or crosses the switch.
var determinismCards = []int{0, 1, 10, 1000, 7400, 7700, 7750, 7800, 8100, 50000}

// build inserts hs in order into a new sketch.
func build(t testing.TB, p uint8, hs []uint64) *Sketch {
	s := mustNew(t, p)
	for _, h := range hs {
		s.InsertHash(h)
	}
	return s
}

// roundTrip returns s through MarshalBinary and UnmarshalBinary.
func roundTrip(t testing.TB, s *Sketch) *Sketch {
	t.Helper()
	raw, err := s.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	var out Sketch
	if err := out.UnmarshalBinary(raw); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	return &out
}

// scatter splits hs into k parts: a random assignment, with about dup of
// the items also sent to a second random part, each part shuffled.
func scatter(r *rand.Rand, hs []uint64, k int, dup float64) [][]uint64 {
	parts := make([][]uint64, k)
	for _, h := range hs {
		i := r.IntN(k)
		parts[i] = append(parts[i], h)
		if r.Float64() < dup {
			j := r.IntN(k)
			parts[j] = append(parts[j], h)
		}
	}
	for _, p := range parts {
		r.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
	}
	return parts
}

// TestSplitMergeDeterminism is the property the whole pipeline relies on:
// any split of the input into parts, any order, any duplication, any
// marshal round trips, merged in any order or tree shape, gives the same
// Estimate as one sketch fed everything in order, and the same as axiomhq.
func TestSplitMergeDeterminism(t *testing.T) {
	trials := 8
	if testing.Short() {
		trials = 4
	}
	for _, p := range []uint8{10, 14} {
		for _, n := range determinismCards {
			hs := hashes(uint64(n)*31+uint64(p), n)
			want := build(t, p, hs).Estimate()
			theirs := upstream(t, p)
			for _, h := range hs {
				theirs.InsertHash(h)
			}
			if got := theirs.Estimate(); got != want {
				t.Errorf("p=%d n=%d: axiomhq Estimate() = %d, Sketch %d", p, n, got, want)
			}
			r := rand.New(rand.NewPCG(uint64(n), uint64(p)))
			for trial := range trials {
				k := 1 + r.IntN(12)
				parts := scatter(r, hs, k, 0.3)
				sks := make([]*Sketch, k)
				for i, part := range parts {
					sks[i] = build(t, p, part)
					if r.IntN(2) == 0 {
						sks[i] = roundTrip(t, sks[i])
					}
					if r.IntN(4) == 0 {
						sks[i].Estimate() // must not disturb anything
					}
				}
				r.Shuffle(k, func(a, b int) { sks[a], sks[b] = sks[b], sks[a] })
				var got *Sketch
				if trial%2 == 0 {
					// Left fold.
					got = mustNew(t, p)
					for _, s := range sks {
						if err := got.Merge(s); err != nil {
							t.Fatal(err)
						}
						if r.IntN(3) == 0 {
							got = roundTrip(t, got)
						}
					}
				} else {
					// Pairwise tree, merging into the parts themselves.
					for len(sks) > 1 {
						var next []*Sketch
						for i := 0; i+1 < len(sks); i += 2 {
							if err := sks[i].Merge(sks[i+1]); err != nil {
								t.Fatal(err)
							}
							next = append(next, sks[i])
						}
						if len(sks)%2 == 1 {
							next = append(next, sks[len(sks)-1])
						}
						sks = next
					}
					got = sks[0]
				}
				if e := got.Estimate(); e != want {
					t.Errorf("p=%d n=%d trial=%d (k=%d): merged Estimate() = %d, want %d", p, n, trial, k, e, want)
				}
				// Re-inserting everything changes nothing.
				for _, h := range hs {
					got.InsertHash(h)
				}
				if e := got.Estimate(); e != want {
					t.Errorf("p=%d n=%d trial=%d: Estimate() after re-inserting all = %d, want %d", p, n, trial, e, want)
				}
			}
		}
	}
}

// TestThresholdIsWhereExpected pins down the switch the cardinalities above
// straddle: at p=14 a sketch goes dense between 7,400 and 8,100 users, so
// the determinism test covers sparse parts with a dense union.
func TestThresholdIsWhereExpected(t *testing.T) {
	hs := hashes(99, 9000)
	s := mustNew(t, 14)
	switchAt := -1
	for i, h := range hs {
		s.InsertHash(h)
		if !s.Sparse() {
			switchAt = i + 1
			break
		}
	}
	if switchAt < 7400 || switchAt > 8100 {
		t.Errorf("p=14 went dense after %d users, want within [7400, 8100]", switchAt)
	}
	t.Logf("p=14 went dense after %d users", switchAt)
}

// TestSparseDenseBoundaryAgreesWithUpstream walks user by user across the
// switch and checks every single estimate against axiomhq, and against a
// sketch rebuilt by merging two sparse halves.
func TestSparseDenseBoundaryAgreesWithUpstream(t *testing.T) {
	hs := hashes(2024, 8200)
	mine, theirs := mustNew(t, 14), upstream(t, 14)
	for i, h := range hs {
		mine.InsertHash(h)
		theirs.InsertHash(h)
		if i < 7300 || i%10 != 0 {
			continue
		}
		if got, want := mine.Estimate(), theirs.Clone().Estimate(); got != want {
			t.Fatalf("after %d users: Estimate() = %d, axiomhq %d (sparse=%v)", i+1, got, want, mine.Sparse())
		}
		half := build(t, 14, hs[:i/2+1])
		if err := half.Merge(build(t, 14, hs[i/2+1:i+1])); err != nil {
			t.Fatal(err)
		}
		if got, want := half.Estimate(), mine.Estimate(); got != want || half.Sparse() != mine.Sparse() {
			t.Fatalf("after %d users: two merged halves give %d (sparse=%v), one sketch %d (sparse=%v)", i+1, got, half.Sparse(), want, mine.Sparse())
		}
	}
}
