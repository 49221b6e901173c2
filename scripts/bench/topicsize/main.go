package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "topicsize:", err)
		os.Exit(1)
	}
}

// size is what one pass over a topic found.
type size struct {
	records, bytes, tombstones int64
	newest                     map[string]int // key -> size of its newest value, -1 tombstone
}

// add accounts one record; value nil is a tombstone.
func (s *size) add(key, value []byte) {
	s.records++
	s.bytes += int64(len(key) + len(value))
	if value == nil {
		s.tombstones++
		s.newest[string(key)] = -1
		return
	}
	s.newest[string(key)] = len(value)
}

// live returns the keys a fully compacted topic keeps and their values' bytes.
func (s *size) live() (keys int, bytes int64) {
	for _, n := range s.newest {
		if n >= 0 {
			keys++
			bytes += int64(n)
		}
	}
	return keys, bytes
}

func run() error {
	brokers := flag.String("brokers", kafka.DefaultBrokers, "comma-separated brokers")
	topic := flag.String("topic", "", "topic to measure")
	flag.Parse()
	if *topic == "" {
		return errors.New("-topic is required")
	}
	kc := kafka.DefaultConfig()
	kc.Brokers = kafka.ParseBrokers(*brokers)
	c, err := sarama.NewConsumer(kc.Brokers, kc.Sarama())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	parts, err := c.Partitions(*topic)
	if err != nil {
		return fmt.Errorf("partitions of %s: %w", *topic, err)
	}
	s := size{newest: map[string]int{}}
	for _, p := range parts {
		pc, err := c.ConsumePartition(*topic, p, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("consume %s/%d: %w", *topic, p, err)
		}
		hw := pc.HighWaterMarkOffset()
		for off := int64(-1); off < hw-1; {
			select {
			case m := <-pc.Messages():
				off = m.Offset
				s.add(m.Key, m.Value)
			case err := <-pc.Errors():
				pc.Close()
				return fmt.Errorf("read %s/%d: %w", *topic, p, err)
			case <-time.After(30 * time.Second):
				pc.Close()
				// A compacted topic may end in offsets that no longer exist; what was read is it.
				fmt.Fprintf(os.Stderr, "topicsize: %s/%d: nothing after offset %d of %d for 30 s; stopping there\n", *topic, p, off, hw)
				off = hw
			}
		}
		pc.Close()
	}
	keys, liveBytes := s.live()
	fmt.Printf("topicsize: %s: %d records (%d tombstones), %.1f MB of keys+values; %d keys, %d live keys with %.1f MB of newest values\n",
		*topic, s.records, s.tombstones, float64(s.bytes)/1e6, len(s.newest), keys, float64(liveBytes)/1e6)
	fmt.Printf("RESULT records=%d bytes=%d tombstones=%d keys=%d live_keys=%d live_bytes=%d\n",
		s.records, s.bytes, s.tombstones, len(s.newest), keys, liveBytes)
	return nil
}
