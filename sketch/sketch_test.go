package sketch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// uids returns n distinct uid-like byte strings drawn from seed.
func uids(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x6b756e6971))
	seen := make(map[uint64]bool, n)
	out := make([][]byte, 0, n)
	for len(out) < n {
		v := r.Uint64() >> 12 // 13 hex digits, like a short challenge uid
		if seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, fmt.Appendf(nil, "%019x", v))
	}
	return out
}

// hashes returns n distinct-uid hashes drawn from seed.
func hashes(seed uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i, u := range uids(seed, n) {
		out[i] = Hash(u)
	}
	return out
}

func mustNew(t testing.TB, p uint8) *Sketch {
	t.Helper()
	s, err := New(p)
	if err != nil {
		t.Fatalf("New(%d): %v", p, err)
	}
	return s
}

func upstream(t testing.TB, p uint8) *hyperloglog.Sketch {
	t.Helper()
	h, err := hyperloglog.NewSketch(p, true)
	if err != nil {
		t.Fatalf("hyperloglog.NewSketch(%d): %v", p, err)
	}
	return h
}

func TestNewPrecision(t *testing.T) {
	for _, tc := range []struct {
		p      uint8
		wantOK bool
	}{
		{0, false}, {3, false}, {4, true}, {DefaultPrecision, true}, {18, true}, {19, false}, {255, false},
	} {
		s, err := New(tc.p)
		if gotOK := err == nil; gotOK != tc.wantOK {
			t.Errorf("New(%d) error = %v, want ok = %v", tc.p, err, tc.wantOK)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrPrecision) {
				t.Errorf("New(%d) error = %v, want it to wrap ErrPrecision", tc.p, err)
			}
			continue
		}
		if got := s.Precision(); got != tc.p {
			t.Errorf("New(%d).Precision() = %d, want %d", tc.p, got, tc.p)
		}
		if got := s.Estimate(); got != 0 {
			t.Errorf("New(%d).Estimate() = %d, want 0", tc.p, got)
		}
	}
}

// TestHashIsInsert proves InsertHash(Hash(b)) == axiomhq's Insert(b): the
// canonical encoding of a sketch fed through Hash equals that of axiomhq's
// sketch decoded by UnmarshalBinary.
func TestHashIsInsert(t *testing.T) {
	for _, n := range []int{1, 100, 3000, 20000} {
		mine, theirs := mustNew(t, 14), upstream(t, 14)
		for _, u := range uids(uint64(n), n) {
			mine.InsertHash(Hash(u))
			theirs.Insert(u)
		}
		raw, err := theirs.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var decoded Sketch
		if err := decoded.UnmarshalBinary(raw); err != nil {
			t.Fatalf("n=%d: UnmarshalBinary(axiomhq bytes): %v", n, err)
		}
		got, _ := decoded.MarshalBinary()
		want, _ := mine.MarshalBinary()
		if !bytes.Equal(got, want) {
			t.Errorf("n=%d: axiomhq Insert and InsertHash(Hash) hold different state (%d vs %d bytes)", n, len(got), len(want))
		}
		if got, want := mine.Estimate(), theirs.Estimate(); got != want {
			t.Errorf("n=%d: Estimate() = %d, axiomhq says %d", n, got, want)
		}
	}
}

func TestHashDoesNotAllocate(t *testing.T) {
	uid := []byte("0123456789abcdef012")
	if got := testing.AllocsPerRun(100, func() { Hash(uid) }); got != 0 {
		t.Errorf("Hash allocates %v times per call, want 0", got)
	}
}

func TestPow2NegMatchesUpstream(t *testing.T) {
	for v := range pow2neg {
		if got, want := pow2neg[v], 1.0/math.Pow(2.0, float64(v)); got != want {
			t.Errorf("pow2neg[%d] = %g, want %g", v, got, want)
		}
	}
}

