// Command topicsize reads a topic from its oldest offset to its high-water marks and reports
// what Kafka holds in it: records, tombstones, key+value bytes (uncompressed, as the producer
// handed them over), and what a compacted topic keeps in the end: the live keys (newest record
// not a tombstone) and the bytes of their newest values. `scripts/bench.sh` runs it on
// `<app>-windows-table` (the changelog) and `<app>-partials` to price the pipeline per frame.
//
// The last line is machine-readable:
// "RESULT records=N bytes=B tombstones=T keys=K live_keys=L live_bytes=V".
package main
