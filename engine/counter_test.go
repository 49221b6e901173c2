package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// recorder is an Output that keeps everything.
type recorder struct {
	results []codec.Result
	dead    []codec.DeadLetter
}

func (r *recorder) Result(x codec.Result)         { r.results = append(r.results, x) }
func (r *recorder) DeadLetter(d codec.DeadLetter) { r.dead = append(r.dead, d) }

func (r *recorder) finals() map[window.Key]codec.Result {
	m := map[window.Key]codec.Result{}
	for _, x := range r.results {
		if prev, ok := m[x.Key()]; x.Final && (!ok || x.Revision > prev.Revision) {
			m[x.Key()] = x
		}
	}
	return m
}

// frame makes a valid decoded frame of user u at ts.
func frame(off, ts int64, u int) Frame {
	uid := fmt.Sprintf("user%d", u)
	return Frame{Offset: off, Line: []byte(fmt.Sprintf(`{"ts":%d,"uid":%q}`, ts, uid)), TS: ts, Hash: sketch.Hash([]byte(uid))}
}

func newTestCounter(t *testing.T, gs []window.Granularity, early time.Duration) (*Counter, *recorder) {
	t.Helper()
	return newCounterWith(t, gs, early, DefaultCorrectionEvery)
}

func newCounterWith(t *testing.T, gs []window.Granularity, early, correction time.Duration) (*Counter, *recorder) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.CorrectionEvery = correction
	cfg.Granularities = gs
	cfg.EarlyEvery = early
	cfg.Clock.Confirm, cfg.Clock.Reject = 3, 3
	rec := &recorder{}
	c, err := NewCounter(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

const t0 = 1468244340 // a minute start, 2016-07-11T13:39:00Z

func TestCounterFinalisesWhenWatermarkPassesEnd(t *testing.T) {
	c, rec := newTestCounter(t, []window.Granularity{window.Minute}, 0)
	off := int64(0)
	add := func(ts int64, u int) { off++; c.Add(frame(off, ts, u)) }
	for i := range 60 {
		add(t0+int64(i), i%7) // 7 users in the first minute
	}
	add(t0+62, 1) // watermark t0+57: nothing final yet
	if len(rec.results) != 0 {
		t.Fatalf("results before the watermark passed the end: %+v", rec.results)
	}
	add(t0+3, 8)  // disorder within the minute: still counted
	add(t0+65, 2) // watermark t0+60 = end: the first minute is final
	if len(rec.results) != 1 {
		t.Fatalf("got %d results after the watermark reached the end, want 1: %+v", len(rec.results), rec.results)
	}
	r := rec.results[0]
	want := codec.NewResult(window.Key{Granularity: window.Minute, Start: t0}, 8, 61)
	want.Final, want.Precision, want.StdError = true, sketch.DefaultPrecision, 0.0001221
	if r != want {
		t.Errorf("final = %+v, want %+v", r, want)
	}

	// A late frame within the lateness corrects it: coalesced for the correction interval,
	// then carried by the closed record at the end of input.
	add(t0+10, 9)
	add(t0+10, 9) // the same user again: uniques 9, frames +2
	add(t0+66, 3)
	c.Close()
	f := rec.finals()[window.Key{Granularity: window.Minute, Start: t0}]
	if f.Uniques != 9 || f.Frames != 63 || f.Revision != 1 || f.LateFrames != 2 {
		t.Errorf("corrected final = %+v, want uniques 9, frames 63, revision 1, late_frames 2", f)
	}
	// Close made the second minute final too.
	if g := rec.finals()[window.Key{Granularity: window.Minute, Start: t0 + 60}]; g.Uniques != 3 || !g.Final {
		t.Errorf("second minute at close = %+v, want 3 uniques, final", g)
	}
	if len(rec.dead) != 0 {
		t.Errorf("dead letters: %+v", rec.dead)
	}
}

func TestCounterDeadLetters(t *testing.T) {
	c, rec := newTestCounter(t, []window.Granularity{window.Minute, window.Hour}, 0)
	off := int64(0)
	add := func(ts int64, u int) { off++; c.Add(frame(off, ts, u)) }
	for i := range 10 {
		add(t0+7200+int64(i), i)
	}
	add(t0, 100)                  // two hours behind the watermark: late
	add(t0+7200+86400*365*4, 101) // a bit flip years ahead, outvoted by the frames after it
	for i := range 5 {
		add(t0+7210+int64(i), i)
	}
	c.Add(Frame{Offset: 99, Line: []byte(`{"ts":`), Err: codec.ErrSyntax})
	c.Close()
	reasons := map[string]int{}
	for _, d := range rec.dead {
		reasons[d.Reason]++
		if d.Frame == "" {
			t.Errorf("dead letter without its frame: %+v", d)
		}
	}
	want := map[string]int{codec.ReasonLate: 1, codec.ReasonJump: 1, "syntax": 1}
	for r, n := range want {
		if reasons[r] != n {
			t.Errorf("dead letters %q = %d, want %d (all: %v)", r, reasons[r], n, reasons)
		}
	}
	for _, r := range rec.results {
		if r.Start < t0+7200-3600 || r.Start > t0+7300 {
			t.Errorf("a bogus window was opened: %+v", r)
		}
	}
	st := c.Stats()
	if st.Frames != 18 || st.Accepted != 15 || st.DeadTotal() != 3 {
		t.Errorf("stats = %+v, want 18 frames, 15 accepted, 3 dead", st)
	}
}

func TestCounterGenuineJumpLosesNothing(t *testing.T) {
	c, rec := newTestCounter(t, []window.Granularity{window.Day}, 0)
	off := int64(0)
	add := func(ts int64, u int) { off++; c.Add(frame(off, ts, u)) }
	for i := range 20 {
		add(t0+int64(i), i)
	}
	gap := int64(3 * 86400)
	for i := range 20 {
		add(t0+gap+int64(i), 100+i)
	}
	c.Close()
	if len(rec.dead) != 0 {
		t.Fatalf("a genuine jump lost frames: %+v", rec.dead)
	}
	f := rec.finals()
	if len(f) != 2 {
		t.Fatalf("got %d day windows, want 2: %+v", len(f), f)
	}
	for k, r := range f {
		if r.Uniques != 20 || r.Frames != 20 {
			t.Errorf("%s = %+v, want 20 uniques in 20 frames", k, r)
		}
	}
}

func TestCounterEarlyResults(t *testing.T) {
	c, rec := newTestCounter(t, []window.Granularity{window.Minute}, 10*time.Second)
	for i := range 60 {
		c.Add(frame(int64(i+1), t0+int64(i), i))
	}
	c.Close()
	var early []codec.Result
	for _, r := range rec.results {
		if !r.Final {
			early = append(early, r)
		}
	}
	// Watermark advances from t0+? up to t0+54 inside the minute: early records at most once
	// per 10 s of event time, each with more uniques than the one before.
	if len(early) < 4 || len(early) > 7 {
		t.Fatalf("got %d early results, want about one per 10 s: %+v", len(early), early)
	}
	if !slices.IsSortedFunc(early, func(a, b codec.Result) int { return int(a.Uniques) - int(b.Uniques) }) {
		t.Errorf("early results do not grow: %+v", early)
	}
	last := rec.results[len(rec.results)-1]
	if !last.Final || last.Uniques != 60 {
		t.Errorf("last result = %+v, want final with 60 uniques", last)
	}
}

func TestCounterEvictsUnreachableWindows(t *testing.T) {
	c, _ := newTestCounter(t, []window.Granularity{window.Minute}, 0)
	for i := range 3 * 3600 {
		c.Add(frame(int64(i+1), t0+int64(i), i%50))
	}
	// Lateness 1 h: about 60 final minutes plus the open one are kept, not 180.
	if n := c.Retained(); n < 60 || n > 63 {
		t.Errorf("retained %d windows after 3 h of minutes, want ~61", n)
	}
}

// TestCounterCoalescesCorrections: late frames arrive for 20 s of event time after a minute
// is final (one frame per second, as -d 20 output does); corrections come at most once per
// interval after the window's previous record, and the last change is never lost.
func TestCounterCoalescesCorrections(t *testing.T) {
	minute := window.Key{Granularity: window.Minute, Start: t0}
	tests := []struct {
		name            string
		every           time.Duration
		wantCorrections int // before the closed record
	}{
		{"every advance", 0, 20},
		{"10 s", 10 * time.Second, 2},
		{"default 20 s", DefaultCorrectionEvery, 1},
		{"30 s", 30 * time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, rec := newCounterWith(t, []window.Granularity{window.Minute}, 0, tc.every)
			off := int64(0)
			add := func(ts int64, u int) { off++; c.Add(frame(off, ts, u)) }
			for i := range 65 {
				add(t0+int64(i), i) // the minute's 60 users; ts t0+64 makes it final
			}
			// New users: the first frame arrives before the minute is final, the other 20
			// after it (late); each is followed by a frame at the current time that advances
			// the watermark by one second.
			for i := range 21 {
				add(t0+59-int64(i%60), 1000+i)
				add(t0+65+int64(i), 2000+i)
			}
			var corrections []codec.Result
			for _, r := range rec.results {
				if r.Key() == minute && r.Revision > 0 {
					corrections = append(corrections, r)
				}
			}
			if len(corrections) != tc.wantCorrections {
				t.Errorf("%d corrections, want %d: %+v", len(corrections), tc.wantCorrections, corrections)
			}
			c.Close()
			var last codec.Result
			n := 0
			for _, r := range rec.results {
				if r.Key() == minute {
					last = r
					n++
				}
			}
			if !last.Closed || last.Uniques != 81 || last.Frames != 81 || last.LateFrames != 20 {
				t.Errorf("last record %+v, want closed with all 81 users and frames, 20 late", last)
			}
			if want := tc.wantCorrections + 2; tc.every > 0 && n != want {
				// final, the corrections, and the closed record carrying the rest
				t.Errorf("%d records for %s, want %d", n, minute, want)
			}
		})
	}
}

