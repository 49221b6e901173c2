package gen

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Kind classifies a generated line.
type Kind uint8

// The kinds of lines, in the order the per-frame draw tests them
// (Malformed first, Disordered last, Clean otherwise).
const (
	Clean      Kind = iota // ts is the clock
	Disordered             // ts lowered by 1..DisorderMax s; still counted
	Late                   // ts at least LateBy below the newest counted ts; not counted
	BitFlipped             // one bit of ts in [13, 40] flipped; not counted
	Malformed              // not a valid frame; not counted
	numKinds
)

var kindNames = [numKinds]string{"clean", "disordered", "late", "bitflipped", "malformed"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Counted reports whether kuniq must count frames of kind k.
func (k Kind) Counted() bool { return k == Clean || k == Disordered }

// FrameInfo describes one generated line, for tests and statistics.
type FrameInfo struct {
	Index int   // 0-based line number
	Kind  Kind  // what the line is
	Clock int64 // the stream's clock when the line was made
	TS    int64 // the root ts written (Malformed: the clock)
	User  int   // the user's index in the pool; its uid is UID(User)
	Bytes int   // line length without the newline
}

// Stats counts what WriteTo wrote.
type Stats struct {
	Lines int           // lines written
	Bytes int64         // bytes written, newlines included
	Kinds [numKinds]int // lines per Kind
	MinTS int64         // smallest counted ts (0 if none)
	MaxTS int64         // largest counted ts (0 if none)
}

// jumpGuard is how many frames after a clock jump Late frames still go
// below the pre-jump time too, so they are late whether or not the engine
// has yet confirmed the jump (docs/design.md, "Bit flips").
const jumpGuard = 10_000

// flushBytes is the write size of WriteTo.
const flushBytes = 1 << 20

// Generator writes the frames of one Config and keeps their truth. It is
// not safe for concurrent use.
type Generator struct {
	cfg     Config
	uidKey  uint64
	r       rng
	onFrame func(FrameInfo)
	truth   *truth
	stats   Stats
	buf     []byte
	// malformed counts lines per malformedKind, for tests.
	malformed [numMalformed]int
}

// New returns a Generator for cfg after filling its defaults; the error
// wraps ErrConfig when cfg is out of range.
func New(cfg Config) (*Generator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new generator: %w", err)
	}
	return &Generator{cfg: cfg, uidKey: mix64(cfg.Seed ^ 0x243f6a8885a308d3)}, nil
}

// Config returns the configuration in use, defaults filled.
func (g *Generator) Config() Config { return g.cfg }

// OnFrame sets fn to be called after each line WriteTo makes, in order;
// nil removes it.
func (g *Generator) OnFrame(fn func(FrameInfo)) { g.onFrame = fn }

// UID returns the uid of the user with index user, as written in frames.
func (g *Generator) UID(user int) string {
	u := appendUID(nil, g.uidKey, uint32(user))
	return string(u[1 : len(u)-1])
}

// Stats returns the counts of the last WriteTo.
func (g *Generator) Stats() Stats { return g.stats }

// WriteTo writes all Config.Count lines to w, one frame per line, and
// records their truth. Each call starts over and writes the same bytes. It
// returns the bytes written and the first write error, wrapped; after an
// error Truth and Stats cover the lines made so far.
func (g *Generator) WriteTo(w io.Writer) (int64, error) {
	cfg := g.cfg
	g.r = newRNG(cfg.Seed)
	g.truth = newTruth()
	g.stats = Stats{}
	g.malformed = [numMalformed]int{}
	if cap(g.buf) < flushBytes+4*cfg.FrameBytes {
		g.buf = make([]byte, 0, flushBytes+4*cfg.FrameBytes)
	}
	out := &lineWriter{w: w, buf: g.buf[:0]}
	st := g.newStream()
	for i := range cfg.Count {
		if cfg.JumpEvery > 0 && i > 0 && i%cfg.JumpEvery == 0 {
			st.clock += st.jumpBy
			st.preJump, st.sinceJump = st.newest, 0
		}
		user := uint32(g.r.intn(cfg.Pool))
		kind, ts := g.draw(st)

		from := len(out.buf)
		if kind == Malformed {
			out.buf = g.appendMalformed(out.buf, user, st.clock)
		} else {
			out.buf = g.appendFrame(out.buf, user, ts, fieldOK, fieldOK)
		}
		size := len(out.buf) - from
		out.buf = append(out.buf, '\n')
		g.account(st, FrameInfo{Index: i, Kind: kind, Clock: st.clock, TS: ts, User: int(user), Bytes: size})
		if len(out.buf) >= flushBytes {
			if err := out.flush(); err != nil {
				return out.written, err
			}
		}

		if cfg.Rate == 1 || g.r.intn(cfg.Rate) == 0 {
			st.clock++
		}
		st.sinceJump++
	}
	if len(out.buf) > 0 {
		if err := out.flush(); err != nil {
			return out.written, err
		}
	}
	g.buf = out.buf
	return out.written, nil
}

