package emitter_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
)

// TestIntegrationIngestProtobufResume: ingest --format protobuf writes each line as the
// protobuf message of its frame, and a resume of it finds what is there from the protobuf
// records' keys and headers, so every line lands once.
func TestIntegrationIngestProtobufResume(t *testing.T) {
	kc, ctx := kafkatest.Ready(t, 2*time.Minute)
	topic := kafkatest.Name(t, "resume-pb")
	if err := kc.EnsureTopics(kafka.Topic{Name: topic, Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	_, lines := testLines(t, 3000, 300)
	a := source{id: "/data/a.jsonl", lines: lines[:1500]}
	b := source{id: "/data/b.jsonl", lines: lines[1500:]}
	ec := emitter.DefaultConfig()
	ec.Kafka, ec.Topic, ec.Producer, ec.Format = kc, topic, "kuniq ingest test", codec.FormatProtobuf
	st, err := newIngest(t, ec).RunSources(ctx, a.src(1500), b.src(300))
	if err != nil || st.Frames != 1800 {
		t.Fatalf("first ingest: %d frames, %v; want 1800", st.Frames, err)
	}
	ec.FromLine = 1001
	st, err = newIngest(t, ec).RunSources(ctx, a.src(1500), b.src(1500))
	if err != nil || st.Before != 1000 || st.Present != 800 || st.Frames != 1200 {
		t.Errorf("resume: Before %d, Present %d, Frames %d, %v; want 1000, 800, 1200, nil", st.Before, st.Present, st.Frames, err)
	}
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
