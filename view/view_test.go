package view

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

const testApp = "viewtest"

// newSketch holds users uid-0..uid-(n-1) plus offset, so two sketches can overlap or not.
func newSketch(t testing.TB, n, offset int) *sketch.Sketch {
	t.Helper()
	s, err := sketch.New(sketch.DefaultPrecision)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s.Insert(fmt.Appendf(nil, "uid-%d", i+offset))
	}
	return s
}

func minute(start int64) window.Key { return window.Key{Granularity: window.Minute, Start: start} }
func hour(start int64) window.Key   { return window.Key{Granularity: window.Hour, Start: start} }

// startTester runs a View over a tester table holding rows, and stops it at cleanup.
func startTester(t testing.TB, rows map[string]any) *View {
	t.Helper()
	tt := tester.New(t)
	cfg := DefaultConfig()
	cfg.App = testApp
	v, err := Open(context.Background(), cfg, goka.WithViewTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	for k, val := range rows {
		tt.SetTableValue(cfg.Table(), k, val)
	}
	if err := v.WaitRecovered(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

// testRows is a small table: minutes out of text order (60 sorts after 1468244340 as text),
// two hours, and the control rows of two stage-2 partitions.
func testRows(t testing.TB) map[string]any {
	return map[string]any{
		minute(1468244340).String(): &processor.WindowState{Count: engine.Count{Sketch: newSketch(t, 100, 0), Frames: 150, Final: true, Revision: 1, LateFrames: 3}},
		minute(1468244400).String(): &processor.WindowState{Count: engine.Count{Sketch: newSketch(t, 200, 50), Frames: 260}},
		minute(1468244460).String(): &processor.WindowState{Count: engine.Count{Sketch: newSketch(t, 7, 0), Frames: 7}},
		minute(60).String():         &processor.WindowState{Count: engine.Count{Sketch: newSketch(t, 1, 0), Frames: 1, Final: true}},
		hour(1468242000).String():   &processor.WindowState{Count: engine.Count{Sketch: newSketch(t, 250, 0), Frames: 417}},
		hour(1468245600).String():   &processor.WindowState{Count: engine.Count{Sketch: newSketch(t, 0, 0)}},
		"ctl/0": &processor.Control{Watermark: 1468244395, Inputs: map[int32]window.Progress{
			0: {Watermark: 1468244395, MaxTS: 1468244400},
			1: {Watermark: 1468244470, MaxTS: 1468244475, Idle: true},
		}, Open: []window.Key{minute(1468244400), hour(1468242000)}},
		"ctl/3": &processor.Control{Watermark: 1468244380, Inputs: map[int32]window.Progress{
			0: {Watermark: 1468244410, MaxTS: 1468244415},
			2: {Watermark: math.MinInt64, MaxTS: math.MinInt64},
		}, Open: []window.Key{minute(1468244460)}, Expiring: []window.Key{minute(60)}},
	}
}

func starts(rs []codec.Result) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.Start
	}
	return out
}

func TestQuery(t *testing.T) {
	v := startTester(t, testRows(t))
	tests := []struct {
		name string
		q    Query
		want []int64
	}{
		{"all minutes in numeric order", All(window.Minute), []int64{60, 1468244340, 1468244400, 1468244460}},
		{"from inclusive, to exclusive", Query{Granularity: window.Minute, From: 1468244340, To: 1468244460}, []int64{1468244340, 1468244400}},
		{"last two", Query{Granularity: window.Minute, From: math.MinInt64, To: math.MaxInt64, Last: 2}, []int64{1468244400, 1468244460}},
		{"last more than held", Query{Granularity: window.Minute, From: 0, To: 1468244400, Last: 10}, []int64{60, 1468244340}},
		{"hours only", All(window.Hour), []int64{1468242000, 1468245600}},
		{"empty range", Query{Granularity: window.Minute, From: 100, To: 1000}, []int64{}},
		{"granularity without rows", All(window.Year), []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Query(tc.q)
			if err != nil {
				t.Fatalf("Query(%+v): %v", tc.q, err)
			}
			if !slices.Equal(starts(got), tc.want) {
				t.Errorf("Query(%+v) starts = %v, want %v", tc.q, starts(got), tc.want)
			}
			for _, r := range got {
				if r.Granularity != tc.q.Granularity {
					t.Errorf("Query(%+v) returned a %v window", tc.q, r.Granularity)
				}
			}
		})
	}
	if _, err := v.Query(Query{Granularity: window.Granularity(99)}); !errors.Is(err, window.ErrGranularity) {
		t.Errorf("Query(granularity 99) error = %v, want ErrGranularity", err)
	}
}

