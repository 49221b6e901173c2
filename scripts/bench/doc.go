// Package bench holds nothing but this comment: its subdirectories are the small programs and
// benchmarks that scripts/bench.sh (`make bench`) runs, and docs/performance.md reports.
//
//   - consume: a bare sarama consumer group reading a whole topic, the ceiling for kuniq run.
//   - lag: a consumer group's lag (committed offsets against high-water marks), waited on.
//   - live: frames at a live rate with ts = now, then the close-to-final latency of minutes.
//   - topicsize: records, bytes and live keys of a topic (the changelog's cost).
//   - jsonbase: the naive encoding/json baseline of `kuniq count`.
//   - profile: `kuniq count`'s engine as a benchmark, for a CPU profile.
//   - format: decoding the same {ts, uid} from JSON and from binary layouts.
//
// They measure; none of them is part of kuniq, and none asserts a timing.
package bench
