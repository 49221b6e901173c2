package sketch

import (
	"bytes"
	"errors"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

func TestMarshalRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		p          uint8
		n          int
		wantSparse bool
	}{
		{"empty p14", 14, 0, true},
		{"one p14", 14, 1, true},
		{"sparse p14", 14, 1000, true},
		{"dense p14", 14, 20000, false},
		{"sparse p16", 16, 5000, true},
		{"dense p16", 16, 60000, false},
		{"dense p4", 4, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := build(t, tc.p, hashes(uint64(tc.n), tc.n))
			if got := s.Sparse(); got != tc.wantSparse {
				t.Fatalf("Sparse() = %v, want %v", got, tc.wantSparse)
			}
			raw, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Sketch
			if err := got.UnmarshalBinary(raw); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if got.Estimate() != s.Estimate() || got.Sparse() != s.Sparse() || got.Precision() != s.Precision() {
				t.Errorf("round trip: estimate %d sparse %v p %d, want %d %v %d",
					got.Estimate(), got.Sparse(), got.Precision(), s.Estimate(), s.Sparse(), s.Precision())
			}
			// axiomhq reads our bytes and agrees on the estimate.
			var theirs hyperloglog.Sketch
			if err := theirs.UnmarshalBinary(raw); err != nil {
				t.Fatalf("axiomhq UnmarshalBinary of our bytes: %v", err)
			}
			if got, want := theirs.Estimate(), s.Estimate(); got != want {
				t.Errorf("axiomhq reads estimate %d from our bytes, want %d", got, want)
			}
			again, _ := got.MarshalBinary()
			if !bytes.Equal(again, raw) {
				t.Errorf("re-marshal after round trip differs (%d vs %d bytes)", len(again), len(raw))
			}
		})
	}
}

// TestUnmarshalUpstreamEncodings reads what axiomhq writes: sparse with a
// populated temporary set, a sparse list already past the dense limit (left
// so when Estimate was never called), and dense.
func TestUnmarshalUpstreamEncodings(t *testing.T) {
	for _, n := range []int{0, 150, 5000, 7900, 40000} {
		hs := hashes(uint64(n)+5, n)
		theirs := upstream(t, 14)
		for _, h := range hs {
			theirs.InsertHash(h)
		}
		raw, err := theirs.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Sketch
		if err := got.UnmarshalBinary(raw); err != nil {
			t.Fatalf("n=%d: UnmarshalBinary: %v", n, err)
		}
		want := build(t, 14, hs)
		if got.Estimate() != want.Estimate() || got.Sparse() != want.Sparse() {
			t.Errorf("n=%d: decoded estimate %d sparse %v, want %d %v", n, got.Estimate(), got.Sparse(), want.Estimate(), want.Sparse())
		}
		if e := theirs.Estimate(); e != want.Estimate() {
			t.Errorf("n=%d: axiomhq estimate %d, ours %d", n, e, want.Estimate())
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good, _ := build(t, 14, hashes(1, 300)).MarshalBinary()
	dense, _ := build(t, 14, hashes(1, 20000)).MarshalBinary()
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, hyperloglog.ErrorTooShort},
		{"header only", good[:4], hyperloglog.ErrorTooShort},
		{"bad version", append([]byte{9}, good[1:]...), hyperloglog.ErrorInvalidVersion},
		{"bad precision", append([]byte{2, 30}, good[2:]...), hyperloglog.ErrorInvalidPrecision},
		{"truncated sparse", good[:len(good)-1], hyperloglog.ErrorTooShort},
		{"trailing byte", append(append([]byte{}, good...), 0), hyperloglog.ErrorInvalidData},
		{"truncated dense", dense[:len(dense)-1], hyperloglog.ErrorTooShort},
		{"dense register too big", func() []byte { d := append([]byte{}, dense...); d[100] = 52; return d }(), hyperloglog.ErrorInvalidData},
		{"dense register count", func() []byte { d := append([]byte{}, dense...); d[7]++; return d }(), hyperloglog.ErrorInvalidData},
		{"dense bias byte", func() []byte { d := append([]byte{}, dense...); d[2] = 1; return d }(), hyperloglog.ErrorInvalidData},
		{"huge tmp set", []byte{2, 14, 0, 1, 0xff, 0xff, 0xff, 0xff}, hyperloglog.ErrorTooShort},
	} {
		var s Sketch
		err := s.UnmarshalBinary(tc.data)
		if !errors.Is(err, ErrEncoding) || !errors.Is(err, tc.want) {
			t.Errorf("%s: UnmarshalBinary error = %v, want ErrEncoding and %v", tc.name, err, tc.want)
		}
	}
	s := build(t, 14, hashes(2, 10))
	before := s.Estimate()
	if err := s.UnmarshalBinary([]byte{1, 2, 3}); err == nil {
		t.Fatal("UnmarshalBinary(garbage) = nil")
	}
	if got := s.Estimate(); got != before {
		t.Errorf("failed UnmarshalBinary changed the sketch: %d, want %d", got, before)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	for _, n := range []int{0, 1, 300, 20000} {
		raw, _ := build(f, 14, hashes(uint64(n), n)).MarshalBinary()
		f.Add(raw)
	}
	small, _ := build(f, 4, hashes(3, 40)).MarshalBinary()
	f.Add(small)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Sketch
		if err := s.UnmarshalBinary(data); err != nil {
			return
		}
		est := s.Estimate()
		raw, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded sketch: %v", err)
		}
		var again Sketch
		if err := again.UnmarshalBinary(raw); err != nil {
			t.Fatalf("re-decode of our own encoding: %v", err)
		}
		if got := again.Estimate(); got != est {
			t.Fatalf("estimate changed over a round trip: %d, want %d", got, est)
		}
		s.InsertHash(12345)
		_ = s.Merge(&again)
	})
}