// lineWriter collects lines and writes them to w in large writes.
type lineWriter struct {
	w       io.Writer
	buf     []byte
	written int64
}

func (lw *lineWriter) flush() error {
	n, err := lw.w.Write(lw.buf)
	lw.written += int64(n)
	lw.buf = lw.buf[:0]
	if err != nil {
		return fmt.Errorf("write frames: %w", err)
	}
	return nil
}

// stream is WriteTo's state from frame to frame: the clock, and the newest counted ts that
// late frames are made late against.
type stream struct {
	// Cumulative thresholds of the per-frame draw, in [0, 1).
	tMal, tFlip, tLate, tDis float64
	disMax                   int
	lateBy, jumpBy           int64

	clock     int64
	newest    int64 // newest counted ts
	counted   bool  // any frame counted yet
	preJump   int64 // newest before the last jump
	sinceJump int
}

func (g *Generator) newStream() *stream {
	cfg := g.cfg
	st := &stream{
		tMal:   cfg.MalformedPct / 100,
		disMax: int(cfg.DisorderMax / time.Second),
		lateBy: int64(cfg.LateBy / time.Second),
		jumpBy: int64(cfg.JumpBy / time.Second),
		clock:  cfg.Start, newest: math.MinInt64, sinceJump: jumpGuard,
	}
	st.tFlip = st.tMal + cfg.BitFlipPct/100
	st.tLate = st.tFlip + cfg.LatePct/100
	st.tDis = st.tLate + cfg.DisorderPct/100
	return st
}

// draw picks the next line's kind and ts.
func (g *Generator) draw(st *stream) (Kind, int64) {
	switch u := g.r.float(); {
	case u < st.tMal:
		return Malformed, st.clock
	case u < st.tFlip:
		return BitFlipped, st.clock ^ int64(1)<<(13+g.r.intn(28))
	case u < st.tLate && st.counted:
		// Late relative to the newest counted ts, and to the pre-jump time while the engine
		// may not have accepted the jump yet.
		base := st.newest
		if st.sinceJump < jumpGuard {
			base = min(base, st.preJump)
		}
		return Late, base - st.lateBy - int64(g.r.intn(int(st.lateBy)))
	case u < st.tLate:
		// Nothing counted yet, so nothing to be late against.
	case u < st.tDis:
		return Disordered, st.clock - 1 - int64(g.r.intn(st.disMax))
	}
	return Clean, st.clock
}

// account adds a line made to the truth and the stats, and tells OnFrame.
func (g *Generator) account(st *stream, fi FrameInfo) {
	if fi.Kind.Counted() {
		g.truth.add(fi.TS, uint32(fi.User))
		if !st.counted || fi.TS < g.stats.MinTS {
			g.stats.MinTS = fi.TS
		}
		st.newest = max(st.newest, fi.TS)
		st.counted = true
		g.stats.MaxTS = st.newest
	}
	g.stats.Lines++
	g.stats.Bytes += int64(fi.Bytes + 1)
	g.stats.Kinds[fi.Kind]++
	if g.onFrame != nil {
		g.onFrame(fi)
	}
}
