// Command consume reads a whole topic with a bare sarama consumer group and reports how fast:
// the practical ceiling for `kuniq run`, whose stage 1 is a consumer group on the same topic.
//
// It snapshots every partition's high-water mark, joins a fresh group (oldest offset), marks
// each message as a group consumer would, and stops when every partition has reached its mark.
// With -decode it also decodes each frame with codec.FrameDecoder, to show what parsing adds.
// The last line is machine-readable: "RESULT frames=N bytes=B secs=S steady_secs=T".
package main
