package window

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

const (
	t0   = int64(1468244384) // the challenge sample's first ts
	day  = int64(86400)
	flip = int64(1) << 31 // a high bit unset in t0: a flip goes 68 years ahead
)

// recorder feeds frames, numbered by arrival, to a Clock and records every
// decide call, checking the Clock's promises as it goes: each frame is
// settled exactly once, a call reports frames in arrival order, and the
// watermark never goes back.
type recorder struct {
	t        *testing.T
	c        *Clock[int]
	tss      []int64
	verdicts []Verdict
	settled  []bool
	calls    [][]int // frames settled by each Observe/Flush call
	lastWM   int64
}

func newRecorder(t *testing.T, cfg Config) *recorder {
	return &recorder{t: t, c: NewClock[int](cfg), lastWM: math.MinInt64}
}

func (r *recorder) decide(call *[]int) func(int, int64, Verdict) {
	return func(i int, ts int64, v Verdict) {
		r.t.Helper()
		if r.settled[i] {
			r.t.Fatalf("frame %d (ts %d) settled twice, now %v", i, ts, v)
		}
		if ts != r.tss[i] {
			r.t.Fatalf("frame %d reported with ts %d, want %d", i, ts, r.tss[i])
		}
		if n := len(*call); n > 0 && (*call)[n-1] > i {
			r.t.Fatalf("frame %d reported after frame %d in one call: not arrival order", i, (*call)[n-1])
		}
		r.settled[i] = true
		r.verdicts[i] = v
		*call = append(*call, i)
	}
}

func (r *recorder) observe(tss ...int64) {
	r.t.Helper()
	for _, ts := range tss {
		i := len(r.tss)
		r.tss = append(r.tss, ts)
		r.verdicts = append(r.verdicts, Verdict(255))
		r.settled = append(r.settled, false)
		var call []int
		r.c.Observe(ts, i, r.decide(&call))
		r.calls = append(r.calls, call)
		r.checkWatermark()
	}
}

func (r *recorder) flush() {
	r.t.Helper()
	var call []int
	r.c.Flush(r.decide(&call))
	r.calls = append(r.calls, call)
	r.checkWatermark()
	if h := r.c.Held(); h != 0 {
		r.t.Fatalf("Held() = %d after Flush, want 0", h)
	}
	for i, ok := range r.settled {
		if !ok {
			r.t.Fatalf("frame %d (ts %d) never settled", i, r.tss[i])
		}
	}
}

func (r *recorder) checkWatermark() {
	r.t.Helper()
	wm := r.c.Watermark()
	if wm < r.lastWM {
		r.t.Fatalf("watermark went back from %d to %d", r.lastWM, wm)
	}
	r.lastWM = wm
}

// count returns how many of the frames [from, to) got v.
func (r *recorder) count(from, to int, v Verdict) int {
	n := 0
	for _, got := range r.verdicts[from:to] {
		if got == v {
			n++
		}
	}
	return n
}

// seq returns n timestamps from start, one per second.
func seq(start int64, n int) []int64 {
	tss := make([]int64, n)
	for i := range tss {
		tss[i] = start + int64(i)
	}
	return tss
}

func TestVerdictString(t *testing.T) {
	for v, want := range map[Verdict]string{Accept: "accept", Late: "late", Jump: "ts_jump", 7: "verdict(7)"} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", v, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v, want nil", err)
	}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"negative out-of-order", func(c *Config) { c.OutOfOrder = -time.Second }},
		{"negative lateness", func(c *Config) { c.Lateness = -1 }},
		{"sub-second max jump", func(c *Config) { c.MaxJump = time.Millisecond }},
		{"zero confirm", func(c *Config) { c.Confirm = 0 }},
		{"zero reject", func(c *Config) { c.Reject = 0 }},
		{"zero flush confirm", func(c *Config) { c.FlushConfirm = 0 }},
		{"max held under confirm", func(c *Config) { c.MaxHeld = c.Confirm - 1 }},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.edit(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate() = %v, want ErrConfig", tt.name, err)
		}
	}
	// Zero tolerances are valid: a strictly ordered source.
	cfg := DefaultConfig()
	cfg.OutOfOrder, cfg.Lateness = 0, 0
	if err := cfg.Validate(); err != nil {
		t.Errorf("zero out-of-order and lateness: Validate() = %v, want nil", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewClock with an invalid config did not panic")
		}
	}()
	NewClock[int](Config{})
}

