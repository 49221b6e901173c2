// Package metrics defines every Prometheus metric kuniq exports, in one place, and serves them
// in the Prometheus text format. The processor calls one hook per event (a batch acknowledged
// by Kafka, a result published, a flush done, a control row updated); what is a state rather
// than an event (consumer lag, watermarks, readiness) is read from a Source when scraped, so
// a scrape always sees the current value and the hot path pays nothing for it.
//
// A nil *Pipeline is valid and records nothing: the processor runs with metrics off unless
// `kuniq run --http` asks for them.
//
// What the counters promise (docs/operations.md, "Metrics", says it for operators):
// kuniq_frames_total and kuniq_dead_letters_total count an input record when the stage-1
// flush that carries its contribution was acknowledged by Kafka and its offset is committed
// by this instance, so the sum over instances equals the records of the input exactly, also
// across rebalances and a hand-over that timed out; they can exceed it only when an
// instance's commit is lost after the acknowledgement (a crash within sarama's 1 s commit
// interval, or a commit that failed while the partition moved to another instance).
package metrics
