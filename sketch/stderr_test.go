package sketch

import (
	"fmt"
	"math"
	"testing"
)

func TestStdError(t *testing.T) {
	tests := []struct {
		name  string
		p     uint8
		users int
		want  float64
	}{
		{"empty is exact", 14, 0, 0},
		{"sparse, a few users: linear counting over 2^25", 14, 100, 0.0001221},
		{"sparse just below the switch", 14, 7000, 0.0001221},
		{"dense p=14", 14, 20000, 0.008125},
		{"dense p=16", 16, 40000, 0.004063},
		{"dense p=10", 10, 2000, 0.0325},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.users {
				s.Insert(fmt.Appendf(nil, "u%d", i))
			}
			if got := s.StdError(); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("StdError(p=%d, %d users, sparse=%v) = %g, want %g", tc.p, tc.users, s.Sparse(), got, tc.want)
			}
		})
	}
}

func TestTheoreticalError(t *testing.T) {
	for p, want := range map[uint8]float64{4: 0.26, 12: 0.01625, 14: 0.008125, 18: 0.002031} {
		if got := TheoreticalError(p); math.Abs(got-want) > 1e-12 {
			t.Errorf("TheoreticalError(%d) = %g, want %g", p, got, want)
		}
	}
}
