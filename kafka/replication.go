package kafka

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// MaxDefaultReplication is the replication factor kuniq picks on a cluster of that many brokers
// or more: three copies survive one broker failure with min.insync.replicas 2 and keep writing.
const MaxDefaultReplication = 3

// ErrReplication is returned, wrapped, when a topic cannot get the replication asked for: more
// replicas than brokers, or a min.insync.replicas above the replication factor.
var ErrReplication = errors.New("kafka: replication")

// DefaultReplication is the replication factor of a new topic on a cluster of brokers brokers
// when Config.Replication is 0: min(3, brokers), at least 1.
func DefaultReplication(brokers int) int {
	return max(1, min(MaxDefaultReplication, brokers))
}

// replication decides the replication factor and min.insync.replicas (0: the broker's default)
// of a topic created on a cluster of brokers brokers.
func (c Config) replication(brokers int) (rf, minISR int, err error) {
	rf = c.Replication
	if rf <= 0 {
		rf = DefaultReplication(brokers)
	}
	if rf > brokers {
		return 0, 0, fmt.Errorf("%w: %d replicas on a cluster of %d brokers", ErrReplication, rf, brokers)
	}
	minISR = c.MinInsyncReplicas
	if minISR == 0 && rf >= 3 {
		minISR = 2
	}
	if minISR > rf {
		return 0, 0, fmt.Errorf("%w: min.insync.replicas %d > %d replicas: no write with acks=all could succeed", ErrReplication, minISR, rf)
	}
	return rf, minISR, nil
}

// clusterReplication asks the cluster for its broker count and returns replication's answer.
func (c Config) clusterReplication(admin sarama.ClusterAdmin) (rf, minISR int, err error) {
	brokers, _, err := admin.DescribeCluster()
	if err != nil {
		return 0, 0, fmt.Errorf("describe cluster: %w", err)
	}
	return c.replication(len(brokers))
}

// topicConfig is the configuration of a new topic t with min.insync.replicas minISR (0: none).
func (c Config) topicConfig(t Topic, minISR int) map[string]*string {
	policy, retention := "delete", RetentionMS(t.Retention)
	if t.Compact {
		policy = "compact"
	}
	cfg := map[string]*string{
		"cleanup.policy": &policy,
		"retention.ms":   &retention,
	}
	if minISR > 0 {
		v := strconv.Itoa(minISR)
		cfg["min.insync.replicas"] = &v
	}
	return cfg
}

// topicManager is Goka's topic manager with kuniq's rules for the two topics Goka ensures
// itself (a processor's loop stream and group table): a missing one is created by EnsureTopics
// (replication from the cluster's size, min.insync.replicas, retention), and an existing one is
// checked by Goka (partitions, cleanup policy, retention) against its own replication factor,
// which kuniq never changes. Goka alone would expect one fixed factor everywhere and refuse to
// start on a topic created when the cluster was smaller.
type topicManager struct {
	goka.TopicManager
	cfg Config
}

func (m *topicManager) EnsureTableExists(topic string, npar int) error {
	rf, err := m.cfg.ensureTopicsNow([]Topic{{Name: topic, Partitions: npar, Compact: true}})
	if err != nil {
		return err
	}
	return m.TopicManager.EnsureTopicExists(topic, npar, rf[topic], map[string]string{"cleanup.policy": "compact"})
}

func (m *topicManager) EnsureStreamExists(topic string, npar int) error {
	t := Topic{Name: topic, Partitions: npar, Retention: m.cfg.StreamRetention}
	rf, err := m.cfg.ensureTopicsNow([]Topic{t})
	if err != nil {
		return err
	}
	return m.TopicManager.EnsureTopicExists(topic, npar, rf[topic], map[string]string{
		"cleanup.policy": "delete",
		"retention.ms":   RetentionMS(t.Retention),
	})
}
