// Command live measures how soon a minute's final result follows the minute's close. It
// produces challenge-shaped frames at a steady rate with ts = now into a topic (creating it),
// for -duration, then waits -settle and reads the output topic of a `kuniq run` that consumed
// it. For every final minute record (revision 0) of a minute that lay wholly inside the run,
// the latency is
//
//	the record's Kafka timestamp - (window end + -out-of-order)
//
// that is, the time from the earliest moment the watermark rule lets the minute close (a frame
// with ts >= end + 5 s exists) to the result being on the output topic. Frames are the
// generator's (gen, seed 1) with the live ts and uid appended as the last root keys, which the
// decoder honours (the last duplicate root key wins), so the decode cost is that of real frames.
//
// The last line is machine-readable: "RESULT frames=N windows=W p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..".
package main