// TestCounterClosed: every window gets exactly one closed record, its last, with the count of
// its last revision; windows the lateness has passed are closed while the input goes on, the
// rest at the end of input.
func TestCounterClosed(t *testing.T) {
	c, rec := newCounterWith(t, []window.Granularity{window.Minute, window.Hour}, 0, 10*time.Second)
	off := int64(0)
	for i := range 3 * 3600 {
		ts := t0 + int64(i)
		if i%17 == 0 && i > 30 {
			ts -= 25 // late, but within the lateness: corrections
		}
		off++
		c.Add(frame(off, ts, i%500))
	}
	closedBefore := 0
	for _, r := range rec.results {
		if r.Closed {
			closedBefore++
		}
	}
	// Minutes that ended an hour (the lateness) before the watermark are closed already.
	if closedBefore < 100 {
		t.Errorf("%d windows closed before the end of input, want the ~118 minutes the lateness passed", closedBefore)
	}
	c.Close()
	type state struct {
		last     codec.Result
		closed   int
		afterEnd bool // a record after the closed one
	}
	byKey := map[window.Key]*state{}
	for _, r := range rec.results {
		st := byKey[r.Key()]
		if st == nil {
			st = &state{}
			byKey[r.Key()] = st
		}
		if st.closed > 0 {
			st.afterEnd = true
		}
		if r.Closed {
			st.closed++
			if !r.Final || r.Revision < st.last.Revision || (st.last.Final && r.Uniques < st.last.Uniques) {
				t.Errorf("closed record %+v after %+v", r, st.last)
			}
		}
		st.last = r
	}
	if len(byKey) != 180+4 { // 3 h of minutes from 13:39: hours 13 to 16
		t.Errorf("%d windows, want 184", len(byKey))
	}
	for k, st := range byKey {
		if st.closed != 1 || st.afterEnd || !st.last.Closed {
			t.Errorf("%s: %d closed records, a record after it: %v; last %+v", k, st.closed, st.afterEnd, st.last)
		}
	}
	if c.Retained() != 0 {
		t.Errorf("%d windows retained after Close", c.Retained())
	}
}
