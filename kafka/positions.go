package kafka

import (
	"fmt"

	"github.com/IBM/sarama"
)

// Positions reads how far a consumer group is in a topic: per partition, the high-water mark
// (the offset the next record will get) and the group's committed offset (-1 if none). Stage 1
// uses it to tell an input partition that is idle (read to its end, no new frames) from one
// that merely has not been read lately (a rebalance pause, a slow start): only the first may
// stop holding windows open.
type Positions struct {
	client sarama.Client
	admin  sarama.ClusterAdmin
}

// NewPositions connects a client and an admin for Positions.Get.
func (c Config) NewPositions() (*Positions, error) {
	client, err := sarama.NewClient(c.Brokers, c.Sarama())
	if err != nil {
		return nil, c.connectError(err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("admin: %w", err)
	}
	return &Positions{client: client, admin: admin}, nil
}

// Get returns the high-water marks of topic's partitions and group's committed offsets there.
func (p *Positions) Get(group, topic string, partitions []int32) (hwm, committed map[int32]int64, err error) {
	hwm = make(map[int32]int64, len(partitions))
	for _, part := range partitions {
		off, err := p.client.GetOffset(topic, part, sarama.OffsetNewest)
		if err != nil {
			return nil, nil, fmt.Errorf("high-water mark of %s/%d: %w", topic, part, err)
		}
		hwm[part] = off
	}
	resp, err := p.admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: partitions})
	if err != nil {
		return nil, nil, fmt.Errorf("offsets of group %s: %w", group, err)
	}
	committed = make(map[int32]int64, len(partitions))
	for _, part := range partitions {
		committed[part] = -1
		if b := resp.GetBlock(topic, part); b != nil && b.Err == sarama.ErrNoError {
			committed[part] = b.Offset
		}
	}
	return hwm, committed, nil
}

// Close closes the admin and its client.
func (p *Positions) Close() error { return p.admin.Close() }
