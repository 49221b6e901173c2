package processor

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// t0 is the start of a minute (2016-07-11T13:39:00Z, the challenge sample's first minute).
const t0 = int64(1468244340)

var (
	minute0 = window.Key{Granularity: window.Minute, Start: t0}
	minute1 = window.Key{Granularity: window.Minute, Start: t0 + 60}
	hour0   = window.Key{Granularity: window.Hour, Start: window.Hour.Start(t0)}
)

// stage2 is one Windows processor under Goka's tester (one partition: ctx.Partition() is 0).
type stage2 struct {
	t    *testing.T
	tt   *tester.Tester
	cfg  Config
	w    *Windows
	out  *tester.QueueTracker
	ctl  string
	errc chan error // Run's result
}

// testConfig is DefaultConfig with names of its own; retention off unless a test sets it.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Names = NamesFor("test")
	cfg.EarlyInterval = 0
	cfg.Retention = map[window.Granularity]time.Duration{}
	return cfg
}

// newStage2 starts stage 2 for one input partition; prepare may change it before it runs.
func newStage2(t *testing.T, cfg Config, prepare func(*Windows)) *stage2 {
	t.Helper()
	tt := tester.New(t)
	w := NewWindows(cfg, 1)
	if prepare != nil {
		prepare(w)
	}
	proc, err := goka.NewProcessor(nil, w.Graph(), goka.WithTester(tt))
	if err != nil {
		t.Fatalf("NewProcessor: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &stage2{t: t, tt: tt, cfg: cfg, w: w, ctl: ControlKeys(1)[0], errc: make(chan error, 1)}
	go func() { s.errc <- proc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.errc:
		case <-time.After(10 * time.Second):
			t.Error("stage 2 did not stop")
		}
	})
	s.out = tt.NewQueueTracker(string(cfg.Output))
	return s
}

func (s *stage2) partial(k window.Key, p *Partial) {
	s.tt.Consume(string(s.cfg.Names.Partials), k.String(), p)
}

func (s *stage2) mark(m Mark) { s.tt.Consume(string(s.cfg.Names.Partials), s.ctl, &m) }

// results drains the output topic.
func (s *stage2) results() []codec.Result {
	s.t.Helper()
	var rs []codec.Result
	for {
		key, v, ok := s.out.Next()
		if !ok {
			return rs
		}
		r := v.(codec.Result)
		if key != r.Key().String() {
			s.t.Errorf("result under key %q is for window %s", key, r.Key())
		}
		rs = append(rs, r)
	}
}

func (s *stage2) row(k window.Key) *WindowState {
	s.t.Helper()
	v := s.tt.TableValue(s.cfg.Names.Table(), k.String())
	if v == nil {
		return nil
	}
	return v.(*WindowState)
}

func (s *stage2) control() *Control {
	s.t.Helper()
	v, _ := s.tt.TableValue(s.cfg.Names.Table(), s.ctl).(*Control)
	return v
}

// users returns a precision-14 sketch of users [from, to).
func users(t testing.TB, from, to int) *sketch.Sketch {
	t.Helper()
	s, err := sketch.New(sketch.DefaultPrecision)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < to; i++ {
		s.Insert(fmt.Appendf(nil, "user-%d", i))
	}
	return s
}

// estimate is the estimate of the union of ranges of users: what a merged row must report.
func estimate(t testing.TB, ranges ...[2]int) uint64 {
	t.Helper()
	u := users(t, 0, 0)
	for _, r := range ranges {
		if err := u.Merge(users(t, r[0], r[1])); err != nil {
			t.Fatal(err)
		}
	}
	return u.Estimate()
}

// part is a partial of users [from, to) covering input offsets up to last.
type part struct {
	src      int32
	last     int64
	frames   int64
	from, to int
}

func (p part) partial(t testing.TB) *Partial {
	return &Partial{Partition: p.src, First: p.last - p.frames + 1, Last: p.last, Frames: p.frames, Sketch: users(t, p.from, p.to)}
}

