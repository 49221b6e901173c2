// Package format prices the wire format of a frame: how many bytes carry {ts, uid} and what it
// costs to get them back out, in JSON (the challenge's 2 KB frames, and the same two fields
// alone) and in two binary layouts a producer could send instead:
//
//   - Fixed28, 28 bytes: ts as a big-endian int64 (unix seconds), the uid's length as one byte,
//     and the uid in 19 bytes, zero padded. No parsing: two loads and a slice.
//   - Proto, protobuf's wire format of message Frame { int64 ts = 1; string uid = 2; }, written
//     and read by hand with encoding/binary varints (the same bytes protoc's code produces),
//     27 bytes for a 2016 ts (5 varint bytes) and a 19-character uid.
//
// The decoders validate what their layout can get wrong (short input, a length beyond the
// buffer, a wrong wire type) and return ErrFormat, wrapped; they are fuzzed.
//
//	go test -run '^$' -bench Format -benchmem ./scripts/bench/format/
package format
