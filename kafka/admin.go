package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// ErrPartitionMismatch is returned, wrapped, when a topic exists with a partition count other
// than the one asked for: kuniq's tables are copartitioned with their input, so a silent
// difference would route windows to the wrong table partition.
var ErrPartitionMismatch = errors.New("kafka: partition count mismatch")

// Topic describes a topic kuniq creates when it is missing.
type Topic struct {
	Name       string
	Partitions int
	// Compact makes the topic a table: Kafka keeps the newest record per key.
	Compact bool
	// Retention applies to non-compacted topics; 0 keeps records forever.
	Retention time.Duration
}

// EnsureTopics creates the missing topics and checks the partition count of existing ones. New
// topics get the replication factor and min.insync.replicas of Config.Replication and
// Config.MinInsyncReplicas (by default min(3, brokers) and 2 from 3 replicas on); existing
// topics keep theirs.
func (c Config) EnsureTopics(topics ...Topic) error {
	_, err := c.ensureTopics(context.Background(), topics)
	return err
}

// EnsureTopicsContext is EnsureTopics, given up when ctx ends.
func (c Config) EnsureTopicsContext(ctx context.Context, topics ...Topic) error {
	_, err := c.ensureTopics(ctx, topics)
	return err
}

// ensureTopics is EnsureTopics that also returns each topic's replication factor.
func (c Config) ensureTopics(ctx context.Context, topics []Topic) (map[string]int, error) {
	return call(ctx, func() (map[string]int, error) { return c.ensureTopicsNow(topics) })
}

