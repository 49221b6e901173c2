package window

import (
	"math"
	"testing"
)

func TestInputWatermark(t *testing.T) {
	const minTS = math.MinInt64
	live := func(wm, maxTS int64) Progress { return Progress{Watermark: wm, MaxTS: maxTS} }
	idle := func(wm, maxTS int64) Progress { return Progress{Watermark: wm, MaxTS: maxTS, Idle: true} }
	const wall = 10_000 // now - out-of-orderness: past every ts below unless a case says so
	tests := []struct {
		name  string
		parts []Progress
		wall  int64
		want  Input
	}{
		{"one partition", []Progress{live(1000, 1005)}, wall, Input{1000, 1000, false}},
		{"minimum over live partitions", []Progress{live(1000, 1005), live(900, 905), live(1200, 1205)}, wall, Input{900, 900, false}},
		{"an idle partition does not hold back", []Progress{live(1000, 1005), idle(900, 905)}, wall, Input{1000, 1000, false}},
		{"an idle partition ahead does not pull forward", []Progress{live(1000, 1005), idle(5000, 5005)}, wall, Input{1000, 1000, false}},
		{"a partition not heard from holds everything back", []Progress{live(1000, 1005), NotHeard}, wall, Input{minTS, minTS, false}},
		{"an unanchored live partition holds back", []Progress{live(1000, 1005), live(minTS, minTS)}, wall, Input{minTS, minTS, false}},
		{"live producers ahead of our clock: event time rules", []Progress{live(1000, 1005)}, 500, Input{1000, 1000, false}},
		{"all idle: history finishes, every window ended on the clock is final", []Progress{idle(1000, 1005), idle(900, 2005)}, wall, Input{2006, wall, true}},
		{"all idle, one never anchored", []Progress{idle(1000, 1005), idle(minTS, minTS)}, wall, Input{1006, wall, true}},
		{"all idle, none anchored", []Progress{idle(minTS, minTS), idle(minTS, minTS)}, wall, Input{minTS, wall, true}},
		{"live input paused: nothing past the clock", []Progress{idle(1000, 1005)}, 1003, Input{1003, 1003, true}},
		{"paused, the clock just past the last ts", []Progress{idle(1000, 1005)}, 1006, Input{1006, 1006, true}},
		{"a replay of data from the future waits for the clock", []Progress{idle(90_000, 90_005)}, wall, Input{wall, wall, true}},
		{"no wall clock: everything seen closes", []Progress{idle(1000, 1005)}, NoWallClock, Input{1006, NoWallClock, true}},
		{"no partitions", nil, wall, Input{minTS, wall, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InputWatermark(tt.parts, tt.wall); got != tt.want {
				t.Errorf("InputWatermark(%v, %d) = %+v, want %+v", tt.parts, tt.wall, got, tt.want)
			}
		})
	}
}

func TestProgressAdvance(t *testing.T) {
	tests := []struct {
		name         string
		from, report Progress
		want         Progress
	}{
		{"first report", NotHeard, Progress{1000, 1005, false}, Progress{1000, 1005, false}},
		{"forward", Progress{1000, 1005, false}, Progress{1100, 1105, false}, Progress{1100, 1105, false}},
		{"a restarted, unanchored partition keeps its progress", Progress{1000, 1005, false}, NotHeard, Progress{1000, 1005, false}},
		{"an older report keeps the newer values", Progress{1000, 1005, false}, Progress{900, 1010, false}, Progress{1000, 1010, false}},
		{"idle follows the report", Progress{1000, 1005, false}, Progress{1000, 1005, true}, Progress{1000, 1005, true}},
		{"busy again", Progress{1000, 1005, true}, Progress{1000, 1005, false}, Progress{1000, 1005, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.from.Advance(tt.report); got != tt.want {
				t.Errorf("%v.Advance(%v) = %v, want %v", tt.from, tt.report, got, tt.want)
			}
		})
	}
}

// TestInputWatermarkWithClocks wires Clocks to InputWatermark as the pipeline does: two
// partitions, one of which runs dry. The watermark follows the slower one until it is idle,
// then the faster one; when both are idle every window that ended on the clock closes.
func TestInputWatermarkWithClocks(t *testing.T) {
	clocks := []*Clock[struct{}]{NewClock[struct{}](DefaultConfig()), NewClock[struct{}](DefaultConfig())}
	parts := []Progress{NotHeard, NotHeard}
	ignore := func(struct{}, int64, Verdict) {}
	feed := func(p int, from, to int64, idle bool) {
		for ts := from; ts < to; ts++ {
			clocks[p].Observe(ts, struct{}{}, ignore)
		}
		parts[p] = parts[p].Advance(Progress{Watermark: clocks[p].Watermark(), MaxTS: clocks[p].MaxTS(), Idle: idle})
	}
	wall := t0 + 1_000_000 // the clock is far past this history
	feed(0, t0, t0+100, false)
	if wm := InputWatermark(parts, wall).Watermark; wm != math.MinInt64 {
		t.Errorf("partition 1 not heard from: watermark %d, want math.MinInt64", wm)
	}
	feed(1, t0, t0+50, false)
	if wm := InputWatermark(parts, wall).Watermark; wm != t0+49-5 {
		t.Errorf("both live: watermark %d, want %d (partition 1's)", wm, t0+49-5)
	}
	feed(1, t0+50, t0+50, true)
	feed(0, t0+100, t0+200, false)
	if in := InputWatermark(parts, wall); in.Watermark != t0+199-5 || in.Idle {
		t.Errorf("partition 1 idle: %+v, want watermark %d, not idle", in, t0+199-5)
	}
	feed(0, t0+200, t0+200, true)
	if in := InputWatermark(parts, wall); in.Watermark != t0+200 || in.Final != wall || !in.Idle {
		t.Errorf("all idle: %+v, want watermark %d, final %d, idle", in, t0+200, wall)
	}
}
