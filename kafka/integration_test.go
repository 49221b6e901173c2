package kafka_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
)

// TestIntegrationRoundTrip proves the foundation: against the real broker, kuniq's config
// creates a topic, sarama produces challenge frames into it, and a consumer reads back every
// one of them, in order per partition, with keys and values intact.
func TestIntegrationRoundTrip(t *testing.T) {
	cfg, ctx := kafkatest.Ready(t, 60*time.Second)

	topic := kafkatest.Name(t, "roundtrip")
	const partitions = 4
	if err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: partitions}); err != nil {
		t.Fatalf("EnsureTopics: %v", err)
	}
	// Creating it again is a no-op; asking for another partition count is refused.
	if err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: partitions}); err != nil {
		t.Fatalf("EnsureTopics again: %v", err)
	}
	err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: partitions + 1})
	if !errors.Is(err, kafka.ErrPartitionMismatch) {
		t.Fatalf("EnsureTopics with other partition count: err = %v, want ErrPartitionMismatch", err)
	}
	if n, err := cfg.PartitionCount(topic); err != nil || n != partitions {
		t.Fatalf("PartitionCount = %d, %v; want %d", n, err, partitions)
	}
	if n, err := cfg.PartitionCount(topic + "-missing"); err != nil || n != 0 {
		t.Fatalf("PartitionCount(missing) = %d, %v; want 0, nil", n, err)
	}

	const frames = 2000
	sc := cfg.Sarama()
	producer, err := sarama.NewSyncProducer(cfg.Brokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	msgs := make([]*sarama.ProducerMessage, 0, frames)
	for i := range frames {
		key := fmt.Sprintf("u%05d", i)
		val := fmt.Sprintf(`{"ts":%d,"uid":"%019x","n":%d}`, 1468244384+i/100, i, i)
		want[key] = val
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(val)})
	}
	if err := producer.SendMessages(msgs); err != nil {
		t.Fatalf("SendMessages: %v", err)
	}
	if err := producer.Close(); err != nil {
		t.Fatal(err)
	}

	consumer, err := sarama.NewConsumer(cfg.Brokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	got := map[string]string{}
	perPartition := map[int32]int{}
	for p := range int32(partitions) {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		hw := pc.HighWaterMarkOffset()
		lastN := -1
		for off := int64(0); off < hw; off++ {
			select {
			case m := <-pc.Messages():
				var n int
				if _, err := fmt.Sscanf(string(m.Key), "u%05d", &n); err != nil {
					t.Fatalf("bad key %q", m.Key)
				}
				// Keys hash to partitions; within one, the producer's order holds.
				if n <= lastN {
					t.Errorf("partition %d: key %d after %d", p, n, lastN)
				}
				lastN = n
				got[string(m.Key)] = string(m.Value)
				perPartition[p]++
			case <-ctx.Done():
				t.Fatalf("partition %d: timed out at offset %d of %d", p, off, hw)
			}
		}
		pc.Close()
	}
	if len(got) != frames {
		t.Fatalf("read %d distinct frames, want %d", len(got), frames)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("frame %s = %q, want %q", k, got[k], v)
		}
	}
	if len(perPartition) != partitions {
		t.Errorf("frames landed in %d partitions, want all %d: %v", len(perPartition), partitions, perPartition)
	}
}
