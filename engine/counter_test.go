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
	cfg := DefaultConfig()
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
	want.Final = true
	if r != want {
		t.Errorf("final = %+v, want %+v", r, want)
	}

	// A late frame within the lateness corrects it at the next watermark advance.
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
