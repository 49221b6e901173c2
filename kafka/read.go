package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// Record is one record read back from a topic.
type Record struct {
	Partition int32
	Offset    int64
	Key       string
	Value     []byte // nil for a tombstone
	Headers   map[string][]byte
	Timestamp time.Time
}

// Header returns the value of header name, "" if the record has none.
func (r Record) Header(name string) string { return string(r.Headers[name]) }

// ReadAll reads every record of topic that exists now (up to each partition's high-water
// mark), partition by partition in offset order.
func (cfg Config) ReadAll(topic string) ([]Record, error) {
	var out []Record
	err := cfg.Scan(context.Background(), topic, ScanFrom{}, func(r Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// ScanFrom says where Scan starts in each partition.
type ScanFrom struct {
	// Since, if set, skips records older than it (by the records' timestamps).
	Since time.Time
	// Last, if > 0, reads at most the last Last records of each partition.
	Last int64
}

// ErrStopScan, returned by a Scan callback, ends the scan without an error.
var ErrStopScan = errors.New("kafka: stop scanning")

// Scan calls fn with every record of topic that exists now (up to each partition's high-water
// mark when the scan reaches it), partition by partition in offset order, without holding
// them: a topic of any size is read in constant memory.
func (cfg Config) Scan(ctx context.Context, topic string, from ScanFrom, fn func(Record) error) error {
	client, err := sarama.NewClient(cfg.Brokers, cfg.Sarama())
	if err != nil {
		return cfg.connectError(err)
	}
	defer client.Close()
	c, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return err
	}
	defer c.Close()
	ps, err := c.Partitions(topic)
	if err != nil {
		return fmt.Errorf("partitions of %s: %w", topic, err)
	}
	for _, p := range ps {
		hw, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return fmt.Errorf("high-water mark of %s/%d: %w", topic, p, err)
		}
		start, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("oldest offset of %s/%d: %w", topic, p, err)
		}
		if from.Last > 0 {
			start = max(start, hw-from.Last)
		}
		if !from.Since.IsZero() {
			off, err := client.GetOffset(topic, p, from.Since.UnixMilli())
			if err != nil {
				return fmt.Errorf("offset of %s/%d at %v: %w", topic, p, from.Since, err)
			}
			if off < 0 { // nothing as new as Since
				off = hw
			}
			start = max(start, off)
		}
		if start >= hw {
			continue
		}
		if err := scanPartition(ctx, c, topic, p, start, hw, fn); err != nil {
			if errors.Is(err, ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}

func scanPartition(ctx context.Context, c sarama.Consumer, topic string, p int32, start, hw int64, fn func(Record) error) error {
	pc, err := c.ConsumePartition(topic, p, start)
	if err != nil {
		return err
	}
	defer pc.Close()
	for off := start - 1; off < hw-1; {
		select {
		case m := <-pc.Messages():
			off = m.Offset
			r := Record{Partition: p, Offset: m.Offset, Key: string(m.Key), Value: m.Value, Timestamp: m.Timestamp}
			if len(m.Headers) > 0 {
				r.Headers = make(map[string][]byte, len(m.Headers))
				for _, h := range m.Headers {
					r.Headers[string(h.Key)] = h.Value
				}
			}
			if err := fn(r); err != nil {
				return err
			}
		case err := <-pc.Errors():
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s/%d: no record after offset %d of %d for 30 s", topic, p, off, hw)
		}
	}
	return nil
}
