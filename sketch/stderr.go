package sketch

import "math"

// StdError is the relative standard error of s's estimate, rounded to 4 significant digits:
// what a result record reports beside the estimate.
//
// Dense, it is HyperLogLog's 1.04/√(2^p) (0.81 % at p = 14). Sparse, the estimate is linear
// counting over 2^25 buckets, whose relative standard error at n users is √(m(e^t − t − 1))/n
// with m = 2^25 and t = n/m (Whang et al., 1990): about 1/√(2m) ≈ 0.012 % below the
// sparse→dense switch, which is why small windows are near exact (docs/accuracy.md). An empty
// sketch is exact: 0.
func (s *Sketch) StdError() float64 {
	if s.regs == nil {
		n := float64(s.Estimate())
		if n == 0 {
			return 0
		}
		m := float64(mp)
		t := n / m
		return round4(math.Sqrt(m*(math.Expm1(t)-t)) / n)
	}
	return TheoreticalError(s.p)
}

// TheoreticalError is the relative standard error of a dense sketch of precision p,
// 1.04/√(2^p), rounded to 4 significant digits.
func TheoreticalError(p uint8) float64 {
	return round4(1.04 / math.Sqrt(float64(uint64(1)<<p)))
}

// round4 rounds x > 0 to 4 significant digits, so records carry a short, stable number.
func round4(x float64) float64 {
	e := math.Floor(math.Log10(x))
	scale := math.Pow(10, 3-e)
	return math.Round(x*scale) / scale
}
