// Package processor is kuniq's Kafka pipeline: two stages that turn the frames topic into
// per-window unique counts on the output topic, with the state in a Goka table.
//
// Stage 1, pre-aggregation (sarama consumer group "<app>-preagg", stateless): reads frames as
// raw bytes in batches, decodes them on every core (engine.Decoders), runs each input partition
// through its own engine.Source in offset order (decoder, bit-flip guard, watermark, lateness:
// the rules `kuniq count` applies to one file), adds each counted uid hash to an in-memory
// partial sketch per window, and sends bad frames to the dead-letter topic (original bytes,
// reason in the headers). Every FlushInterval (or MaxPending frames) it sends the partials to
// the partials topic keyed by window, waits for Kafka to acknowledge them, then broadcasts the
// partition's Mark (watermark, max ts, idle) to every stage-2 partition, and only then marks
// the offset for commit. A crash therefore re-reads frames whose partials may have been sent:
// at-least-once, which HLL union turns into exactly-once uniques. Broker faults are waited out
// (PreAgg.Run); docs/design.md lists what is waited out and what stops the process.
//
// Stage 2, the window table (Goka group "<app>-windows", Persist; restarted in-process after a
// broker fault): merges partials into the window's row (sketch, frames, revision), counting
// each flush's frames once per input partition. Each stage-2 partition has a control row (key ControlKeys()[p]) that keeps every
// input partition's Mark and the partition's windows by state: open, closing (final, within
// the lateness), pending (a correction waiting for its turn) and expiring. The watermark is
// window.InputWatermark's: the minimum over input partitions that are not idle; when all are
// idle, windows that ended on the wall clock are final and no other. When it passes a
// window's end, the control row sends the window a Finalize command through the loop topic (a
// callback may write only its own row), and the window publishes its final record. A late
// partial for a final window makes a correction (revision+1), published at once if the
// window's previous record is CorrectionInterval old, otherwise when the control row says it
// is due. The marks, which every input partition sends every flush interval, busy or idle,
// are stage 2's tick. Once the watermark passes a final window's end by the allowed lateness,
// the window publishes its closed record (closed:true, its last count) and takes no partial
// any more. Closed windows are deleted (tombstoned) once their granularity's retention has
// passed in event time.
package processor
