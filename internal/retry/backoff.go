package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes waits that double from Min up to Max, each with ±20 % jitter so that
// instances restarting together do not retry in step.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff waits 200 ms, then 400 ms, ... up to 5 s between attempts.
var DefaultBackoff = Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}

// Delay is the wait before attempt n+1 after n failed attempts (n >= 1).
func (b Backoff) Delay(n int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultBackoff.Min
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	jitter := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
	return d + jitter
}

// Sleep waits Delay(n), or less if ctx ends first; it reports whether the full wait passed.
func (b Backoff) Sleep(ctx context.Context, n int) bool {
	t := time.NewTimer(b.Delay(n))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