// TestClockGuard covers each case of the guard with the default config. Each
// case builds a stream, optionally flushes, and states how many frames of
// each range get which verdict.
func TestClockGuard(t *testing.T) {
	type want struct {
		from, to int
		v        Verdict
	}
	normal := seq(t0, 20)
	tests := []struct {
		name      string
		stream    func() []int64
		flush     bool
		want      []want
		wantMaxTS int64
	}{
		{
			name:      "ordered frames",
			stream:    func() []int64 { return seq(t0, 30) },
			want:      []want{{0, 30, Accept}},
			wantMaxTS: t0 + 29,
		},
		{
			name: "disorder within 5 s",
			stream: func() []int64 {
				return []int64{t0, t0 + 3, t0 + 1, t0 + 5, t0 + 2, t0, t0 + 4, t0 + 9, t0 + 4, t0 + 6, t0 + 8, t0 + 5}
			},
			flush:     true,
			want:      []want{{0, 12, Accept}},
			wantMaxTS: t0 + 9,
		},
		{
			name: "isolated far-future flip",
			stream: func() []int64 {
				s := slices.Clone(normal)
				s = append(s, (t0+20)^flip)
				return append(s, seq(t0+21, 20)...)
			},
			want:      []want{{0, 20, Accept}, {20, 21, Jump}, {21, 41, Accept}},
			wantMaxTS: t0 + 40,
		},
		{
			name: "far-past flip is late",
			stream: func() []int64 {
				s := slices.Clone(normal)
				s = append(s, (t0+20)^(1<<30)) // bit 30 is set in t0: this goes back 34 years
				return append(s, seq(t0+21, 5)...)
			},
			want:      []want{{0, 20, Accept}, {20, 21, Late}, {21, 26, Accept}},
			wantMaxTS: t0 + 25,
		},
		{
			name: "two same-bit flips close together amid normal frames",
			stream: func() []int64 {
				s := slices.Clone(normal)
				s = append(s, (t0+20)^flip, t0+21, t0+22, t0+23, (t0+24)^flip)
				return append(s, seq(t0+25, 10)...)
			},
			want:      []want{{0, 20, Accept}, {20, 21, Jump}, {21, 24, Accept}, {24, 25, Jump}, {25, 35, Accept}},
			wantMaxTS: t0 + 34,
		},
		{
			name: "seven same-bit flips in a row are still outvoted",
			stream: func() []int64 {
				s := slices.Clone(normal)
				for i := range int64(7) {
					s = append(s, (t0+20+i)^flip)
				}
				return append(s, seq(t0+27, 10)...)
			},
			flush:     true,
			want:      []want{{0, 20, Accept}, {20, 27, Jump}, {27, 37, Accept}},
			wantMaxTS: t0 + 36,
		},
		{
			name: "genuine jump of 3 days loses no frame",
			stream: func() []int64 {
				s := slices.Clone(normal)
				for i := range int64(40) {
					s = append(s, t0+3*day+i-i%3) // with some disorder
				}
				return s
			},
			want:      []want{{0, 60, Accept}},
			wantMaxTS: t0 + 3*day + 39,
		},
		{
			name: "flip as the very first frame does not anchor",
			stream: func() []int64 {
				return append([]int64{t0 ^ flip}, seq(t0+1, 20)...)
			},
			want:      []want{{0, 1, Jump}, {1, 21, Accept}},
			wantMaxTS: t0 + 20,
		},
		{
			name: "jump at the very start: the few frames before it are late",
			stream: func() []int64 {
				return append(seq(t0, 3), seq(t0+3*day, 20)...)
			},
			want:      []want{{0, 3, Late}, {3, 23, Accept}},
			wantMaxTS: t0 + 3*day + 19,
		},
		{
			name: "genuine jump right before the end of input",
			stream: func() []int64 {
				return append(slices.Clone(normal), seq(t0+3*day, 3)...)
			},
			flush:     true,
			want:      []want{{0, 23, Accept}},
			wantMaxTS: t0 + 3*day + 2,
		},
		{
			name: "flip as the last frame before the end of input",
			stream: func() []int64 {
				return append(slices.Clone(normal), (t0+20)^flip)
			},
			flush:     true,
			want:      []want{{0, 20, Accept}, {20, 21, Jump}},
			wantMaxTS: t0 + 19,
		},
		{
			name: "pending jump contradicted before the end of input",
			stream: func() []int64 {
				s := append(slices.Clone(normal), seq(t0+3*day, 3)...)
				return append(s, t0+20, t0+21)
			},
			flush:     true,
			want:      []want{{0, 20, Accept}, {20, 23, Jump}, {23, 25, Accept}},
			wantMaxTS: t0 + 21,
		},
		{
			name:      "input shorter than Confirm anchors at Flush",
			stream:    func() []int64 { return []int64{t0, t0 + 2, t0 + 1} },
			flush:     true,
			want:      []want{{0, 3, Accept}},
			wantMaxTS: t0 + 2,
		},
		{
			name: "short input with a flip anchors on the majority at Flush",
			stream: func() []int64 {
				return []int64{t0, t0 ^ flip, t0 + 1, t0 + 2}
			},
			flush:     true,
			want:      []want{{0, 1, Accept}, {1, 2, Jump}, {2, 4, Accept}},
			wantMaxTS: t0 + 2,
		},
		{
			name: "ts beyond the supported range",
			stream: func() []int64 {
				return append(slices.Clone(normal), math.MaxInt64, math.MinInt64, t0+20)
			},
			want:      []want{{0, 20, Accept}, {20, 22, Jump}, {22, 23, Accept}},
			wantMaxTS: t0 + 20,
		},
		{
			name: "frame just within MaxJump is accepted at once",
			stream: func() []int64 {
				return append(slices.Clone(normal), t0+19+600, t0+19+600+601)
			},
			want:      []want{{0, 21, Accept}},
			wantMaxTS: t0 + 19 + 600,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, DefaultConfig())
			r.observe(tt.stream()...)
			if tt.flush {
				r.flush()
			}
			for _, w := range tt.want {
				if n := r.count(w.from, w.to, w.v); n != w.to-w.from {
					t.Errorf("frames [%d, %d): %d of %d are %v; verdicts %v", w.from, w.to, n, w.to-w.from, w.v, r.verdicts[w.from:w.to])
				}
			}
			if got := r.c.MaxTS(); got != tt.wantMaxTS {
				t.Errorf("MaxTS() = %d, want %d", got, tt.wantMaxTS)
			}
			if got, want := r.c.Watermark(), tt.wantMaxTS-5; got != want {
				t.Errorf("Watermark() = %d, want %d", got, want)
			}
		})
	}
}