func TestWindowsMerge(t *testing.T) {
	tests := []struct {
		name       string
		parts      []part
		wantFrames int64
		wantUsers  [][2]int
	}{
		{"one", []part{{0, 9, 10, 0, 100}}, 10, [][2]int{{0, 100}}},
		{"two sources overlap", []part{{0, 9, 10, 0, 100}, {1, 4, 5, 50, 150}}, 15, [][2]int{{0, 150}}},
		{"successive flushes", []part{{0, 9, 10, 0, 100}, {0, 19, 10, 100, 200}}, 20, [][2]int{{0, 200}}},
		{"redelivered partial", []part{{0, 9, 10, 0, 100}, {0, 9, 10, 0, 100}}, 10, [][2]int{{0, 100}}},
		{"older flush redelivered", []part{{0, 9, 10, 0, 100}, {0, 19, 10, 100, 200}, {0, 9, 10, 0, 100}}, 20, [][2]int{{0, 200}}},
		{"same last from another source", []part{{0, 9, 10, 0, 100}, {1, 9, 10, 0, 100}}, 20, [][2]int{{0, 100}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStage2(t, testConfig(), nil)
			for _, p := range tc.parts {
				s.partial(minute0, p.partial(t))
			}
			st := s.row(minute0)
			if st == nil {
				t.Fatalf("row %s missing after %d partials", minute0, len(tc.parts))
			}
			if st.Frames != tc.wantFrames {
				t.Errorf("frames = %d, want %d", st.Frames, tc.wantFrames)
			}
			if got, want := st.Sketch.Estimate(), estimate(t, tc.wantUsers...); got != want {
				t.Errorf("uniques = %d, want %d (the union's estimate)", got, want)
			}
			if st.Final {
				t.Errorf("window final without a mark")
			}
			if rs := s.results(); len(rs) != 0 {
				t.Errorf("records without a mark: %+v", rs)
			}
			// The new window registered itself with the control row through the loop topic.
			if ctl := s.control(); ctl == nil || len(ctl.Open) != 1 || ctl.Open[0] != minute0 {
				t.Errorf("control row = %+v, want Open = [%s]", ctl, minute0)
			}
		})
	}
}

func TestWindowsFinal(t *testing.T) {
	type step struct {
		mark      Mark
		wantFinal []window.Key // records published by this mark, in any order
	}
	wm := func(w int64) Mark { return Mark{Partition: 0, Watermark: w, MaxTS: w + 5} }
	tests := []struct {
		name  string
		steps []step
		open  []window.Key // still open at the end
	}{
		{"watermark before every end", []step{{wm(t0 + 59), nil}}, []window.Key{minute0, minute1, hour0}},
		{"watermark at minute0's end", []step{{wm(t0 + 60), []window.Key{minute0}}}, []window.Key{minute1, hour0}},
		{"two minutes, then nothing new", []step{
			{wm(t0 + 60), []window.Key{minute0}},
			{wm(t0 + 120), []window.Key{minute1}},
			{wm(t0 + 121), nil},
		}, []window.Key{hour0}},
		{"one jump past everything", []step{{wm(hour0.End()), []window.Key{minute0, minute1, hour0}}}, nil},
		{"an older mark moves nothing", []step{{wm(t0 + 60), []window.Key{minute0}}, {wm(t0), nil}}, []window.Key{minute1, hour0}},
		{"unanchored source", []step{{Mark{Watermark: math.MinInt64, MaxTS: math.MinInt64}, nil}}, []window.Key{minute0, minute1, hour0}},
		{"all sources idle", []step{{Mark{Watermark: t0 + 70, MaxTS: t0 + 75, Idle: true}, []window.Key{minute0, minute1, hour0}}}, nil},
		{"idle after a final", []step{
			{wm(t0 + 60), []window.Key{minute0}},
			{Mark{Watermark: t0 + 70, MaxTS: t0 + 75, Idle: true}, []window.Key{minute1, hour0}},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStage2(t, testConfig(), nil)
			s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
			s.partial(minute1, part{0, 9, 5, 100, 130}.partial(t))
			s.partial(hour0, part{0, 9, 15, 0, 130}.partial(t))
			want := map[window.Key]codec.Result{
				minute0: {Uniques: estimate(t, [2]int{0, 100}), Frames: 10},
				minute1: {Uniques: estimate(t, [2]int{100, 130}), Frames: 5},
				hour0:   {Uniques: estimate(t, [2]int{0, 130}), Frames: 15},
			}
			for i, st := range tc.steps {
				s.mark(st.mark)
				got := map[window.Key]bool{}
				for _, r := range s.results() {
					k := r.Key()
					if got[k] {
						t.Errorf("step %d: %s published twice", i, k)
					}
					got[k] = true
					w := want[k]
					if !r.Final || r.Revision != 0 || r.LateFrames != 0 || r.Uniques != w.Uniques || r.Frames != w.Frames {
						t.Errorf("step %d: record %+v, want final revision 0, uniques %d, frames %d", i, r, w.Uniques, w.Frames)
					}
					// The view reads rows through the same function: what it shows is what was published.
					if row := s.row(k); row == nil || row.Result(k) != r {
						t.Errorf("step %d: record %+v, but its row reads as %+v", i, r, row)
					}
				}
				for _, k := range st.wantFinal {
					if !got[k] {
						t.Errorf("step %d (mark %+v): no final record for %s", i, st.mark, k)
					}
					delete(got, k)
				}
				for k := range got {
					t.Errorf("step %d (mark %+v): unexpected record for %s", i, st.mark, k)
				}
			}
			for _, k := range tc.open {
				if st := s.row(k); st == nil || st.Final {
					t.Errorf("row %s = %+v, want open", k, st)
				}
			}
			ctl := s.control()
			if len(ctl.Open) != len(tc.open) {
				t.Errorf("control row Open = %v, want %v", ctl.Open, tc.open)
			}
		})
	}
}

