package kafka

import (
	"fmt"
	"sort"

	"github.com/IBM/sarama"
)

// PartitionState is where one partition lives, as the controller sees it now.
type PartitionState struct {
	Partition int32
	// Leader is the broker id serving the partition, -1 while there is none.
	Leader int32
	// Replicas are the brokers assigned to it; ISR those in sync with the leader.
	Replicas, ISR []int32
}

// DescribePartitions asks the cluster where the partitions of topic live, in partition order.
func (c Config) DescribePartitions(topic string) ([]PartitionState, error) {
	admin, err := sarama.NewClusterAdmin(c.Brokers, c.Sarama())
	if err != nil {
		return nil, c.connectError(err)
	}
	defer admin.Close()
	md, err := admin.DescribeTopics([]string{topic})
	if err != nil {
		return nil, fmt.Errorf("describe topic %q: %w", topic, err)
	}
	if len(md) != 1 || md[0].Err != sarama.ErrNoError {
		if len(md) == 1 {
			return nil, fmt.Errorf("describe topic %q: %w", topic, md[0].Err)
		}
		return nil, fmt.Errorf("describe topic %q: no metadata", topic)
	}
	out := make([]PartitionState, 0, len(md[0].Partitions))
	for _, p := range md[0].Partitions {
		out = append(out, PartitionState{Partition: p.ID, Leader: p.Leader, Replicas: p.Replicas, ISR: p.Isr})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out, nil
}

// Leaders returns the leader of each partition of topic (-1: none at the moment).
func (c Config) Leaders(topic string) (map[int32]int32, error) {
	ps, err := c.DescribePartitions(topic)
	if err != nil {
		return nil, err
	}
	out := make(map[int32]int32, len(ps))
	for _, p := range ps {
		out[p.Partition] = p.Leader
	}
	return out, nil
}

// BusiestLeader returns the broker that leads most partitions of topic, and those partitions;
// a tie goes to the lowest broker id, so the answer is stable.
func (c Config) BusiestLeader(topic string) (int32, []int32, error) {
	leaders, err := c.Leaders(topic)
	if err != nil {
		return -1, nil, err
	}
	return busiest(leaders)
}

func busiest(leaders map[int32]int32) (int32, []int32, error) {
	led := map[int32][]int32{}
	for p, l := range leaders {
		if l >= 0 {
			led[l] = append(led[l], p)
		}
	}
	best := int32(-1)
	for id, ps := range led {
		if best < 0 || len(ps) > len(led[best]) || (len(ps) == len(led[best]) && id < best) {
			best = id
		}
	}
	if best < 0 {
		return -1, nil, fmt.Errorf("no partition has a leader")
	}
	ps := led[best]
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return best, ps, nil
}