// TestClockFlipSettledWithItsRejecter checks when a held flip is reported:
// in the call of the Reject-th normal frame after it, just before that frame.
func TestClockFlipSettledWithItsRejecter(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	r.observe(seq(t0, 20)...)
	r.observe((t0 + 20) ^ flip) // frame 20
	if got := r.c.Held(); got != 1 {
		t.Fatalf("Held() = %d after a flip, want 1", got)
	}
	r.observe(seq(t0+21, 8)...) // frames 21..28
	for i := 21; i < 28; i++ {
		if got, want := r.calls[i], []int{i}; !slices.Equal(got, want) {
			t.Errorf("call for frame %d settled %v, want %v", i, got, want)
		}
	}
	if got, want := r.calls[28], []int{20, 28}; !slices.Equal(got, want) {
		t.Errorf("call for frame 28 settled %v, want %v", got, want)
	}
	if got := r.c.Held(); got != 0 {
		t.Errorf("Held() = %d after the flip was rejected, want 0", got)
	}
}

// TestClockJumpConfirmedInArrivalOrder checks a confirmed jump reports its
// held frames, and only then the confirming one, in one call.
func TestClockJumpConfirmedInArrivalOrder(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	r.observe(seq(t0, 20)...)
	r.observe(seq(t0+3*day, 8)...) // frames 20..27
	for i := 20; i < 27; i++ {
		if len(r.calls[i]) != 0 {
			t.Errorf("call for held frame %d settled %v, want nothing", i, r.calls[i])
		}
	}
	if got, want := r.calls[27], []int{20, 21, 22, 23, 24, 25, 26, 27}; !slices.Equal(got, want) {
		t.Errorf("confirming call settled %v, want %v", got, want)
	}
	// The clock moved: the old time is now late.
	r.observe(t0 + 20)
	if got := r.verdicts[28]; got != Late {
		t.Errorf("frame at the old time after the jump: %v, want late", got)
	}
}

