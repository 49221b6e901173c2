// Package window decides, from event time alone, which windows a frame
// belongs to and when a window is final. It knows nothing about Kafka and
// uses only the standard library; the same code serves `kuniq count` (one
// Clock over its one input stream) and the Kafka pipeline (one Clock per
// input partition in stage 1, InputWatermark over the partitions' progress in
// stage 2).
//
// # Windows
//
// A Granularity is a minute, hour, day, ISO week (Monday 00:00), calendar
// month or calendar year, all in UTC. Granularity.Start maps a timestamp (unix
// seconds, negative too) to the start of its window and Granularity.End to the
// start of the next one; a window is the half-open range [start, end). A Key
// names one window; its text "minute/1468244340" is the Kafka key of the
// window's records. AppendKeys lists the windows a frame falls in without
// allocating. Month and year math uses integer civil-date arithmetic, not
// time.Time, because it runs for every frame and granularity.
//
// # The per-source clock
//
// A Clock reads one source's frames in arrival order and gives each a
// Verdict: Accept (count it), Late (dead letter: too old) or Jump (dead
// letter: a timestamp far from the source's event time that did not prove
// itself). It keeps maxTS, the largest accepted ts, and the watermark
//
//	watermark = maxTS - OutOfOrder          (math.MinInt64 until anchored)
//
// Windows that end at or before the watermark are final. Given a frame with
// timestamp ts, once the clock is anchored:
//
//   - ts < watermark - Lateness: Late. Equality is still accepted. A backward
//     bit flip (years ago) is late by construction and needs no guard.
//   - ts > maxTS + MaxJump: suspect. The frame is held, not counted and not
//     allowed to move the watermark. Held frames within MaxJump of each
//     other (single linkage: within MaxJump of a cluster's [min, max]) form
//     a pending jump.
//   - otherwise: Accept; maxTS becomes max(maxTS, ts). A frame accepted here
//     is "at the old time" and counts as one disagreeing frame against every
//     pending jump.
//
// A pending jump is confirmed when Confirm frames agree with it (it holds
// Confirm frames): the clock moves there (maxTS becomes the largest ts in
// it) and its frames are Accepted in their arrival order, so a replay that
// skips days loses no frame. It is rejected, its frames judged Jump, when
// Reject disagreeing frames have arrived since it started and it was not
// confirmed first: an isolated bit flip is outvoted by the normal frames
// around it, however many flips of the same bit cluster together, as long as
// fewer than Confirm of them arrive before Reject normal ones. After a move,
// every other held frame is judged again, in arrival order, against the
// moved clock (it may now be Accepted, Late, or still pending, keeping the
// disagreeing count it had).
//
// Time is not trusted blindly at the start either: until anchored the clock
// holds every frame, clustered as above, and anchors on the first cluster to
// reach Confirm frames, exactly as a confirmed jump. Frames of other clusters
// are then judged against it, and frames of the anchoring cluster that
// arrived after them count against them as disagreeing. So a bit-flipped
// first frame neither anchors time nor opens a window. Frames genuinely
// older than the anchor by more than Lateness are Late: they cannot be told
// from a backward bit flip.
//
// Flush ends the input. An unanchored clock anchors on the largest cluster
// (ties: the earliest). Then a pending jump that no frame disagreed with
// since it started, and that holds at least FlushConfirm frames, is
// confirmed (the input ended right after a genuine jump), largest first; all
// other pending jumps are rejected. FlushConfirm (default 2) keeps a single
// far-future flip that happens to be the last frame from opening a window.
//
// Holding is bounded: when more than MaxHeld frames are held, the clock
// settles by majority until it is back within bounds: the largest pending
// jump is confirmed if it holds a majority of the held frames and more
// agreeing than disagreeing frames; otherwise the oldest pending jump is
// rejected (an unanchored clock anchors on the largest cluster).
//
// Everything depends on arrival order only, never on the wall clock, so the
// same input always yields the same verdicts, and a frame's verdict is given
// exactly once. Observe reports, through its decide callback, every frame
// whose fate that call settled, in arrival order; a held frame's verdict
// comes in a later call. A frame within MaxJump ahead of maxTS is accepted
// and moves the watermark at once: MaxJump is also the most a single flip of
// a low bit can close windows early by (their later frames are then not lost
// but counted as revisions, within Lateness).
//
// # Many partitions
//
// InputWatermark is the one rule for the watermark of an input of many
// partitions: the minimum watermark over partitions that are not idle. A
// partition not heard from yet (NotHeard) holds everything back; an idle one
// holds nothing back. When every partition is idle, the watermark is the
// latest event time seen plus one, but never past the wall-clock bound the
// caller passes (now - OutOfOrder), and every window that ended on the wall
// clock is final: a replay of history finishes by itself, a pause in live
// input finalises nothing whose end has not passed on the clock. Whether a
// partition is idle is its reader's call (stage 1 of the pipeline: read to
// its end and no frame for the idle timeout), passed in as Progress.Idle, and
// the wall clock is passed in too: the function is pure.
// Progress.Advance keeps a partition's progress from moving back when it
// restarts. `kuniq count` reads one stream, whose watermark is its Clock's,
// and ends with its input (where every window is final), so it needs no
// combining and no wall clock.
//
// Clock is not safe for concurrent use; the rest of the package has no state.
package window
