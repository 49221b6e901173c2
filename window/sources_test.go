package window

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestSourcesWatermark(t *testing.T) {
	base := time.Date(2016, 7, 11, 13, 40, 0, 0, time.UTC)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	type update struct {
		src       int32
		wm, maxTS int64
		at        int // seconds after base
	}
	tests := []struct {
		name        string
		idle        time.Duration
		updates     []update
		remove      []int32
		now         int
		wantWM      int64
		wantAllIdle bool
		wantOK      bool
	}{
		{
			name: "no sources",
			idle: 30 * time.Second,
			now:  0,
		},
		{
			name:    "one source",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}},
			now:     10,
			wantWM:  1000, wantOK: true,
		},
		{
			name:    "minimum over active sources",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {1, 900, 905, 5}, {2, 1200, 1205, 8}},
			now:     20,
			wantWM:  900, wantOK: true,
		},
		{
			name:    "an idle source does not hold back",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {1, 900, 905, 0}, {0, 1100, 1105, 35}},
			now:     40, // source 1 last heard 40 s ago
			wantWM:  1100, wantOK: true,
		},
		{
			name:    "idle exactly at the timeout still counts",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 10}, {1, 900, 905, 0}},
			now:     30,
			wantWM:  900, wantOK: true,
		},
		{
			name:    "a source that reports again is active again",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {1, 900, 905, 0}, {0, 1100, 1105, 35}, {1, 950, 955, 38}},
			now:     40,
			wantWM:  950, wantOK: true,
		},
		{
			name:    "all idle: the last event time seen closes",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {1, 900, 2005, 5}},
			now:     100,
			wantWM:  2006, wantAllIdle: true, wantOK: true,
		},
		{
			name:    "an unanchored source holds back while active",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {1, math.MinInt64, math.MinInt64, 5}},
			now:     10,
			wantWM:  math.MinInt64, wantOK: true,
		},
		{
			name:    "watermark and maxTS never move back per source",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {0, math.MinInt64, math.MinInt64, 5}},
			now:     10,
			wantWM:  1000, wantOK: true,
		},
		{
			name:    "a report out of time order keeps the latest time",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {1, 900, 905, 20}, {1, 910, 915, 1}},
			now:     45, // heard from source 1 at 20, not at 1
			wantWM:  910, wantOK: true,
		},
		{
			name:    "zero idle timeout: never idle",
			idle:    0,
			updates: []update{{0, 1000, 1005, 0}, {1, 900, 905, 0}},
			now:     1e6,
			wantWM:  900, wantOK: true,
		},
		{
			name:    "a removed source is forgotten",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}, {1, 900, 905, 0}},
			remove:  []int32{1, 7},
			now:     10,
			wantWM:  1000, wantOK: true,
		},
		{
			name:    "all removed",
			idle:    30 * time.Second,
			updates: []update{{0, 1000, 1005, 0}},
			remove:  []int32{0},
			now:     10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSources(tt.idle)
			for _, u := range tt.updates {
				s.Update(u.src, u.wm, u.maxTS, at(u.at))
			}
			for _, src := range tt.remove {
				s.Remove(src)
			}
			wm, allIdle, ok := s.Watermark(at(tt.now))
			if ok != tt.wantOK || (ok && (wm != tt.wantWM || allIdle != tt.wantAllIdle)) {
				t.Errorf("Watermark(+%ds) = %d, %v, %v, want %d, %v, %v", tt.now, wm, allIdle, ok, tt.wantWM, tt.wantAllIdle, tt.wantOK)
			}
		})
	}
}

// TestSourcesWithClocks wires Clocks to Sources as the pipeline does: two
// partitions, one of which runs dry. The watermark follows the slower one
// until it goes idle, then the faster one, then closes everything.
func TestSourcesWithClocks(t *testing.T) {
	base := time.Date(2016, 7, 11, 13, 40, 0, 0, time.UTC)
	s := NewSources(10 * time.Second)
	clocks := []*Clock[struct{}]{NewClock[struct{}](DefaultConfig()), NewClock[struct{}](DefaultConfig())}
	ignore := func(struct{}, int64, Verdict) {}
	feed := func(p int32, from, to int64, now time.Time) {
		for ts := from; ts < to; ts++ {
			clocks[p].Observe(ts, struct{}{}, ignore)
		}
		s.Update(p, clocks[p].Watermark(), clocks[p].MaxTS(), now)
	}
	feed(0, t0, t0+100, base)
	feed(1, t0, t0+50, base)
	if wm, _, _ := s.Watermark(base.Add(time.Second)); wm != t0+49-5 {
		t.Errorf("both active: watermark %d, want %d (partition 1's)", wm, t0+49-5)
	}
	feed(0, t0+100, t0+200, base.Add(15*time.Second))
	if wm, allIdle, _ := s.Watermark(base.Add(16 * time.Second)); wm != t0+199-5 || allIdle {
		t.Errorf("partition 1 idle: watermark %d, %v, want %d, false", wm, allIdle, t0+199-5)
	}
	if wm, allIdle, _ := s.Watermark(base.Add(time.Minute)); wm != t0+200 || !allIdle {
		t.Errorf("all idle: watermark %d, %v, want %d, true", wm, allIdle, t0+200)
	}
}

// TestSourcesConcurrent lets -race check the locking.
func TestSourcesConcurrent(t *testing.T) {
	s := NewSources(time.Second)
	base := time.Unix(0, 0)
	var wg sync.WaitGroup
	for p := range int32(4) {
		wg.Go(func() {
			for i := range int64(200) {
				s.Update(p, i, i+5, base.Add(time.Duration(i)*time.Millisecond))
				s.Watermark(base.Add(time.Duration(i) * time.Millisecond))
			}
		})
	}
	wg.Wait()
	if wm, _, ok := s.Watermark(base.Add(time.Second)); !ok || wm != 199 {
		t.Errorf("Watermark after all updates = %d, %v, want 199, true", wm, ok)
	}
	if n := s.Len(); n != 4 {
		t.Errorf("Len() = %d, want 4", n)
	}
}
