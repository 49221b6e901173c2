// Package gen writes synthetic frames shaped like the original challenge's
// data, and the exact truth kuniq must reproduce from them.
//
// What goes in: a Config (frame count, clock rate, user pool, seed, and knobs
// for disorder, very late frames, bit-flipped timestamps, malformed lines and
// clock jumps). What comes out: one compact JSON object per line, about
// Config.FrameBytes bytes each, with a root "uid" (19 lowercase hex chars)
// and an integer root "ts" among Lorem-ipsum keys that repeat; in about two
// of three frames nested objects carry decoy "uid" and "ts" keys, so only a
// root-level parse finds the right pair. After WriteTo, Truth returns the
// exact number of unique users and of frames per window for the six UTC
// granularities (minute, hour, day, ISO week from Monday, month, year).
//
// Guarantees:
//   - The output is a pure function of the Config: the same seed gives the
//     same bytes and the same truth, whatever the writer and its buffering.
//   - Every line kuniq must count (Clean and Disordered) parses with
//     encoding/json, holds exactly one root "uid" (a string) and one root
//     "ts" (an integer), and its ts and uid are those reported to OnFrame.
//   - Every Malformed line is either rejected by encoding/json or lacks a
//     root string "uid" or integer "ts". Lines never contain a raw newline.
//   - The truth counts Clean and Disordered frames only. Late frames (ts
//     at least LateBy below the newest counted ts), BitFlipped frames
//     (one bit of ts in [13, 40] flipped: a jump of at least 2.3 h, sometimes
//     past year 9999) and Malformed lines are excluded from every window.
//
// Window bounds come from package window, the same bucket math kuniq uses.
//
// The truth assumes the engine's rules (docs/design.md, "When a window is
// output"): disorder within the allowed out-of-orderness (DisorderMax,
// default 5 s, must stay below the allowed lateness) counts; LateBy must
// exceed the engine's allowed lateness (default 1 h) plus its
// out-of-orderness for Late frames to be dropped.
package gen
