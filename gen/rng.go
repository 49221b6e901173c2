package gen

import "math/rand/v2"

// rng is a PCG stream with the few draws the generator needs. It is a
// concrete type, not *rand.Rand, so the hot loop pays no interface calls.
type rng struct{ p rand.PCG }

func newRNG(seed uint64) rng {
	// Two different words so that Seed 0 is as good a stream as any.
	return rng{p: *rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)}
}

func (r *rng) u64() uint64 { return r.p.Uint64() }

// intn returns a value in [0, n) for 0 < n < 2^32 by Lemire's
// multiply-shift; the bias (below n/2^32) is irrelevant for test data.
func (r *rng) intn(n int) int {
	return int((r.p.Uint64() >> 32) * uint64(n) >> 32)
}

// pick returns a uniform element of s.
func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.p.Uint64()>>11) * 0x1p-53 }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// mix64 is SplitMix64's finaliser: a bijection on uint64, so distinct user
// indexes always get distinct uids.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