// TestResultFields checks each field against the row it came from: the view must publish what
// the pipeline would for the same row.
func TestResultFields(t *testing.T) {
	rows := testRows(t)
	v := startTester(t, rows)
	got, err := v.Windows(window.Minute, 1468244340, 1468244400)
	if err != nil {
		t.Fatal(err)
	}
	src := rows[minute(1468244340).String()].(*processor.WindowState)
	want := codec.NewResult(minute(1468244340), src.Sketch.Estimate(), 150)
	want.Final, want.Revision, want.LateFrames = true, 1, 3
	want.Precision, want.StdError = src.Sketch.Precision(), src.Sketch.StdError()
	if len(got) != 1 || got[0] != want {
		t.Fatalf("Windows = %+v, want [%+v]", got, want)
	}
	// At 100 users a p=14 sketch is exact (sparse linear counting).
	if got[0].Uniques != 100 {
		t.Errorf("uniques = %d, want 100", got[0].Uniques)
	}
	if got[0].StartTime != "2016-07-11T13:39:00Z" || got[0].End != 1468244400 {
		t.Errorf("start_time, end = %q, %d; want 2016-07-11T13:39:00Z, 1468244400", got[0].StartTime, got[0].End)
	}
	hs, err := v.Windows(window.Hour, 1468245600, 1468245601)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Uniques != 0 || hs[0].Final {
		t.Errorf("hour with an empty sketch = %+v, want one provisional record with 0 uniques", hs)
	}
}

func TestGet(t *testing.T) {
	v := startTester(t, testRows(t))
	tests := []struct {
		name    string
		key     window.Key
		found   bool
		uniques uint64
	}{
		{"final minute", minute(1468244340), true, 100},
		{"open minute", minute(1468244400), true, 200},
		{"hour", hour(1468242000), true, 250},
		{"missing", minute(1468244520), false, 0},
		{"other granularity at a minute's start", window.Key{Granularity: window.Day, Start: 1468195200}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := v.Get(tc.key)
			if err != nil {
				t.Fatalf("Get(%v): %v", tc.key, err)
			}
			if ok != tc.found || got.Uniques != tc.uniques {
				t.Errorf("Get(%v) = %d uniques, found %v; want %d, %v", tc.key, got.Uniques, ok, tc.uniques, tc.found)
			}
			if ok && got.Key() != tc.key {
				t.Errorf("Get(%v) key = %v", tc.key, got.Key())
			}
		})
	}
}

func TestProgress(t *testing.T) {
	v := startTester(t, testRows(t))
	got, err := v.Progress()
	if err != nil {
		t.Fatal(err)
	}
	want := Progress{
		Partitions: 2,
		Watermark:  1468244380, // the slower stage-2 partition holds windows open
		Open:       3,
		Expiring:   1,
		Inputs: []InputProgress{
			{ID: 0, Watermark: 1468244410, MaxTS: 1468244415}, // the most advanced report
			{ID: 1, Watermark: 1468244470, MaxTS: 1468244475, Idle: true},
			{ID: 2, Watermark: math.MinInt64, MaxTS: math.MinInt64},
		},
	}
	if got.Partitions != want.Partitions || got.Watermark != want.Watermark || got.Open != want.Open ||
		got.Expiring != want.Expiring || !slices.Equal(got.Inputs, want.Inputs) {
		t.Errorf("Progress() = %+v, want %+v", got, want)
	}
}

func TestProgressEmpty(t *testing.T) {
	v := startTester(t, nil)
	got, err := v.Progress()
	if err != nil {
		t.Fatal(err)
	}
	if got.Partitions != 0 || got.Watermark != math.MinInt64 || len(got.Inputs) != 0 {
		t.Errorf("Progress() of an empty table = %+v, want no partitions and watermark MinInt64", got)
	}
}

// TestLifecycle: no answers before Run has recovered, none after it returned, and Run once.
func TestLifecycle(t *testing.T) {
	tt := tester.New(t)
	cfg := DefaultConfig()
	cfg.App = testApp
	v, err := Open(context.Background(), cfg, goka.WithViewTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	if v.Recovered() {
		t.Error("Recovered() before Run = true")
	}
	if _, err := v.Windows(window.Minute, 0, math.MaxInt64); !errors.Is(err, ErrNotRecovered) {
		t.Errorf("Windows before Run: error = %v, want ErrNotRecovered", err)
	}
	if _, _, err := v.Get(minute(60)); !errors.Is(err, ErrNotRecovered) {
		t.Errorf("Get before Run: error = %v, want ErrNotRecovered", err)
	}
	if _, err := v.Progress(); !errors.Is(err, ErrNotRecovered) {
		t.Errorf("Progress before Run: error = %v, want ErrNotRecovered", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	if err := v.WaitRecovered(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Windows(window.Minute, 0, math.MaxInt64); err != nil {
		t.Errorf("Windows after recovery: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if v.Recovered() {
		t.Error("Recovered() after Run returned = true")
	}
	if _, err := v.Windows(window.Minute, 0, math.MaxInt64); !errors.Is(err, ErrClosed) {
		t.Errorf("Windows after Run: error = %v, want ErrClosed", err)
	}
	if err := v.WaitRecovered(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitRecovered after Run: error = %v, want ErrClosed", err)
	}
	if err := v.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Run = %v, want ErrClosed", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"default", func(*Config) {}, true},
		{"state dir", func(c *Config) { c.StateDir = t.TempDir() }, true},
		{"no app", func(c *Config) { c.App = "" }, false},
		{"no brokers", func(c *Config) { c.Kafka.Brokers = nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
	if got, want := DefaultConfig().Table(), goka.Table("kuniq-windows-table"); got != want {
		t.Errorf("Table() = %q, want %q", got, want)
	}
}