// TestClockLatenessEdge checks the lateness bound: ts == watermark - Lateness
// is counted, one second older is late.
func TestClockLatenessEdge(t *testing.T) {
	r := newRecorder(t, DefaultConfig())
	r.observe(seq(t0, 8)...)
	wm := r.c.Watermark()
	if want := t0 + 7 - 5; wm != want {
		t.Fatalf("Watermark() = %d, want %d", wm, want)
	}
	edge := wm - 3600
	r.observe(edge, edge-1, wm, wm+1)
	for i, want := range []Verdict{Accept, Late, Accept, Accept} {
		if got := r.verdicts[8+i]; got != want {
			t.Errorf("ts %+d from the edge: %v, want %v", r.tss[8+i]-edge, got, want)
		}
	}
}

// TestClockHeldIsBounded floods an anchored clock with scattered far-future
// frames and no normal frames to outvote them: the cap must reject them.
func TestClockHeldIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxHeld = 16
	r := newRecorder(t, cfg)
	r.observe(seq(t0, 8)...)
	for i := range int64(100) {
		r.observe(t0 + (i+1)*day) // each a day apart: no two agree
		if h := r.c.Held(); h > cfg.MaxHeld {
			t.Fatalf("Held() = %d, above MaxHeld %d", h, cfg.MaxHeld)
		}
	}
	if n := r.count(8, 108-cfg.MaxHeld, Jump); n != 100-cfg.MaxHeld {
		t.Errorf("%d of the oldest %d scattered frames are ts_jump, want all", n, 100-cfg.MaxHeld)
	}
	if got := r.c.MaxTS(); got != t0+7 {
		t.Errorf("MaxTS() = %d, want %d: scattered frames must not move time", got, t0+7)
	}
}

// TestClockHeldMajorityConfirms checks the cap confirms a pending jump that
// holds most held frames even before Confirm frames agree.
func TestClockHeldMajorityConfirms(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Confirm, cfg.MaxHeld = 16, 16
	r := newRecorder(t, cfg)
	r.observe(seq(t0, 16)...)
	r.observe(seq(t0+3*day, 10)...) // frames 16..25: a jump of 10
	for i := range int64(7) {
		r.observe(t0 + (i+5)*day*7) // frames 26..32: scattered
	}
	if n := r.count(16, 26, Accept); n != 10 {
		t.Errorf("%d of the 10 jump frames accepted, want all: %v", n, r.verdicts[16:26])
	}
	if got := r.c.MaxTS(); got != t0+3*day+9 {
		t.Errorf("MaxTS() = %d, want %d", got, t0+3*day+9)
	}
}

// TestClockUnanchored checks the reads before any frame is trusted.
func TestClockUnanchored(t *testing.T) {
	c := NewClock[int](DefaultConfig())
	var got []Verdict
	for i, ts := range seq(t0, 7) {
		c.Observe(ts, i, func(_ int, _ int64, v Verdict) { got = append(got, v) })
	}
	if c.Watermark() != math.MinInt64 || c.MaxTS() != math.MinInt64 || c.Held() != 7 || len(got) != 0 {
		t.Errorf("after 7 frames: Watermark %d, MaxTS %d, Held %d, verdicts %v; want MinInt64, MinInt64, 7, none",
			c.Watermark(), c.MaxTS(), c.Held(), got)
	}
}

// genStream makes a challenge-like stream: a clock advancing now and then,
// disorder within 5 s, a few bit flips, late frames, and genuine jumps of
// days. It returns the stream and which frames are flips.
func genStream(r *rand.Rand, n int) (tss []int64, isFlip []bool) {
	clock := t0
	for i := range n {
		if r.IntN(3) == 0 {
			clock++
		}
		if i%1500 == 1499 {
			clock += int64(1+r.IntN(5)) * day // a replay gap
		}
		ts, f := clock, false
		switch x := r.IntN(1000); {
		case x < 300:
			ts -= int64(r.IntN(6))
		case x < 302:
			ts -= int64(3600 + r.IntN(7200)) // around the lateness limit
		case x < 304:
			ts ^= int64(1) << (27 + r.IntN(35)) // a high bit flip
			f = true
		}
		tss = append(tss, ts)
		isFlip = append(isFlip, f)
	}
	return tss, isFlip
}

