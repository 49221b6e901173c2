package emitter_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/internal/testkit"
	"github.com/kuniq/kuniq/kafka"
)

// testLines generates a challenge-shaped stream with every kind of bad line, and returns it
// with its non-blank lines.
func testLines(t testing.TB, count, frameBytes int) ([]byte, [][]byte) {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Pool, cfg.FrameBytes = count, 2000, frameBytes
	cfg.MalformedPct, cfg.BitFlipPct, cfg.LatePct, cfg.DisorderPct = 3, 1, 1, 10
	b, _ := testkit.Generate(t, cfg)
	return b, testkit.Lines(b)
}

// record is what the read-back keeps of a record.
type record struct {
	partition int32
	key       string
	value     []byte
	ts        time.Time
}

// readTopic reads every record of topic up to the high-water marks with a bare sarama
// consumer.
func readTopic(ctx context.Context, t testing.TB, cfg kafka.Config, topic string) []record {
	t.Helper()
	consumer, err := sarama.NewConsumer(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	parts, err := consumer.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	for _, p := range parts {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		for off, hw := int64(0), pc.HighWaterMarkOffset(); off < hw; off++ {
			select {
			case m := <-pc.Messages():
				out = append(out, record{p, string(m.Key), m.Value, m.Timestamp})
			case <-ctx.Done():
				t.Fatalf("partition %d: timed out at offset %d of %d", p, off, hw)
			}
		}
		pc.Close()
	}
	return out
}

// TestIntegrationIngest ingests 5,000 generated frames, malformed lines included, into a
// 4-partition topic and reads them back: every line exactly once, every partition used, each
// user on one partition, and record timestamps of now, not of 2016.
func TestIntegrationIngest(t *testing.T) {
	cfg, ctx := kafkatest.Ready(t, 90*time.Second)
	topic := kafkatest.Name(t, "ingest")
	const partitions = 4
	if err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
	input, lines := testLines(t, 5000, 600)
	// Blank lines and CRLF endings are skipped and trimmed, not produced.
	input = append([]byte("\n  \r\n"), input...)
	input = append(input, "\r\n\n"...)

	ec := emitter.DefaultConfig()
	ec.Kafka, ec.Topic = cfg, topic
	var mu sync.Mutex
	var snaps []emitter.Progress
	ec.ProgressEvery = 10 * time.Millisecond
	ec.Progress = func(p emitter.Progress) { mu.Lock(); snaps = append(snaps, p); mu.Unlock() }
	ec.TotalBytes = int64(len(input))
	in, err := emitter.NewIngest(ec)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	st, err := in.Run(ctx, bytes.NewReader(input))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	after := time.Now()
	if st.Frames != int64(len(lines)) || st.Failed != 0 || st.Read != int64(len(input)) || st.Blank != 4 {
		t.Errorf("Stats = %+v, want %d frames, 0 failed, %d bytes read, 4 blank", st, len(lines), len(input))
	}
	if len(snaps) == 0 || !snaps[len(snaps)-1].Done || snaps[len(snaps)-1].Frames != st.Frames {
		t.Errorf("last progress snapshot of %d = %+v, want Done with %d frames", len(snaps), snaps[len(snaps)-1:], st.Frames)
	}

	got := readTopic(ctx, t, cfg, topic)
	want := map[string]int{}
	for _, l := range lines {
		want[string(l)]++
	}
	perPartition := map[int32]int64{}
	userPart := map[string]int32{}
	var dec codec.FrameDecoder
	malformed := 0
	for _, r := range got {
		want[string(r.value)]--
		perPartition[r.partition]++
		// Brokers store CreateTime in ms; allow for that and for clock steps.
		if r.ts.Before(before.Add(-time.Minute)) || r.ts.After(after.Add(time.Minute)) {
			t.Fatalf("record timestamp %v outside the ingest's [%v, %v]: event time leaked into it?", r.ts, before, after)
		}
		if r.key == "" {
			t.Fatalf("empty key for %.60q", r.value)
		}
		f, err := dec.Decode(r.value)
		if err != nil {
			malformed++
			continue
		}
		if r.key != string(f.UID) {
			t.Errorf("key %q, want the uid %q", r.key, f.UID)
		}
		if p, ok := userPart[r.key]; ok && p != r.partition {
			t.Errorf("user %s on partitions %d and %d, want one", r.key, p, r.partition)
		}
		userPart[r.key] = r.partition
	}
	for l, n := range want {
		if n != 0 {
			t.Errorf("line %.60q read back %d times more than ingested", l, -n)
		}
	}
	if len(got) != len(lines) {
		t.Errorf("read %d records, want %d", len(got), len(lines))
	}
	if malformed == 0 {
		t.Error("no malformed line was ingested: the test data should hold some")
	}
	if len(perPartition) != partitions {
		t.Errorf("records in %d partitions, want all %d: %v", len(perPartition), partitions, perPartition)
	}
	for p, n := range perPartition {
		if st.PerPartition[p] != n {
			t.Errorf("Stats.PerPartition[%d] = %d, read back %d", p, st.PerPartition[p], n)
		}
	}
}

// TestIntegrationIngestErrors checks that failures come back from Run instead of vanishing: a
// missing topic, a broker that refuses the batches, and a cancelled context.
func TestIntegrationIngestErrors(t *testing.T) {
	cfg, ctx := kafkatest.Ready(t, 90*time.Second)
	input, _ := testLines(t, 200, 2080)
	newIngest := func(topic string) *emitter.Ingest {
		ec := emitter.DefaultConfig()
		ec.Kafka, ec.Topic = cfg, topic
		in, err := emitter.NewIngest(ec)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}

	t.Run("missing topic", func(t *testing.T) {
		topic := kafkatest.Name(t, "missing")
		_, err := newIngest(topic).Run(ctx, bytes.NewReader(input))
		if !errors.Is(err, emitter.ErrNoTopic) {
			t.Fatalf("Run into a missing topic: err = %v, want ErrNoTopic", err)
		}
		admin, err := sarama.NewClusterAdmin(cfg.Brokers, cfg.Sarama())
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if topics, err := admin.ListTopics(); err != nil {
			t.Fatal(err)
		} else if _, ok := topics[topic]; ok {
			t.Errorf("topic %q exists after the failed ingest, want no auto-creation", topic)
		}
	})

	t.Run("broker refuses", func(t *testing.T) {
		// A topic whose records may hold at most 1,000 bytes refuses every batch of frames.
		topic := kafkatest.Name(t, "small")
		admin, err := sarama.NewClusterAdmin(cfg.Brokers, cfg.Sarama())
		if err != nil {
			t.Fatal(err)
		}
		small := "1000"
		err = admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
			ConfigEntries: map[string]*string{"max.message.bytes": &small}}, false)
		admin.Close()
		if err != nil {
			t.Fatal(err)
		}
		st, err := newIngest(topic).Run(ctx, bytes.NewReader(input))
		if !errors.Is(err, sarama.ErrMessageSizeTooLarge) {
			t.Fatalf("Run into a topic refusing the batches: err = %v, want ErrMessageSizeTooLarge", err)
		}
		if st.Failed == 0 || st.Frames != 0 {
			t.Errorf("Stats = %+v, want Failed > 0 and no frames", st)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		topic := kafkatest.Name(t, "cancel")
		if err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: 1}); err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithCancelCause(ctx)
		stopped := errors.New("stopped by the test")
		ccancel(stopped)
		st, err := newIngest(topic).Run(cctx, bytes.NewReader(input))
		if !errors.Is(err, stopped) {
			t.Fatalf("Run with a cancelled context: err = %v, want the cause %v", err, stopped)
		}
		if st.Frames > 1 {
			t.Errorf("Frames = %d after cancelling before the start, want at most 1", st.Frames)
		}
	})
}

