// Package engine is kuniq's counting engine without Kafka: decoded frames go in, in arrival
// order; result records and dead letters come out. `kuniq count` runs it over files and stdin,
// and the Kafka pipeline runs its parts per input partition, so its semantics are the product's.
//
// Three layers, each usable alone:
//
//   - Source: one input's front end. It takes decoded frames (Frame: ts, uid hash, or the
//     decoding error), runs them through a window.Clock (bit-flip guard, watermark, lateness)
//     and hands on each accepted frame with the windows it belongs to, or a dead letter with
//     its reason. The pipeline's pre-aggregation runs one Source per input partition.
//   - Counter: a Source plus the windows it feeds. It finalises a window when the watermark
//     passes its end, corrects a final window when late frames (within the lateness) reach
//     it, optionally emits early results, and closes and evicts windows no frame can reach
//     any more.
//   - Reader: splits a byte stream into lines and decodes them on all cores, but hands the
//     batches on strictly in input order, so a parallel run equals the single-threaded one.
//
// When a window is output (the rule users rely on):
//
//	final:      the first time watermark >= window end, where watermark = max accepted ts - 5 s;
//	            at end of input every open window is final (and closed: one record).
//	correction: a frame accepted into a final window (it was at most Lateness behind the
//	            watermark) makes the window dirty; a dirty window is re-emitted with revision+1
//	            at a watermark advance at least CorrectionEvery (20 s) after its previous
//	            record, so a burst of late frames is one correction.
//	closed:     when watermark >= window end + Lateness no frame can reach it: its last
//	            record has closed:true, carrying a pending correction if it has one; at end
//	            of input every window gets it.
//	early:      with Config.EarlyEvery > 0, an open window that changed is emitted with
//	            final:false at most once per EarlyEvery of event time.
//
// Everything is decided by event time in arrival order, never by the wall clock, so the same
// input gives the same records every time.
package engine
