// Package emitter produces into Kafka: historical frames into the input topic (Ingest).
//
// What goes in: a stream of lines, one frame per line (files, stdin, gzip already undone by the
// caller). What comes out: one Kafka record per non-blank line on the input topic, the line's
// bytes as the value, unchanged. Blank lines (empty or only spaces, tabs and "\r") are skipped;
// nothing else is judged: a malformed frame is produced like any other, because the processor
// dead-letters it with its reason, and that is where bad input must show up.
//
// Guarantees:
//   - Run returns only after every record it sent was acknowledged by the broker (or failed);
//     a producer error is returned, wrapped, never swallowed. One request is in flight per
//     broker, so a batch retried after a transient error is never written behind the next
//     one: a partition holds the file's lines in the file's order (kuniq's clocks read a
//     partition's order as event-time order). Delivery is at-least-once: a retried batch may
//     be written twice; unique counts do not mind, frame sums may count it twice.
//   - Records carry no event-time timestamp: sarama stamps them with the send time. Stamping
//     2016 event times would let a topic with finite retention delete them on arrival.
//   - Keys: by default (KeyUID) a record's key is the frame's root "uid", so one user always
//     lands on one partition and an ingest of the same file places every frame on the same
//     partition again. Lines that do not decode get a hash of the line as key. The key is
//     never empty: Goka's FNV partitioner would put every empty key on one partition. Within a
//     partition, records keep the order of the input.
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
// Why sarama's AsyncProducer and not a goka.Emitter: EmitSync waits for the producer's flush
// (about 10 records/s in a loop), and Emit wraps every record in a promise. The async producer
// batches up to Config.FlushBytes per partition and compresses each batch with lz4 (frames
// compress about 7.5×), which is what makes ingest run at the broker's pace.
package emitter
