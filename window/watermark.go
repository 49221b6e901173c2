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

// InputWatermark is the watermark of the whole input, given the progress of every one of its
// partitions (NotHeard for one that has not reported): the minimum watermark over the
// partitions that are not idle, so a partition not heard from holds everything back and an
// idle one holds nothing back.
//
// When every partition is idle, allIdle is true and wm is the largest MaxTS seen plus one
// (math.MinInt64 if no partition has anchored): the input has gone quiet, what was seen is all
// there is, and the caller finalises every open window (that is how a replay finishes). Frames
// that arrive later are judged against the partitions' clocks as always.
//
// The result can move back when an idle partition reports again with an older watermark; a
// caller that closes windows keeps the highest watermark it acted on.
func InputWatermark(parts []Progress) (wm int64, allIdle bool) {
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
		return wm, false
	}
	if maxTS == math.MinInt64 {
		return math.MinInt64, true
	}
	return satAdd(maxTS, 1), true
}