// TestEstimateMatchesUpstream feeds the same hashes to Sketch and to axiomhq
// at every precision, through the sparse range, across the sparse→dense
// switch and well into dense, and wants identical estimates.
func TestEstimateMatchesUpstream(t *testing.T) {
	// Dense at high precision is covered by TestDenseEstimateMatchesUpstream;
	// filling axiomhq's sparse sketch past 30k users is slow under -race.
	ns := []int{0, 1, 2, 10, 100, 1000, 5000, 8000, 30000}
	for p := uint8(MinPrecision); p <= MaxPrecision; p++ {
		hs := hashes(uint64(p), ns[len(ns)-1])
		mine, theirs := mustNew(t, p), upstream(t, p)
		done := 0
		for _, n := range ns {
			for ; done < n; done++ {
				mine.InsertHash(hs[done])
				theirs.InsertHash(hs[done])
			}
			// axiomhq's Estimate compacts its state; keep ours the
			// untouched reference by comparing against a clone.
			if got, want := mine.Estimate(), theirs.Clone().Estimate(); got != want {
				t.Errorf("p=%d n=%d: Estimate() = %d, axiomhq says %d (sparse=%v)", p, n, got, want, mine.Sparse())
			}
		}
	}
}

// denseBytes is an axiomhq format 2 dense encoding of regs.
func denseBytes(p uint8, regs []uint8) []byte {
	b := []byte{2, p, 0, 0}
	b = binary.BigEndian.AppendUint32(b, uint32(len(regs)))
	return append(b, regs...)
}

// TestDenseEstimateMatchesUpstream checks the histogram estimator and the
// copied beta polynomials against axiomhq on random registers: every
// precision, empty-register counts from none to all, and huge register
// values that force the exact-order fallback.
func TestDenseEstimateMatchesUpstream(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for p := uint8(MinPrecision); p <= MaxPrecision; p++ {
		m := 1 << p
		trials := 12
		if p > 16 {
			trials = 3
		}
		for trial := range trials {
			zeroFrac := float64(trial) / float64(trials-1)
			regs := make([]uint8, m)
			for i := range regs {
				if r.Float64() < zeroFrac {
					continue
				}
				regs[i] = uint8(1 + r.IntN(12))
			}
			if trial%3 == 2 {
				// Values this large make the histogram sum inexact.
				regs[r.IntN(m)] = maxRho(p)
				regs[r.IntN(m)] = maxRho(p) - 1
			}
			raw := denseBytes(p, regs)
			var mine Sketch
			if err := mine.UnmarshalBinary(raw); err != nil {
				t.Fatalf("p=%d: UnmarshalBinary: %v", p, err)
			}
			var theirs hyperloglog.Sketch
			if err := theirs.UnmarshalBinary(raw); err != nil {
				t.Fatal(err)
			}
			if got, want := mine.Estimate(), theirs.Estimate(); got != want {
				t.Errorf("p=%d trial=%d: Estimate() = %d, axiomhq says %d", p, trial, got, want)
			}
		}
	}
}

func TestMergePrecisionMismatch(t *testing.T) {
	a, b := mustNew(t, 14), mustNew(t, 16)
	a.InsertHash(1)
	b.InsertHash(2)
	err := a.Merge(b)
	if !errors.Is(err, ErrPrecision) {
		t.Fatalf("Merge(p16 into p14) = %v, want an error wrapping ErrPrecision", err)
	}
	if got, want := a.Estimate(), uint64(1); got != want {
		t.Errorf("after failed Merge, Estimate() = %d, want %d (unchanged)", got, want)
	}
	if err := a.Merge(nil); err != nil {
		t.Errorf("Merge(nil) = %v, want nil", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	for _, n := range []int{50, 20000} {
		s := mustNew(t, 14)
		hs := hashes(3, 2*n)
		for _, h := range hs[:n] {
			s.InsertHash(h)
		}
		want := s.Estimate()
		c := s.Clone()
		for _, h := range hs[n:] {
			c.InsertHash(h)
		}
		if got := s.Estimate(); got != want {
			t.Errorf("n=%d: inserting into a clone changed the original: %d, want %d", n, got, want)
		}
		if c.Estimate() <= want {
			t.Errorf("n=%d: clone estimate %d did not grow past %d", n, c.Estimate(), want)
		}
	}
}

func TestReset(t *testing.T) {
	s := mustNew(t, 12)
	for _, h := range hashes(4, 10000) {
		s.InsertHash(h)
	}
	s.Reset()
	if !s.Sparse() || s.Estimate() != 0 || s.Precision() != 12 {
		t.Errorf("after Reset: sparse=%v estimate=%d precision=%d, want true 0 12", s.Sparse(), s.Estimate(), s.Precision())
	}
	fresh := mustNew(t, 12)
	for _, h := range hashes(5, 300) {
		s.InsertHash(h)
		fresh.InsertHash(h)
	}
	if got, want := s.Estimate(), fresh.Estimate(); got != want {
		t.Errorf("reused sketch Estimate() = %d, fresh one %d", got, want)
	}
}
