package emitter_test

import (
	"bytes"
	"testing"

	"github.com/kuniq/kuniq/codec"
)

// TestIntegrationIngestProtobufResume: ingest --format protobuf writes each line as the
// protobuf message of its frame, and a resume of it finds what is there from the protobuf
// records' keys and headers, so every line lands once.
func TestIntegrationIngestProtobufResume(t *testing.T) {
	story := interruptedIngest(t, "resume-pb", codec.FormatProtobuf)
	kc, topic, a, b := story.kc, story.topic, story.a, story.b
	var jd codec.FrameDecoder
	seen := map[[2]int64]bool{}
	for _, r := range readStamped(t, kc, topic) {
		src := map[string]int64{a.id: 0, b.id: 1}[r.source]
		k := [2]int64{src, r.line}
		if seen[k] {
			t.Fatalf("%s line %d written twice", r.source, r.line)
		}
		seen[k] = true
		line := a.lines
		if src == 1 {
			line = b.lines
		}
		l := line[r.line-1]
		f, err := jd.Decode(l)
		if err != nil {
			if !bytes.Equal(r.value, l) {
				t.Errorf("%s line %d is no frame and should be produced as it is: %q", r.source, r.line, r.value)
			}
			continue
		}
		if want := codec.AppendProtoFrame(nil, f.TS, f.UID); !bytes.Equal(r.value, want) {
			t.Errorf("%s line %d: value %x, want the protobuf frame %x", r.source, r.line, r.value, want)
		}
	}
	if len(seen) != 3000 {
		t.Errorf("%d lines in the topic, want 3000", len(seen))
	}
}