func (c Config) ensureTopicsNow(topics []Topic) (map[string]int, error) {
	admin, err := sarama.NewClusterAdmin(c.Brokers, c.Sarama())
	if err != nil {
		return nil, c.connectError(err)
	}
	defer admin.Close()
	existing, err := admin.ListTopics()
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var errs []error
	var created []string
	replicas := make(map[string]int, len(topics))
	rf, minISR := 0, 0 // decided at the first topic to create
	for _, t := range topics {
		if d, ok := existing[t.Name]; ok {
			replicas[t.Name] = int(d.ReplicationFactor)
			if t.Partitions > 0 && int(d.NumPartitions) != t.Partitions {
				errs = append(errs, fmt.Errorf("topic %q has %d partitions, want %d: %w",
					t.Name, d.NumPartitions, t.Partitions, ErrPartitionMismatch))
			}
			continue
		}
		if rf == 0 {
			if rf, minISR, err = c.clusterReplication(admin); err != nil {
				return nil, fmt.Errorf("create topic %q: %w", t.Name, err)
			}
		}
		detail := &sarama.TopicDetail{
			NumPartitions:     int32(t.Partitions),
			ReplicationFactor: int16(rf),
			ConfigEntries:     c.topicConfig(t, minISR),
		}
		err := admin.CreateTopic(t.Name, detail, false)
		if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %q (replication %d): %w", t.Name, rf, err))
			continue
		}
		replicas[t.Name] = rf
		created = append(created, t.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return replicas, c.waitVisible(created)
}

// waitVisible waits until the broker's metadata lists every topic with a leader for each of its
// partitions: CreateTopics returns before KRaft propagates a new topic to the broker's metadata
// cache and elects its leaders. Goka's topic manager, asking a moment later, would try to
// create the topic again; a producer's first batch would fail with "not the leader" and its
// retry land behind later batches, out of the partition's order.
func (c Config) waitVisible(topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	return c.WaitWritable(topics...)
}

// WaitWritable waits (up to 30 s) until every partition of every topic has a leader in the
// broker's metadata. Call it before producing into a topic that may have just been created.
func (c Config) WaitWritable(topics ...string) error {
	client, err := sarama.NewClient(c.Brokers, c.Sarama())
	if err != nil {
		return c.connectError(err)
	}
	defer client.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing := ""
		if err := client.RefreshMetadata(topics...); err != nil {
			missing = err.Error()
		}
		for _, t := range topics {
			if missing != "" {
				break
			}
			ps, err := client.Partitions(t)
			if err != nil || len(ps) == 0 {
				missing = t
				break
			}
			for _, p := range ps {
				// The metadata can name a leader before that broker serves the partition:
				// ListOffsets goes to the leader itself and fails until it does.
				if _, err := client.GetOffset(t, p, sarama.OffsetNewest); err != nil {
					missing = fmt.Sprintf("%s/%d (%v)", t, p, err)
					client.RefreshMetadata(t)
					break
				}
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s has no leader in the broker's metadata after 30 s", missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PartitionCount returns the number of partitions of a topic, or 0 if it does not exist. It
// lists the topics instead of asking for the one, so a missing topic is answered at once (a
// metadata request for it would be retried for seconds).
func (c Config) PartitionCount(topic string) (int, error) {
	return c.PartitionCountContext(context.Background(), topic)
}

// PartitionCountContext is PartitionCount, given up when ctx ends.
func (c Config) PartitionCountContext(ctx context.Context, topic string) (int, error) {
	return call(ctx, func() (int, error) { return c.partitionCount(topic) })
}

func (c Config) partitionCount(topic string) (int, error) {
	admin, err := sarama.NewClusterAdmin(c.Brokers, c.Sarama())
	if err != nil {
		return 0, c.connectError(err)
	}
	defer admin.Close()
	topics, err := admin.ListTopics()
	if err != nil {
		return 0, fmt.Errorf("list topics: %w", err)
	}
	return int(topics[topic].NumPartitions), nil
}

// WaitReady returns once a broker answers a metadata request, or when ctx ends. It is how
// scripts and tests know the broker is up, not merely that its port is open. An error no wait
// can cure (Permanent: wrong credentials, an untrusted certificate) returns at once.
func (c Config) WaitReady(ctx context.Context) error {
	sc := c.Sarama()
	sc.Net.DialTimeout = time.Second
	sc.Metadata.Retry.Max = 0
	var last error
	for {
		client, err := sarama.NewClient(c.Brokers, sc)
		if err == nil {
			var b *sarama.Broker
			b, err = client.Controller()
			if err == nil && b != nil {
				_, err = client.Topics()
			}
			client.Close()
			if err == nil {
				return nil
			}
		}
		if Permanent(err) {
			return fmt.Errorf("kafka at %v: %w", c.Brokers, err)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka at %v not ready: %w (last error: %v)", c.Brokers, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Permanent reports whether err is one that retrying cannot fix, because the settings are
// wrong: the brokers rejected the SASL credentials or mechanism, a broker's certificate is not
// trusted, the TLS handshake was refused, or the TLS files are unusable. A caller that rides
// out broker outages should still stop on these, and say why.
func Permanent(err error) bool {
	for _, target := range []error{
		sarama.ErrSASLAuthenticationFailed,
		sarama.ErrUnsupportedSASLMechanism,
		sarama.ErrIllegalSASLState,
		sarama.ErrClusterAuthorizationFailed,
		ErrUntrusted,
		ErrTLSHandshake,
		ErrTLSFiles,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// GroupOffsets returns, for every partition of topics (keyed "topic/partition"), its
// high-water mark and group's committed offset there (0 if none), given up when ctx ends.
func (c Config) GroupOffsets(ctx context.Context, group string, topics ...string) (hw, committed map[string]int64, err error) {
	type result struct{ hw, committed map[string]int64 }
	r, err := call(ctx, func() (result, error) {
		client, err := sarama.NewClient(c.Brokers, c.Sarama())
		if err != nil {
			return result{}, c.connectError(err)
		}
		defer client.Close()
		admin, err := sarama.NewClusterAdminFromClient(client)
		if err != nil {
			return result{}, err
		}
		parts := map[string][]int32{}
		for _, t := range topics {
			ps, err := client.Partitions(t)
			if err != nil {
				return result{}, fmt.Errorf("partitions of %s: %w", t, err)
			}
			parts[t] = ps
		}
		resp, err := admin.ListConsumerGroupOffsets(group, parts)
		if err != nil {
			return result{}, fmt.Errorf("offsets of group %s: %w", group, err)
		}
		out := result{hw: map[string]int64{}, committed: map[string]int64{}}
		for t, ps := range parts {
			for _, p := range ps {
				k := fmt.Sprintf("%s/%d", t, p)
				if out.hw[k], err = client.GetOffset(t, p, sarama.OffsetNewest); err != nil {
					return result{}, fmt.Errorf("high-water mark of %s: %w", k, err)
				}
				if b := resp.GetBlock(t, p); b != nil && b.Err == sarama.ErrNoError && b.Offset > 0 {
					out.committed[k] = b.Offset
				}
			}
		}
		return out, nil
	})
	return r.hw, r.committed, err
}