// TestClockProperties runs random challenge-like streams and checks the
// promises that hold whatever the input: every frame is settled exactly
// once and in arrival order per call (the recorder checks), the watermark
// never goes back, the same input gives the same verdicts, an accepted
// frame is never far ahead of the source's time, and isolated flips
// forward are never accepted.
func TestClockProperties(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 4000
	}
	for s := range uint64(5) {
		t.Run(fmt.Sprint("seed", s), func(t *testing.T) {
			tss, isFlip := genStream(rand.New(rand.NewPCG(s, 99)), n)
			a := newRecorder(t, DefaultConfig())
			a.observe(tss...)
			a.flush()
			b := newRecorder(t, DefaultConfig())
			b.observe(tss...)
			b.flush()
			if !slices.Equal(a.verdicts, b.verdicts) {
				t.Fatal("the same input gave different verdicts")
			}
			for i, ts := range tss {
				if isFlip[i] && ts > tss[i-1]+day && a.verdicts[i] == Accept {
					t.Errorf("frame %d: forward flip to %d accepted", i, ts)
				}
			}
			flips, accepted := 0, a.count(0, len(tss), Accept)
			for _, f := range isFlip {
				if f {
					flips++
				}
			}
			// Every non-flip frame that is not late must be counted: the
			// jumps are genuine and must lose nothing.
			late := a.count(0, len(tss), Late)
			if lost := len(tss) - flips - accepted - late; lost > 0 {
				t.Errorf("%d genuine frames got ts_jump (%d flips, %d accepted of %d)", lost, flips, accepted, len(tss))
			}
			// Flips here are 4+ years off, so time ends at the last genuine
			// frame: the replay gaps moved it, no flip did.
			wantMax := int64(math.MinInt64)
			for i, ts := range tss {
				if !isFlip[i] {
					wantMax = max(wantMax, ts)
				}
			}
			if got := a.c.MaxTS(); got != wantMax {
				t.Errorf("MaxTS() = %d after the stream, want %d", got, wantMax)
			}
			t.Logf("%d frames: %d accepted, %d late, %d ts_jump (%d flips)", len(tss), accepted, late, a.count(0, len(tss), Jump), flips)
		})
	}
}

// FuzzClock feeds arbitrary timestamp sequences, decoded from the fuzz input
// as small deltas and occasional absolute values, and checks the recorder's
// invariants: no panic, every frame settled exactly once, in arrival order
// per call, a watermark that never goes back.
func FuzzClock(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, uint8(8), uint8(8))
	f.Add([]byte{0, 0, 0, 0xff, 0, 0, 0, 0x80, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(2), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, confirm, reject uint8) {
		cfg := DefaultConfig()
		cfg.Confirm, cfg.Reject, cfg.MaxHeld = 1+int(confirm%16), 1+int(reject%16), 32
		r := newRecorder(t, cfg)
		ts := t0
		for i := 0; i < len(data); i++ {
			switch b := data[i]; {
			case b == 0xff && i+1 < len(data): // a flip of bit data[i+1]
				ts ^= int64(1) << (data[i+1] % 64)
				i++
			case b >= 0xc0: // a jump of days, forward or back
				ts += int64(b&0x1f-16) * day
			default: // a small step
				ts += int64(b%16) - 5
			}
			r.observe(ts)
		}
		r.flush()
	})
}

func BenchmarkClockObserve(b *testing.B) {
	b.Run("ordered", func(b *testing.B) {
		c := NewClock[int](DefaultConfig())
		b.ReportAllocs()
		var n int
		decide := func(_ int, _ int64, v Verdict) { n += int(v) }
		ts := t0
		for b.Loop() {
			ts++
			c.Observe(ts-ts%7, 0, decide) // disorder within 7 s
		}
	})
	// One frame in 1000 a bit flip: the held-and-rejected path.
	b.Run("flips", func(b *testing.B) {
		c := NewClock[int](DefaultConfig())
		b.ReportAllocs()
		var n int
		decide := func(_ int, _ int64, v Verdict) { n += int(v) }
		ts := t0
		i := 0
		for b.Loop() {
			ts++
			i++
			x := ts - ts%7
			if i%1000 == 0 {
				x ^= flip
			}
			c.Observe(x, 0, decide)
		}
	})
}