// clock is a settable wall clock for stage 2.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time         { return c.now }
func (c *clock) add(d time.Duration)    { c.now = c.now.Add(d) }
func (c *clock) set(unix int64)         { c.now = time.Unix(unix, 0) }
func withClock(c *clock) func(*Windows) { return func(w *Windows) { w.now = c.Now } }

// TestWindowsIdleWallClock: when every input partition is idle, windows that ended on the
// wall clock are final and no other: a pause in live input (ts = now) finalises the current
// minute only once it has ended on the clock, and never the current hour; a replay of history
// finishes; a replay of data from the future waits for the clock.
func TestWindowsIdleWallClock(t *testing.T) {
	idle := func(maxTS int64) Mark { return Mark{Watermark: maxTS - 5, MaxTS: maxTS, Idle: true} }
	type step struct {
		now       int64 // wall clock, unix seconds
		mark      Mark
		wantFinal []window.Key
	}
	tests := []struct {
		name  string
		ahead bool // producers' clocks ahead of ours: finals before the end on our clock
		steps []step
	}{
		{"live input pauses mid-minute", false, []step{
			{t0 + 30, idle(t0 + 25), nil},
			{t0 + 60, idle(t0 + 25), nil},
			{t0 + 64, idle(t0 + 25), nil}, // the minute ended, but not out-of-orderness ago
			{t0 + 65, idle(t0 + 25), []window.Key{minute0}},
			{t0 + 125, idle(t0 + 25), []window.Key{minute1}},
			{t0 + 600, idle(t0 + 25), nil}, // the hour has not ended: open
			{hour0.End() + 5, idle(t0 + 25), []window.Key{hour0}},
		}},
		{"a replay of history finishes", false, []step{{t0 + 86400*365, idle(t0 + 25), []window.Key{minute0, minute1, hour0}}}},
		{"a replay of data from the future waits for the clock", false, []step{
			{t0 - 86400, idle(t0 + 25), nil},
			{t0 + 64, idle(t0 + 25), nil},
			{t0 + 65, idle(t0 + 25), []window.Key{minute0}},
		}},
		{"producers ahead of our clock: event time rules while busy", true, []step{
			{t0 - 3600, Mark{Watermark: t0 + 60, MaxTS: t0 + 65}, []window.Key{minute0}},
			{t0 - 3600, idle(t0 + 65), nil}, // then idle: the rest waits for the clock
			{t0 + 125, idle(t0 + 65), []window.Key{minute1}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{}
			s := newStage2(t, testConfig(), withClock(clk))
			clk.set(tc.steps[0].now)
			s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
			s.partial(minute1, part{0, 9, 5, 100, 130}.partial(t))
			s.partial(hour0, part{0, 9, 15, 0, 130}.partial(t))
			for i, st := range tc.steps {
				clk.set(st.now)
				s.mark(st.mark)
				var got []window.Key
				for _, r := range s.results() {
					if !r.Final || r.Revision != 0 || r.Closed {
						t.Errorf("step %d: record %+v, want a first final", i, r)
					}
					if r.End > st.now-5 && !tc.ahead {
						t.Errorf("step %d: %s final at %d, before its end %d (+5 s) on the wall clock", i, r.Key(), st.now, r.End)
					}
					got = append(got, r.Key())
				}
				if fmt.Sprint(got) != fmt.Sprint(st.wantFinal) {
					t.Errorf("step %d (now %d, mark %+v): finals %v, want %v", i, st.now, st.mark, got, st.wantFinal)
				}
			}
		})
	}
}

// TestWindowsCorrection: late partials of a final window publish at most one correction per
// CorrectionInterval of wall time after its previous record; one not yet due waits for a mark
// (the tick) and carries every change made meanwhile.
func TestWindowsCorrection(t *testing.T) {
	cfg := testConfig()
	cfg.CorrectionInterval = 10 * time.Second
	clk := &clock{}
	clk.set(t0 + 65)
	s := newStage2(t, cfg, withClock(clk))
	s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
	s.mark(Mark{Watermark: t0 + 60, MaxTS: t0 + 65})
	if rs := s.results(); len(rs) != 1 || !rs[0].Final || rs[0].Revision != 0 {
		t.Fatalf("records after the closing mark = %+v, want one final revision 0", rs)
	}
	rev := func(revision int, late, frames int64, users int) []codec.Result {
		return []codec.Result{{Final: true, Revision: revision, LateFrames: late, Frames: frames, Uniques: estimate(t, [2]int{0, users})}}
	}
	tick := Mark{Watermark: t0 + 61, MaxTS: t0 + 66}
	tests := []struct {
		name    string
		advance time.Duration
		p       *part // a late partial, or nil for a mark
		want    []codec.Result
	}{
		{"late partial 1 s after the final: pending", time.Second, &part{0, 19, 3, 90, 120}, nil},
		{"the same partial redelivered", 0, &part{0, 19, 3, 90, 120}, nil},
		{"another late flush", time.Second, &part{0, 29, 2, 120, 125}, nil},
		{"a mark before it is due", 5 * time.Second, nil, nil},
		{"the mark when due publishes both flushes at once", 3 * time.Second, nil, rev(1, 5, 15, 125)},
		{"the next mark: nothing more", time.Second, nil, nil},
		{"a late flush 10 s after the correction: at once", 10 * time.Second, &part{0, 39, 1, 125, 126}, rev(2, 6, 16, 126)},
		{"and one right after: pending", time.Second, &part{0, 49, 1, 126, 127}, nil},
		{"its due mark", 9 * time.Second, nil, rev(3, 7, 17, 127)},
	}
	for _, tc := range tests {
		clk.add(tc.advance)
		if tc.p != nil {
			s.partial(minute0, tc.p.partial(t))
		} else {
			s.mark(tick)
		}
		got := s.results()
		if len(got) != len(tc.want) {
			t.Fatalf("%s: records %+v, want %d", tc.name, got, len(tc.want))
		}
		for i, r := range got {
			w := tc.want[i]
			if r.Final != w.Final || r.Revision != w.Revision || r.LateFrames != w.LateFrames || r.Frames != w.Frames || r.Uniques != w.Uniques {
				t.Errorf("%s: record %+v, want final=%v revision %d late_frames %d frames %d uniques %d",
					tc.name, r, w.Final, w.Revision, w.LateFrames, w.Frames, w.Uniques)
			}
		}
	}
	if ctl := s.control(); len(ctl.Pending) != 0 {
		t.Errorf("control row still has pending corrections %+v", ctl.Pending)
	}
}

// TestWindowsCorrectionAtOnce: CorrectionInterval 0 publishes every late partial at once.
func TestWindowsCorrectionAtOnce(t *testing.T) {
	cfg := testConfig()
	cfg.CorrectionInterval = 0
	s := newStage2(t, cfg, nil)
	s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
	s.mark(Mark{Watermark: t0 + 60, MaxTS: t0 + 65})
	s.results()
	for i := range 3 {
		s.partial(minute0, part{0, int64(19 + 10*i), 1, 100 + i, 101 + i}.partial(t))
		rs := s.results()
		if len(rs) != 1 || rs[0].Revision != i+1 || rs[0].Uniques != estimate(t, [2]int{0, 101 + i}) {
			t.Errorf("late partial %d: records %+v, want revision %d at once", i, rs, i+1)
		}
	}
}

// TestWindowsClosed: once the watermark passed a final window by the allowed lateness, the
// window publishes one last record with closed:true, carrying its pending correction if it has
// one, and nothing can change it after.
func TestWindowsClosed(t *testing.T) {
	late := int64(time.Hour / time.Second)
	mark := func(wm int64) Mark { return Mark{Watermark: wm, MaxTS: wm + 5} }
	t.Run("final, then closed with the same count", func(t *testing.T) {
		s := newStage2(t, testConfig(), nil)
		s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
		s.mark(mark(minute0.End()))
		final := s.results()
		s.mark(mark(minute0.End() + late - 1))
		if rs := s.results(); len(rs) != 0 {
			t.Errorf("records before the lateness passed: %+v", rs)
		}
		s.mark(mark(minute0.End() + late))
		rs := s.results()
		if len(final) != 1 || len(rs) != 1 {
			t.Fatalf("records: final %+v, then %+v; want one each", final, rs)
		}
		want := final[0]
		want.Closed = true
		if rs[0] != want {
			t.Errorf("closed record %+v, want %+v", rs[0], want)
		}
		// Closed means no change: a partial that still arrives is not merged.
		s.partial(minute0, part{0, 19, 3, 100, 200}.partial(t))
		s.mark(mark(minute0.End() + late + 10))
		if rs := s.results(); len(rs) != 0 {
			t.Errorf("records after closed: %+v", rs)
		}
		if row := s.row(minute0); row.Result(minute0) != want {
			t.Errorf("closed row changed to %+v", row.Result(minute0))
		}
		if ctl := s.control(); len(ctl.Open)+len(ctl.Closing)+len(ctl.Pending) != 0 {
			t.Errorf("control row still follows the window: %+v", ctl)
		}
	})
	t.Run("a pending correction is the closed record", func(t *testing.T) {
		clk := &clock{}
		clk.set(t0 + 65)
		s := newStage2(t, testConfig(), withClock(clk))
		s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
		s.mark(mark(minute0.End()))
		s.results()
		s.partial(minute0, part{0, 19, 3, 100, 120}.partial(t)) // pending for 10 s
		s.mark(mark(minute0.End() + late))                      // a jump: closed first
		rs := s.results()
		if len(rs) != 1 || !rs[0].Closed || rs[0].Revision != 1 || rs[0].LateFrames != 3 || rs[0].Uniques != estimate(t, [2]int{0, 120}) {
			t.Fatalf("records = %+v, want one closed revision 1 with the late users", rs)
		}
		clk.add(time.Minute)
		s.mark(mark(minute0.End() + late + 1))
		if rs := s.results(); len(rs) != 0 {
			t.Errorf("the pending correction was published again after closed: %+v", rs)
		}
	})
	t.Run("past the lateness at once: one record, final and closed", func(t *testing.T) {
		s := newStage2(t, testConfig(), nil)
		s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
		s.mark(mark(minute0.End() + 2*late))
		rs := s.results()
		if len(rs) != 1 || !rs[0].Final || !rs[0].Closed || rs[0].Revision != 0 || rs[0].Frames != 10 {
			t.Fatalf("records = %+v, want one final closed record", rs)
		}
	})
}

func TestWindowsEarly(t *testing.T) {
	cfg := testConfig()
	cfg.EarlyInterval = time.Second
	now := time.Unix(1_700_000_000, 0)
	s := newStage2(t, cfg, func(w *Windows) { w.now = func() time.Time { return now } })
	tests := []struct {
		name    string
		advance time.Duration // of the wall clock before the partial
		wantRec bool
	}{
		// A new row publishes nothing before its control row has registered it.
		{"first partial", 0, false},
		{"second partial, same instant", 0, true},
		{"half an interval later", 500 * time.Millisecond, false},
		{"one interval after the first", 500 * time.Millisecond, true},
		{"just short of the next", 999 * time.Millisecond, false},
		{"well past", 5 * time.Second, true},
	}
	for i, tc := range tests {
		now = now.Add(tc.advance)
		s.partial(minute0, part{0, int64(i+1) * 10, 10, i * 10, i*10 + 10}.partial(t))
		rs := s.results()
		if got := len(rs) == 1; got != tc.wantRec || len(rs) > 1 {
			t.Fatalf("%s: records %+v, want early record %v", tc.name, rs, tc.wantRec)
		}
		if tc.wantRec {
			r := rs[0]
			if r.Final || r.Frames != int64(i+1)*10 || r.Uniques != estimate(t, [2]int{0, i*10 + 10}) {
				t.Errorf("%s: record %+v, want final=false frames %d uniques %d", tc.name, r, (i+1)*10, estimate(t, [2]int{0, i*10 + 10}))
			}
		}
	}
	// A final record is published when the watermark passes, however recent the early one.
	s.mark(Mark{Watermark: t0 + 60, MaxTS: t0 + 65})
	if rs := s.results(); len(rs) != 1 || !rs[0].Final {
		t.Errorf("records after the closing mark = %+v, want one final", rs)
	}
}

func TestWindowsRetention(t *testing.T) {
	tests := []struct {
		name      string
		retention time.Duration
		wantGone  bool
	}{
		{"retention 1h", time.Hour, true},
		{"retention 0 keeps it", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Retention[window.Minute] = tc.retention
			s := newStage2(t, cfg, nil)
			s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
			s.mark(Mark{Watermark: t0 + 60, MaxTS: t0 + 65})
			if st := s.row(minute0); st == nil || !st.Final {
				t.Fatalf("row after the closing mark = %+v, want final", st)
			}
			// Just short of end + retention: kept whatever the retention.
			edge := minute0.End() + int64(tc.retention/time.Second)
			s.mark(Mark{Watermark: edge - 1, MaxTS: edge + 4})
			if st := s.row(minute0); st == nil {
				t.Fatalf("row deleted at watermark %d, before end+retention %d", edge-1, edge)
			}
			s.mark(Mark{Watermark: edge + 3600, MaxTS: edge + 3605}) // closed (the lateness is 1 h)
			s.mark(Mark{Watermark: edge + 3601, MaxTS: edge + 3606}) // a closed window expires
			st := s.row(minute0)
			if gone := st == nil; gone != tc.wantGone {
				t.Errorf("row after watermark passed end+retention = %+v, want deleted=%v", st, tc.wantGone)
			}
			if ctl := s.control(); tc.wantGone && len(ctl.Expiring) != 0 {
				t.Errorf("control row still expiring %v", ctl.Expiring)
			}
			if rs := s.results(); len(rs) != 2 || rs[0].Closed || !rs[1].Closed {
				t.Errorf("records = %+v, want the final and the closed record", rs)
			}
		})
	}
}

// TestWindowsPrecisionMismatch: a partial of another precision must not be mixed into the
// table; the processor stops (ctx.Fail) with an error that names the likely cause.
func TestWindowsPrecisionMismatch(t *testing.T) {
	s := newStage2(t, testConfig(), nil)
	s.partial(minute0, part{0, 9, 10, 0, 100}.partial(t))
	other, err := sketch.New(12)
	if err != nil {
		t.Fatal(err)
	}
	other.Insert([]byte("user-x"))
	s.partial(minute0, &Partial{Partition: 0, First: 10, Last: 10, Frames: 1, Sketch: other})
	select {
	case err := <-s.errc:
		if err == nil || !strings.Contains(err.Error(), "precision") {
			t.Errorf("Run = %v, want an error about the precision", err)
		}
		s.errc <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("stage 2 kept running after a partial of precision 12 in a precision-14 table")
	}
}
