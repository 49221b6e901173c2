package sketch

import "math"

// pow2neg[v] is 2^-v, which is exactly what axiomhq's 1.0/math.Pow(2.0, v)
// yields for an integer v (both are powers of two; the tests check all v).
var pow2neg = func() (t [66]float64) {
	for v := range t {
		t[v] = math.Ldexp(1, -v)
	}
	return t
}()

// Estimate returns the cardinality estimate: the same uint64 that
// axiomhq/hyperloglog's Estimate returns for the same inserted hashes, bit
// for bit, without its cost. It only reads s (unlike axiomhq's, which
// compacts sparse state), so concurrent Estimate, MarshalBinary and Clone
// calls on one sketch are safe as long as nothing mutates it.
//
// Sparse: linear counting over 2^25 buckets from |K|, O(1). Dense: the
// LogLog-Beta formula, where axiomhq spends ~1 ms on a math.Pow per
// register; here the harmonic sum comes from the register histogram in at
// most 66 steps. That sum is exact, and equal to upstream's sequential one,
// whenever every partial sum fits float64's 53-bit mantissa, i.e. when
// p + (largest register) <= 53; otherwise (sketches of ~2^40 users, or
// hostile input) Estimate falls back to upstream's order over all
// registers, so the result is identical either way.
func (s *Sketch) Estimate() uint64 {
	if s.regs == nil {
		count := uint32(len(s.sorted) + len(s.pending))
		return uint64(linearCount(mp, mp-min(count, mp-1)))
	}
	top := len(s.hist) - 1
	for top > 0 && s.hist[top] == 0 {
		top--
	}
	var sum float64
	if int(s.p)+top <= 53 {
		for v := 0; v <= top; v++ {
			sum += float64(s.hist[v]) * pow2neg[v]
		}
	} else {
		for _, v := range s.regs {
			sum += pow2neg[v]
		}
	}
	ez := float64(s.hist[0])
	m := float64(s.m)
	est := alpha(m) * m * (m - ez) / (sum + beta(s.p, ez))
	return uint64(est + 0.5)
}