// TestIntegrationIngestCompression: each codec Config.Compression names is what the broker
// stores (the batches fetched raw carry it), and every line reads back once, its bytes intact.
func TestIntegrationIngestCompression(t *testing.T) {
	kc, ctx := kafkatest.Ready(t, 90*time.Second)
	client, err := sarama.NewClient(kc.Brokers, kc.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	_, lines := testLines(t, 600, 600)
	for _, cc := range []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP,
		sarama.CompressionSnappy, sarama.CompressionLZ4, sarama.CompressionZSTD} {
		t.Run(cc.String(), func(t *testing.T) {
			topic := kafkatest.Name(t, "compression-"+cc.String())
			if err := kc.EnsureTopics(kafka.Topic{Name: topic, Partitions: 1}); err != nil {
				t.Fatal(err)
			}
			ec := emitter.DefaultConfig()
			ec.Kafka, ec.Topic, ec.Compression = kc, topic, cc
			a := source{id: "/data/a.jsonl", lines: lines}
			if st, err := newIngest(t, ec).RunSources(ctx, a.src(len(lines))); err != nil || st.Frames != int64(len(lines)) {
				t.Fatalf("ingest: %d frames, %v; want %d", st.Frames, err, len(lines))
			}
			checkExactlyOnce(t, readStamped(t, kc, topic), a)
			if got := storedCodecs(t, client, topic); len(got) != 1 || !got[cc] {
				t.Errorf("batches on the broker: codecs %v, want only %v", got, cc)
			}
		})
	}
}

// storedCodecs fetches partition 0 of topic raw from its leader and returns the codecs of its
// record batches, as the broker stored them.
func storedCodecs(t *testing.T, client sarama.Client, topic string) map[sarama.CompressionCodec]bool {
	t.Helper()
	leader, err := client.Leader(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Fetch v10 or later: a broker refuses zstd batches to older fetches.
	req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 500, MinBytes: 1, MaxBytes: 64 << 20,
		Isolation: sarama.ReadUncommitted, SessionEpoch: -1}
	req.AddBlock(topic, 0, 0, 64<<20, -1)
	resp, err := leader.Fetch(req)
	if err != nil {
		t.Fatal(err)
	}
	block := resp.GetBlock(topic, 0)
	if block == nil || block.Err != sarama.ErrNoError {
		t.Fatalf("fetch %s/0: %v", topic, block)
	}
	got := map[sarama.CompressionCodec]bool{}
	for _, rs := range block.RecordsSet {
		if rs.RecordBatch != nil {
			got[rs.RecordBatch.Codec] = true
		}
	}
	return got
}
