package window

import "math"

// Progress is how far one input partition has got in event time: its Clock's Watermark and
// MaxTS, and whether it is idle. Idle is the reader's judgement (in the pipeline: read to its
// end and without frames for the idle timeout); this package reads no wall clock.
type Progress struct {
	Watermark, MaxTS int64
	Idle             bool
}

// NotHeard is the progress of a partition that has not reported yet: not idle and not
// anchored, so it holds every window open.
var NotHeard = Progress{Watermark: math.MinInt64, MaxTS: math.MinInt64}

// Advance returns p after the report r. Watermark and MaxTS only move forward: a restarted
// partition re-anchors its clock from its committed offset and may first report less than it
// did before, and windows once closed stay closed. Idle is r's.
func (p Progress) Advance(r Progress) Progress {
	return Progress{Watermark: max(p.Watermark, r.Watermark), MaxTS: max(p.MaxTS, r.MaxTS), Idle: r.Idle}
}

// Input is where an input of many partitions stands, as InputWatermark computes it.
type Input struct {
	// Watermark is the input's event-time watermark: the minimum watermark over the
	// partitions that are not idle. Lateness and retention are measured against it.
	Watermark int64
	// Final is how far windows are final: every window ending at or before it. It equals
	// Watermark while a partition is active; when all are idle it is the wall-clock bound.
	Final int64
	// Idle: every partition is idle.
	Idle bool
}

// NoWallClock is the bound to pass to InputWatermark where no wall clock applies (tests of
// the old rule, a replay that must finish whatever the clock says): an idle input then
// finalises every window.
const NoWallClock = int64(math.MaxInt64)

// InputWatermark is the one rule for the watermark of an input of many partitions, given the
// progress of every one of them (NotHeard for one that has not reported) and the wall-clock
// bound wall, which is now − OutOfOrder in unix seconds (the caller reads the clock: this
// function is pure).
//
// While some partition is active, the watermark is the minimum watermark over the partitions
// that are not idle: a partition not heard from holds everything back, an idle one holds
// nothing back, and the wall clock plays no part (event time rules; producers whose clocks
// run ahead of ours move it ahead of our clock).
//
// When every partition is idle the input has gone quiet, and what it has seen may be all
// there is. The watermark advances to the latest event time seen (the largest MaxTS plus one)
// but never past wall, and every window that ended on the wall clock (end <= wall) is final:
// a replay of history (every window ended long ago) finishes by itself, while a pause in live
// input finalises no window whose end has not passed on the clock. Frames that arrive later
// are judged against the partitions' clocks as always, and correct a final window.
//
// The result can move back when an idle partition reports again with an older watermark; a
// caller that closes windows keeps the highest values it acted on.
func InputWatermark(parts []Progress, wall int64) Input {
	wm, active := int64(math.MaxInt64), false
	maxTS := int64(math.MinInt64)
	for _, p := range parts {
		maxTS = max(maxTS, p.MaxTS)
		if !p.Idle {
			active = true
			wm = min(wm, p.Watermark)
		}
	}
	if active {
		return Input{Watermark: wm, Final: wm}
	}
	in := Input{Watermark: math.MinInt64, Final: wall, Idle: true}
	if maxTS != math.MinInt64 {
		in.Watermark = min(satAdd(maxTS, 1), wall)
	}
	return in
}
