package emitter_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
)

// benchFrames is the number of 2 KB challenge-shaped frames per benchmark run:
// KUNIQ_BENCH_FRAMES, 20,000 by default (40 MB; 200,000 for the documented measurement).
func benchFrames(b *testing.B) int {
	if s := os.Getenv("KUNIQ_BENCH_FRAMES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("KUNIQ_BENCH_FRAMES=%q: %v", s, err)
		}
		return n
	}
	return 20_000
}

// BenchmarkIntegrationIngest measures ingest into a fresh 4-partition topic per run, with
// each keying, against the broker of KUNIQ_BROKERS:
//
//	KUNIQ_BROKERS=127.0.0.1:9092 KUNIQ_BENCH_FRAMES=200000 go test -run '^$' -bench IntegrationIngest -benchtime 1x ./emitter/
func BenchmarkIntegrationIngest(b *testing.B) {
	cfg := kafkatest.Config(b)
	input, lines := testLines(b, benchFrames(b), 2080)
	for _, k := range []emitter.Keying{emitter.KeyUID, emitter.KeyHash} {
		b.Run(k.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(input)))
			var frames int64
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				topic := kafkatest.Name(b, "bench")
				if err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: 4}); err != nil {
					b.Fatal(err)
				}
				ec := emitter.DefaultConfig()
				ec.Kafka, ec.Topic, ec.Keying = cfg, topic, k
				in, err := emitter.NewIngest(ec)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				st, err := in.Run(context.Background(), bytes.NewReader(input))
				if err != nil {
					b.Fatal(err)
				}
				if st.Frames != int64(len(lines)) {
					b.Fatalf("ingested %d frames, want %d", st.Frames, len(lines))
				}
				frames += st.Frames
				took += st.Elapsed
			}
			b.ReportMetric(float64(frames)/took.Seconds(), "frames/s")
		})
	}
}

// BenchmarkIntegrationConsume measures how fast a bare sarama consumer (one partition
// consumer per partition, all at once, no processing) reads a topic back: the ceiling for
// anything that processes it. KUNIQ_BENCH_TOPIC names an already ingested topic; without it,
// the benchmark ingests its own first.
func BenchmarkIntegrationConsume(b *testing.B) {
	cfg := kafkatest.Config(b)
	topic := os.Getenv("KUNIQ_BENCH_TOPIC")
	if topic == "" {
		topic = kafkatest.Name(b, "bench-consume")
		if err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: 4}); err != nil {
			b.Fatal(err)
		}
		input, _ := testLines(b, benchFrames(b), 2080)
		ec := emitter.DefaultConfig()
		ec.Kafka, ec.Topic = cfg, topic
		in, err := emitter.NewIngest(ec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := in.Run(context.Background(), bytes.NewReader(input)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	var frames, bytesRead int64
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		n, nb := consumeAll(b, cfg, topic)
		took += time.Since(start)
		frames += n
		bytesRead += nb
	}
	b.ReportMetric(float64(frames)/took.Seconds(), "frames/s")
	b.ReportMetric(float64(bytesRead)/took.Seconds()/1e6, "MB/s")
}

// consumeAll reads every partition of topic from the oldest offset to its high-water mark,
// concurrently, and returns the records and value bytes read.
func consumeAll(b *testing.B, cfg kafka.Config, topic string) (frames, bytes int64) {
	consumer, err := sarama.NewConsumer(cfg.Brokers, cfg.Sarama())
	if err != nil {
		b.Fatal(err)
	}
	defer consumer.Close()
	parts, err := consumer.Partitions(topic)
	if err != nil {
		b.Fatal(err)
	}
	type count struct{ n, bytes int64 }
	done := make(chan count, len(parts))
	for _, p := range parts {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			defer pc.Close()
			var c count
			for hw := pc.HighWaterMarkOffset(); c.n < hw; c.n++ {
				m := <-pc.Messages()
				c.bytes += int64(len(m.Value))
			}
			done <- c
		}()
	}
	for range parts {
		c := <-done
		frames += c.n
		bytes += c.bytes
	}
	return frames, bytes
}
