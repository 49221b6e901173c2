package view

import (
	"cmp"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// history is a generated stream and the table rows the pipeline would hold for it: 60k
// frames of 10k users, one per second with a 50 h gap every 2,000 frames, from 2016-06-27
// over about 64 days, so ranges cross hours, days, weeks and months; and the exact answer to
// any range.
type history struct {
	frames []gen.FrameInfo
	truth  []gen.WindowTruth
	rows   map[string]any
	last   int64 // the largest ts
}

func newHistory(t testing.TB) *history {
	t.Helper()
	cfg := gen.Config{Count: 60_000, Rate: 1, Pool: 10_000, Seed: 9, Start: 1467000000, FrameBytes: gen.MinFrameBytes,
		JumpEvery: 2000, JumpBy: 50 * time.Hour}
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &history{rows: map[string]any{}}
	g.OnFrame(func(fi gen.FrameInfo) {
		if fi.Kind.Counted() {
			h.frames = append(h.frames, fi)
		}
	})
	if _, err := g.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	h.truth = g.Truth()
	hashes := make([]uint64, cfg.Pool)
	for u := range hashes {
		hashes[u] = sketch.Hash([]byte(g.UID(u)))
	}
	var keys []window.Key
	for _, f := range h.frames {
		h.last = max(h.last, f.TS)
		keys = window.AppendKeys(keys[:0], f.TS, window.All)
		for _, k := range keys {
			st, _ := h.rows[k.String()].(*processor.WindowState)
			if st == nil {
				s, _ := sketch.New(sketch.DefaultPrecision)
				st = &processor.WindowState{Count: engine.Count{Sketch: s}}
				h.rows[k.String()] = st
			}
			st.Sketch.InsertHash(hashes[f.User])
			st.Frames++
		}
	}
	// Every window that ended is final; the control row's watermark is the last ts.
	for ks, v := range h.rows {
		k, _ := window.ParseKey(ks)
		v.(*processor.WindowState).Final = k.End() <= h.last
	}
	h.rows["ctl/0"] = &processor.Control{Watermark: h.last, Final: h.last, Inputs: map[int32]window.Progress{}}
	slices.SortStableFunc(h.frames, func(a, b gen.FrameInfo) int { return cmp.Compare(a.TS, b.TS) })
	return h
}

// exact is the true number of users, and of frames, in [from, to).
func (h *history) exact(from, to int64) (users, frames int) {
	seen := map[int]bool{}
	i, _ := slices.BinarySearchFunc(h.frames, from, func(f gen.FrameInfo, ts int64) int { return cmp.Compare(f.TS, ts) })
	for ; i < len(h.frames) && h.frames[i].TS < to; i++ {
		seen[h.frames[i].User] = true
		frames++
	}
	return len(seen), frames
}

func TestUniques(t *testing.T) {
	h := newHistory(t)
	v := startTester(t, h.rows)
	var dense int
	var worst float64
	check := func(t *testing.T, from, to int64) Range {
		t.Helper()
		got, err := v.Uniques(from, to)
		if err != nil {
			t.Fatalf("Uniques(%s, %s): %v", stamp(from), stamp(to), err)
		}
		users, frames := h.exact(from, to)
		if users > 7647 { // beyond the sparse→dense switch: HyperLogLog's error applies
			dense++
			worst = max(worst, math.Abs(float64(got.Uniques)-float64(users))/float64(users))
		}
		if got.From != from || got.To != to || got.Frames != int64(frames) {
			t.Errorf("Uniques(%s, %s) = %+v, want frames %d", stamp(from), stamp(to), got, frames)
		}
		if users > 0 && math.Abs(float64(got.Uniques)-float64(users)) > 0.035*float64(users) {
			t.Errorf("Uniques(%s, %s) = %d, exact %d: off by more than 3.5 %%", stamp(from), stamp(to), got.Uniques, users)
		}
		if users == 0 && got.Uniques != 0 {
			t.Errorf("Uniques(%s, %s) = %d, exact 0", stamp(from), stamp(to), got.Uniques)
		}
		pos := from
		for _, k := range got.Windows {
			if k.Start != pos {
				t.Fatalf("windows %v do not tile %s..%s", got.Windows, stamp(from), stamp(to))
			}
			pos = k.End()
		}
		if pos != to {
			t.Fatalf("windows %v end at %s, not %s", got.Windows, stamp(pos), stamp(to))
		}
		return got
	}

	t.Run("a whole window is its row exactly", func(t *testing.T) {
		n := 0
		for _, w := range h.truth {
			if w.Granularity == "minute" || w.Granularity == "hour" {
				continue // minutes and hours outside retention are refused (below)
			}
			got := check(t, w.Start, w.End)
			g, _ := window.ParseGranularity(w.Granularity)
			row := h.rows[window.Key{Granularity: g, Start: w.Start}.String()].(*processor.WindowState)
			if len(got.Windows) != 1 || got.Uniques != row.Sketch.Estimate() || got.Frames != int64(w.Frames) {
				t.Errorf("%s/%d: %+v, want the window alone with its row's %d users", w.Granularity, w.Start, got, row.Sketch.Estimate())
			}
			if w.Granularity == "day" && (w.Uniques < 7647) != (got.StdError < 0.001) {
				t.Errorf("%s/%d: %d users, std_error %g", w.Granularity, w.Start, w.Uniques, got.StdError)
			}
			n++
		}
		if n < 40 {
			t.Errorf("only %d day, week, month and year windows tried", n)
		}
	})

	// Minutes are retained for 7 days, hours for 90 (run's defaults) before the watermark.
	minuteFrom, hourFrom := h.last-7*86400, h.last-90*86400
	named := []struct{ name, from, to string }{
		{"crossing an hour", "2016-08-28T10:47:00Z", "2016-08-28T11:13:00Z"},
		{"crossing a day", "2016-08-27T22:47:00Z", "2016-08-28T01:13:00Z"},
		{"crossing a month", "2016-06-30T21:00:00Z", "2016-07-02T03:00:00Z"},
		{"crossing weeks and months", "2016-06-28T00:00:00Z", "2016-08-10T00:00:00Z"},
		{"everything", "2016-06-01T00:00:00Z", "2017-01-01T00:00:00Z"},
	}
	for _, tc := range named {
		t.Run(tc.name, func(t *testing.T) {
			from, _ := ParseTime(tc.from)
			to, _ := ParseTime(tc.to)
			check(t, from, to)
		})
	}

	t.Run("random aligned ranges", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		first := h.frames[0].TS
		align := func(ts int64) int64 {
			switch {
			case ts >= minuteFrom+60:
				return window.Minute.Start(ts)
			case ts >= hourFrom+3600:
				return window.Hour.Start(ts)
			}
			return window.Day.Start(ts)
		}
		for range 80 {
			a := align(first - 86400 + rng.Int64N(h.last-first+2*86400))
			b := align(first - 86400 + rng.Int64N(h.last-first+2*86400))
			if a == b {
				continue
			}
			check(t, min(a, b), max(a, b))
		}
		t.Logf("%d ranges with a dense union (> 7647 users), worst error %.2f %%", dense, 100*worst)
		if dense < 20 {
			t.Errorf("only %d ranges had a dense union: the test does not exercise HyperLogLog's error", dense)
		}
	})

	t.Run("complete only when every window is final", func(t *testing.T) {
		open := window.Minute.Start(h.last)
		if got := check(t, open-3600, open+60); got.Complete {
			t.Errorf("a range with the open minute is complete: %+v", got)
		}
		if got := check(t, open-3600, open); !got.Complete {
			t.Errorf("a range of final windows is not complete: %+v", got)
		}
		// Beyond the data: no rows, not final yet.
		if got := check(t, open+3600, open+7200); got.Complete || got.Uniques != 0 {
			t.Errorf("a future range = %+v, want 0 users, not complete", got)
		}
	})

	t.Run("boundaries the retention does not allow", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			from, to int64
			boundary string
			g        window.Granularity
		}{
			{"inside a minute", window.Minute.Start(h.last) - 90, window.Minute.Start(h.last), "from", window.Minute},
			{"minutes expired", window.Hour.Start(minuteFrom) - 1800, window.Day.Start(h.last), "from", window.Hour},
			{"hours expired", window.Day.Start(hourFrom) - 3600, window.Day.Start(h.last), "from", window.Day},
		} {
			_, err := v.Uniques(tc.from, tc.to)
			var re *window.RangeError
			if !errors.As(err, &re) || re.Boundary != tc.boundary || re.Granularity != tc.g {
				t.Errorf("%s: Uniques = %v, want a RangeError for %s on %s boundaries", tc.name, err, tc.boundary, tc.g)
			}
		}
	})
}
