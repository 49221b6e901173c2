package emitter_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
)

// source is a named input of the test: its Source.ID, and its lines.
type source struct {
	id    string
	lines [][]byte
}

// src makes an emitter.Source of the first n lines of s.
func (s source) src(n int) emitter.Source {
	return emitter.Source{Name: s.id, ID: s.id, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(append(bytes.Join(s.lines[:n], []byte("\n")), '\n'))), nil
	}}
}

// stamped is a record of the topic with the line its headers name.
type stamped struct {
	partition int32
	offset    int64
	source    string
	line      int64
	value     []byte
	producer  string
}

func readStamped(t *testing.T, kc kafka.Config, topic string) []stamped {
	t.Helper()
	var out []stamped
	err := kc.Scan(context.Background(), topic, kafka.ScanFrom{}, func(r kafka.Record) error {
		line, err := strconv.ParseInt(r.Header(emitter.HeaderLine), 10, 64)
		if err != nil {
			return fmt.Errorf("%d/%d: header %s: %w", r.Partition, r.Offset, emitter.HeaderLine, err)
		}
		out = append(out, stamped{r.Partition, r.Offset, r.Header(emitter.HeaderSource), line, r.Value, r.Header(emitter.HeaderProducer)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkExactlyOnce checks that the topic holds every line of srcs once, with its own bytes,
// and each partition its lines in input order. A nil line is one that must not be written.
func checkExactlyOnce(t *testing.T, recs []stamped, srcs ...source) {
	t.Helper()
	order := map[string]int{}
	want := 0
	for i, s := range srcs {
		order[s.id] = i
		for _, l := range s.lines {
			if l != nil {
				want++
			}
		}
	}
	seen := map[string]int{}
	last := map[int32][2]int64{}
	for _, r := range recs {
		si, ok := order[r.source]
		if !ok {
			t.Fatalf("%d/%d: source header %q, want one of the test's", r.partition, r.offset, r.source)
		}
		if r.line < 1 || r.line > int64(len(srcs[si].lines)) || srcs[si].lines[r.line-1] == nil || !bytes.Equal(r.value, srcs[si].lines[r.line-1]) {
			t.Fatalf("%d/%d: %s line %d holds %.40q, not that line", r.partition, r.offset, r.source, r.line, r.value)
		}
		seen[fmt.Sprintf("%s:%d", r.source, r.line)]++
		key := [2]int64{int64(si), r.line}
		if l := last[r.partition]; l[0] > key[0] || l[0] == key[0] && l[1] >= key[1] {
			t.Errorf("partition %d: %s line %d at offset %d follows line %d: out of input order", r.partition, r.source, r.line, r.offset, l[1])
		}
		last[r.partition] = key
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s written %d times, want once", k, n)
		}
	}
	if len(seen) != want || len(recs) != want {
		t.Errorf("topic holds %d records of %d distinct lines, want each of the %d lines once", len(recs), len(seen), want)
	}
}

func newIngest(t *testing.T, ec emitter.Config) *emitter.Ingest {
	t.Helper()
	in, err := emitter.NewIngest(ec)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// resumed is an ingest that was interrupted and resumed: the topic it wrote, its two sources
// and its config (FromLine 1001), for a test's own checks.
type resumed struct {
	kc    kafka.Config
	ctx   context.Context
	topic string
	a, b  source
	ec    emitter.Config
}

// interruptedIngest is the story both resume tests start from, for records of the given
// format: two sources a and b of 1,500 lines each on a fresh 4-partition topic; a first ingest
// that got through a and the first 300 lines of b, then one resumed from line 1001, where
// lines 1..1000 are passed over and 1001..1800 are found in the topic.
func interruptedIngest(t *testing.T, name string, format codec.Format) resumed {
	t.Helper()
	kc, ctx := kafkatest.Ready(t, 2*time.Minute)
	topic := kafkatest.Name(t, name)
	if err := kc.EnsureTopics(kafka.Topic{Name: topic, Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	_, lines := testLines(t, 3000, 300)
	a := source{id: "/data/a.jsonl", lines: lines[:1500]}
	b := source{id: "/data/b.jsonl", lines: lines[1500:]}
	ec := emitter.DefaultConfig()
	ec.Kafka, ec.Topic, ec.Producer, ec.Format = kc, topic, "kuniq ingest test", format
	st, err := newIngest(t, ec).RunSources(ctx, a.src(1500), b.src(300))
	if err != nil || st.Frames != 1800 {
		t.Fatalf("first ingest: %d frames, %v; want 1800", st.Frames, err)
	}
	ec.FromLine = 1001
	st, err = newIngest(t, ec).RunSources(ctx, a.src(1500), b.src(1500))
	if err != nil || st.Before != 1000 || st.Present != 800 || st.Frames != 1200 {
		t.Fatalf("resume: Before %d, Present %d, Frames %d, %v; want 1000, 800, 1200, nil", st.Before, st.Present, st.Frames, err)
	}
	return resumed{kc, ctx, topic, a, b, ec}
}

// TestIntegrationIngestResume: an ingest resumed with FromLine writes exactly the lines the
// topic lacks, across two sources, whatever line it resumes from, and refuses a resume whose
// keying would put lines on other partitions than before.
func TestIntegrationIngestResume(t *testing.T) {
	story := interruptedIngest(t, "resume", codec.FormatJSON)
	kc, ctx, topic, a, b, ec := story.kc, story.ctx, story.topic, story.a, story.b, story.ec
	recs := readStamped(t, kc, topic)
	checkExactlyOnce(t, recs, a, b)
	for _, r := range recs {
		if r.producer != "kuniq ingest test" {
			t.Fatalf("%d/%d: %s = %q, want the Config.Producer", r.partition, r.offset, emitter.HeaderProducer, r.producer)
		}
	}

	// From line 1 after a complete ingest: everything is there, nothing is written.
	ec.FromLine = 1
	st, err := newIngest(t, ec).RunSources(ctx, a.src(1500), b.src(1500))
	if err != nil || st.Present != 3000 || st.Frames != 0 {
		t.Errorf("resume of a complete ingest: Present %d, Frames %d, %v; want 3000, 0, nil", st.Present, st.Frames, err)
	}

	// Another keying puts the lines on other partitions: the tails no longer tell what is there.
	ec.Keying = emitter.KeyHash
	_, err = newIngest(t, ec).RunSources(ctx, a.src(1500), b.src(1500))
	if !errors.Is(err, emitter.ErrLayoutChanged) {
		t.Errorf("resume with --key hash after uid: err = %v, want ErrLayoutChanged", err)
	}
	checkExactlyOnce(t, readStamped(t, kc, topic), a, b)
}

// TestIntegrationIngestSkipsLongLines: lines over MaxLineBytes are skipped, each logged with
// its line number and counted; the others are all written.
func TestIntegrationIngestSkipsLongLines(t *testing.T) {
	kc, ctx := kafkatest.Ready(t, 2*time.Minute)
	topic := kafkatest.Name(t, "long")
	if err := kc.EnsureTopics(kafka.Topic{Name: topic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	_, lines := testLines(t, 40, 300)
	// Line 11 is just over the limit, line 31 far over it (longer than the reader's buffer).
	long := [][]byte{[]byte(`{"pad":"` + strings.Repeat("x", 70_000) + `"}`), bytes.Repeat([]byte{1, 2, 3}, 1<<20)}
	in := append(append(append(append([][]byte{}, lines[:10]...), long[0]), lines[10:29]...), long[1])
	in = append(in, lines[29:]...)
	var log syncBuffer
	ec := emitter.DefaultConfig()
	ec.Kafka, ec.Topic, ec.MaxLineBytes = kc, topic, 64<<10
	ec.Log = slog.New(slog.NewTextHandler(&log, nil))
	st, err := newIngest(t, ec).RunSources(ctx, source{id: "long.jsonl", lines: in}.src(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	if st.TooLong != 2 || st.Frames != int64(len(lines)) {
		t.Errorf("TooLong %d, Frames %d; want 2 and %d", st.TooLong, st.Frames, len(lines))
	}
	for _, want := range []string{"line 11: 70010 bytes > 65536", "line 31: 3145728 bytes > 65536"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	got := map[string]bool{}
	for _, r := range readStamped(t, kc, topic) {
		got[string(r.value)] = true
		if r.line == 11 || r.line == 31 {
			t.Errorf("line %d, too long, was written", r.line)
		}
	}
	for i, l := range lines {
		if !got[string(l)] {
			t.Errorf("generated line %d missing from the topic", i+1)
		}
	}
}

// TestIntegrationIngestRefusedLine: a line the topic's max.message.bytes refuses stops the
// ingest at that line, saying how to skip it; the resume with a lower MaxLineBytes skips it
// and writes the rest, each line once.
func TestIntegrationIngestRefusedLine(t *testing.T) {
	kc, ctx := kafkatest.Ready(t, 2*time.Minute)
	topic := kafkatest.Name(t, "refused")
	admin, err := sarama.NewClusterAdmin(kc.Brokers, kc.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	limit := "100000"
	err = admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"max.message.bytes": &limit}}, false)
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, lines := testLines(t, 20, 300)
	big := make([]byte, 100_000) // incompressible: over the limit in the batch too
	rand.Read(big)
	in := append(append(append([][]byte{}, lines[:10]...), []byte(`{"pad":"`+hex.EncodeToString(big)+`"}`)), lines[10:]...)
	s := source{id: "refused.jsonl", lines: in}
	ec := emitter.DefaultConfig()
	ec.Kafka, ec.Topic = kc, topic
	st, err := newIngest(t, ec).RunSources(ctx, s.src(len(in)))
	var re *emitter.ResumeError
	if !errors.As(err, &re) || !errors.Is(err, emitter.ErrRefused) || !errors.Is(err, sarama.ErrMessageSizeTooLarge) {
		t.Fatalf("Run: err = %v, want a *ResumeError wrapping ErrRefused and ErrMessageSizeTooLarge", err)
	}
	if re.Resume != (emitter.Position{Source: "refused.jsonl", Line: 11, Input: 11}) || st.Frames != 10 {
		t.Errorf("stopped at %+v after %d frames, want refused.jsonl line 11 after 10", re.Resume, st.Frames)
	}
	if !strings.Contains(err.Error(), "--max-line-bytes") {
		t.Errorf("error %q does not say how to skip the line", err)
	}
	ec.FromLine, ec.MaxLineBytes = re.Resume.Input, 100_000
	st, err = newIngest(t, ec).RunSources(ctx, s.src(len(in)))
	if err != nil || st.TooLong != 1 || st.Frames != 10 || st.Before != 10 {
		t.Fatalf("resume: %+v, %v; want 10 frames, 1 too long, 10 before", st, err)
	}
	written := append([][]byte{}, in...)
	written[10] = nil // skipped as too long
	checkExactlyOnce(t, readStamped(t, kc, topic), source{id: s.id, lines: written})
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
