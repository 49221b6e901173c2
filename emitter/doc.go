// Package emitter produces into Kafka: historical frames into the input topic (Ingest), and
// dead letters' frames back into it (Reingest).
//
// What goes in: lines, one frame per line, from one or more sources (files, stdin; gzip
// already undone by the caller). What comes out: one Kafka record per non-blank line on the
// input topic, the line's bytes as the value, unchanged (or, with Config.Format protobuf, the
// line converted to message Frame of codec/frame.proto; a line that is no frame stays as it is), with three headers: HeaderProducer
// ("kuniq ingest" and its version), HeaderSource (the source's absolute path, "-" for stdin)
// and HeaderLine (the line's number in it). Blank lines (empty or only spaces, tabs and "\r")
// are skipped; lines over Config.MaxLineBytes are skipped, logged and counted; nothing else
// is judged: a malformed frame is produced like any other, because the processor dead-letters
// it with its reason, and that is where bad input must show up.
//
// Guarantees:
//   - Order: each partition holds its lines in input order. A partition has at most one batch
//     in flight, a broker one request, and a failed batch is sent again, as it is, before
//     anything newer (kuniq's clocks read a partition's order as event-time order).
//   - Outages are waited out: a batch that fails (broker down, no leader, not enough
//     replicas) is retried with backoff for up to Config.RetryTimeout (5 min by default),
//     logged when the failure starts, at growing intervals while it lasts and when it ends
//     (internal/retry.Outage), and shown in Progress (Stalled, Problem).
//   - Exactly once within a run: the producer is idempotent (a producer id from the cluster,
//     one sequence number per batch, kept across its retries), so a batch the broker wrote but
//     whose acknowledgement was lost is not written again when it is resent, also after a
//     broker restart (the broker rebuilds its producer state from its log). On a cluster that
//     refuses idempotence (no IdempotentWrite ACL), Run says so at the start and a resent batch
//     may be written twice.
//   - Exactly once across a resume: when Run stops early (it gave up, the broker refused a
//     record, reading failed, ctx ended) it returns a *ResumeError naming the first line not
//     acknowledged. Every line before it is in the topic; lines after it may be too (other
//     partitions ran ahead, a batch in flight was written). Run with Config.FromLine set to
//     that line reads each partition back to its last record of these sources (a partition
//     holds a prefix of its lines, by the order guarantee) and skips every line already there.
//     This holds while the sources, the keying and the topic's partitions stay the same (a
//     record found on a partition its key no longer leads to is ErrLayoutChanged), and while
//     nothing of the stopped run is still on its way when the resume reads back: a broker
//     that appends an old request later (one stalled across the resume, or a batch not yet
//     replicated up to the high-water mark) can still put one of its batches in twice.
//   - Run returns only after every record it sent was acknowledged, or it stopped early; a
//     producer error is returned, wrapped, never swallowed.
//   - Records carry no event-time timestamp: they are stamped with the send time. Stamping
//     2016 event times would let a topic with finite retention delete them on arrival.
//   - Keys: by default (KeyUID) a record's key is the frame's root "uid", so one user always
//     lands on one partition and an ingest of the same file places every frame on the same
//     partition again. Lines that do not decode get a hash of the line as key. The key is
//     never empty. Partitions are chosen as sarama's hash partitioner (and so Goka's emitters)
//     choose them: FNV-1a of the key.
//
// The keying choice, measured (2 shared cores, broker on the same machine, 200k frames of
// 2 KB, `kuniq ingest --key uid|hash`): KeyUID decodes every frame (~3 µs, BenchmarkKey) and
// ran at 68–116k frames/s (140–240 MB/s, 2.2 s of client CPU); KeyHash (CRC-32C of the line,
// ~0.2 µs) at 96–134k frames/s (200–280 MB/s, 1.7 s of CPU). Both balance partitions within a
// few percent. KeyUID is the default: user affinity and a placement that depends only on the
// frame's content are worth ~25 % of the speed of a one-off historical load. KeyHash is there
// for when ingest speed matters more. (A bare sarama consumer read the same topic back at
// ~250k frames/s, 520 MB/s: BenchmarkIntegrationConsume.)
//
// Why its own producer on sarama's client and not sarama's AsyncProducer (or a goka.Emitter,
// whose EmitSync waits for a flush per record): the async producer cannot wait out an outage
// in order (see producer.go), and its idempotent mode re-batches retried records under new
// sequence numbers. Batches here are up to Config.FlushBytes per partition and compressed with
// lz4 (frames compress about 7.5×); measured before and after the change in docs/performance.md.
package emitter
