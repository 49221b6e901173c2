package gen

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults of the original challenge's generator run
// (`-c 1000000 -r 1000 -n 100000`).
const (
	DefaultCount      = 1_000_000
	DefaultRate       = 1000
	DefaultPool       = 100_000
	DefaultStart      = 1468244384 // 2016-07-11T13:39:44Z
	DefaultFrameBytes = 2080
	// DefaultDisorderMax matches "99.9 % of frames arrive within 5 s".
	DefaultDisorderMax = 5 * time.Second
	// DefaultLateBy is beyond kuniq's default allowed lateness of 1 h.
	DefaultLateBy = 2 * time.Hour
	// DefaultJumpBy is a gap in a replayed history.
	DefaultJumpBy = 72 * time.Hour

	// MinFrameBytes is the smallest FrameBytes accepted: room for the root
	// uid, ts and a decoy carrier.
	MinFrameBytes = 256
	// MaxTS is the largest ts a window may start at (9999-12-31T23:59:59Z).
	MaxTS = 253402300799
)

// ErrConfig is returned, wrapped, by Config.Validate and New when a Config
// field is out of range.
var ErrConfig = errors.New("gen: invalid config")

// Config says what to generate. A zero Rate, Pool, Start, FrameBytes,
// DisorderMax, LateBy or JumpBy takes its default, so Config{Count: n} is
// a clean challenge-like stream; the percentages default to zero (no bad
// data). Percentages are of all frames and may sum to at most 100.
type Config struct {
	Count int    // frames to write
	Rate  int    // r: the clock advances 1 s with probability 1/r per frame
	Pool  int    // n: distinct users; uids are 19 lowercase hex chars
	Seed  uint64 // the same Seed (and Config) gives the same bytes
	Start int64  // clock of the first frame, unix seconds

	// DisorderPct % of frames get ts lowered by uniform{1..DisorderMax} s.
	// They still count: DisorderMax must stay within the engine's allowed
	// out-of-orderness plus lateness.
	DisorderPct float64
	DisorderMax time.Duration
	// LatePct % of frames get ts lowered by LateBy plus a uniform extra in
	// [0, LateBy) below the newest counted ts; they must not count.
	LatePct float64
	LateBy  time.Duration
	// BitFlipPct % of frames get one bit of ts in [13, 40] flipped (a jump
	// of at least 2.3 h, ahead or behind; sometimes past MaxTS).
	BitFlipPct float64
	// MalformedPct % of lines are garbage: truncated JSON, no root uid or
	// ts, a uid that is not a string, a ts that is not an integer, binary
	// junk.
	MalformedPct float64
	// JumpEvery > 0 moves the clock forward by JumpBy before every
	// JumpEvery-th frame: a history with gaps.
	JumpEvery int
	JumpBy    time.Duration
	// FrameBytes is the target line length without the newline; lines fall
	// within about ±5 % of it.
	FrameBytes int
}

// DefaultConfig returns the original challenge's run: 1M frames, r = 1000,
// n = 100,000, starting 2016-07-11T13:39:44Z, ~2,080-byte frames, no
// disorder and no bad data (the knobs' magnitudes are set so that a
// percentage alone enables one).
func DefaultConfig() Config {
	return Config{
		Count:       DefaultCount,
		Rate:        DefaultRate,
		Pool:        DefaultPool,
		Seed:        1,
		Start:       DefaultStart,
		DisorderMax: DefaultDisorderMax,
		LateBy:      DefaultLateBy,
		JumpBy:      DefaultJumpBy,
		FrameBytes:  DefaultFrameBytes,
	}
}

// withDefaults fills the zero fields documented on Config.
func (c Config) withDefaults() Config {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Pool == 0 {
		c.Pool = DefaultPool
	}
	if c.Start == 0 {
		c.Start = DefaultStart
	}
	if c.FrameBytes == 0 {
		c.FrameBytes = DefaultFrameBytes
	}
	if c.DisorderMax == 0 {
		c.DisorderMax = DefaultDisorderMax
	}
	if c.LateBy == 0 {
		c.LateBy = DefaultLateBy
	}
	if c.JumpBy == 0 {
		c.JumpBy = DefaultJumpBy
	}
	return c
}

// Validate reports the first field out of range, wrapping ErrConfig. Zero
// fields are checked after taking their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	pct := func(name string, p float64) error {
		if math.IsNaN(p) || p < 0 || p > 100 {
			return fmt.Errorf("%s %v not in [0, 100]: %w", name, p, ErrConfig)
		}
		return nil
	}
	switch {
	case c.Count < 0:
		return fmt.Errorf("count %d < 0: %w", c.Count, ErrConfig)
	case c.Rate < 1:
		return fmt.Errorf("rate %d < 1: %w", c.Rate, ErrConfig)
	case c.Rate > math.MaxUint32:
		return fmt.Errorf("rate %d > 2^32-1: %w", c.Rate, ErrConfig)
	case c.Pool < 1 || c.Pool > math.MaxUint32:
		return fmt.Errorf("pool %d not in [1, 2^32-1]: %w", c.Pool, ErrConfig)
	case c.Start < 0 || c.Start > MaxTS:
		return fmt.Errorf("start %d not in [0, %d]: %w", c.Start, int64(MaxTS), ErrConfig)
	case c.FrameBytes < MinFrameBytes:
		return fmt.Errorf("frame bytes %d < %d: %w", c.FrameBytes, MinFrameBytes, ErrConfig)
	case c.DisorderMax < time.Second:
		return fmt.Errorf("disorder max %v < 1s: %w", c.DisorderMax, ErrConfig)
	case c.LateBy < time.Second:
		return fmt.Errorf("late by %v < 1s: %w", c.LateBy, ErrConfig)
	case c.DisorderMax >= c.LateBy:
		// A disordered frame must count and a late one must not.
		return fmt.Errorf("disorder max %v >= late by %v: %w", c.DisorderMax, c.LateBy, ErrConfig)
	case c.JumpEvery < 0:
		return fmt.Errorf("jump every %d < 0: %w", c.JumpEvery, ErrConfig)
	case c.JumpBy < 0:
		return fmt.Errorf("jump by %v < 0: %w", c.JumpBy, ErrConfig)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"disorder pct", c.DisorderPct}, {"late pct", c.LatePct}, {"bit flip pct", c.BitFlipPct}, {"malformed pct", c.MalformedPct}} {
		if err := pct(p.name, p.v); err != nil {
			return err
		}
	}
	if sum := c.DisorderPct + c.LatePct + c.BitFlipPct + c.MalformedPct; sum > 100 {
		return fmt.Errorf("percentages sum to %v > 100: %w", sum, ErrConfig)
	}
	return nil
}
