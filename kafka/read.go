package kafka

import (
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
	Timestamp time.Time
}

// ReadAll reads every record of topic that exists now (up to each partition's high-water
// mark), partition by partition in offset order.
func (cfg Config) ReadAll(topic string) ([]Record, error) {
	c, err := sarama.NewConsumer(cfg.Brokers, cfg.Sarama())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ps, err := c.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	var out []Record
	for _, p := range ps {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, err
		}
		hw := pc.HighWaterMarkOffset()
		for off := int64(-1); off < hw-1; {
			select {
			case m := <-pc.Messages():
				off = m.Offset
				out = append(out, Record{Partition: p, Offset: m.Offset, Key: string(m.Key), Value: m.Value, Timestamp: m.Timestamp})
			case err := <-pc.Errors():
				pc.Close()
				return nil, err
			case <-time.After(30 * time.Second):
				pc.Close()
				return nil, fmt.Errorf("%s/%d: no record after offset %d of %d for 30 s", topic, p, off, hw)
			}
		}
		pc.Close()
	}
	return out, nil
}
