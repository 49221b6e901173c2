package window

import (
	"math"
	"testing"
)

func TestInputWatermark(t *testing.T) {
	const minTS = math.MinInt64
	live := func(wm, maxTS int64) Progress { return Progress{Watermark: wm, MaxTS: maxTS} }
	idle := func(wm, maxTS int64) Progress { return Progress{Watermark: wm, MaxTS: maxTS, Idle: true} }
	tests := []struct {
		name        string
		parts       []Progress
		wantWM      int64
		wantAllIdle bool
	}{
		{"one partition", []Progress{live(1000, 1005)}, 1000, false},
		{"minimum over live partitions", []Progress{live(1000, 1005), live(900, 905), live(1200, 1205)}, 900, false},
		{"an idle partition does not hold back", []Progress{live(1000, 1005), idle(900, 905)}, 1000, false},
		{"an idle partition ahead does not pull forward", []Progress{live(1000, 1005), idle(5000, 5005)}, 1000, false},
		{"a partition not heard from holds everything back", []Progress{live(1000, 1005), NotHeard}, minTS, false},
		{"an unanchored live partition holds back", []Progress{live(1000, 1005), live(minTS, minTS)}, minTS, false},
		{"all idle: the last event time seen closes", []Progress{idle(1000, 1005), idle(900, 2005)}, 2006, true},
		{"all idle, one never anchored", []Progress{idle(1000, 1005), idle(minTS, minTS)}, 1006, true},
		{"all idle, none anchored", []Progress{idle(minTS, minTS), idle(minTS, minTS)}, minTS, true},
		{"no partitions", nil, minTS, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wm, allIdle := InputWatermark(tt.parts)
			if wm != tt.wantWM || allIdle != tt.wantAllIdle {
				t.Errorf("InputWatermark(%v) = %d, %v, want %d, %v", tt.parts, wm, allIdle, tt.wantWM, tt.wantAllIdle)
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
// then the faster one; when both are idle everything seen closes.
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
	feed(0, t0, t0+100, false)
	if wm, _ := InputWatermark(parts); wm != math.MinInt64 {
		t.Errorf("partition 1 not heard from: watermark %d, want math.MinInt64", wm)
	}
	feed(1, t0, t0+50, false)
	if wm, _ := InputWatermark(parts); wm != t0+49-5 {
		t.Errorf("both live: watermark %d, want %d (partition 1's)", wm, t0+49-5)
	}
	feed(1, t0+50, t0+50, true)
	feed(0, t0+100, t0+200, false)
	if wm, allIdle := InputWatermark(parts); wm != t0+199-5 || allIdle {
		t.Errorf("partition 1 idle: watermark %d, %v, want %d, false", wm, allIdle, t0+199-5)
	}
	feed(0, t0+200, t0+200, true)
	if wm, allIdle := InputWatermark(parts); wm != t0+200 || !allIdle {
		t.Errorf("all idle: watermark %d, %v, want %d, true", wm, allIdle, t0+200)
	}
}
