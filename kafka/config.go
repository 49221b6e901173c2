package kafka

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// DefaultVersion is the Kafka protocol version kuniq announces. The development broker is
// Apache Kafka 4.1.2 (scripts/kafka/pom.xml); 3.9 is a version both it and sarama v1.46.3 know,
// and it keeps kuniq usable against 3.x clusters still in the field. See docs/kafka.md.
var DefaultVersion = sarama.V3_9_0_0

// MaxMessageBytes is the largest record kuniq's producers send (the dev broker accepts 10 MiB).
const MaxMessageBytes = 8 << 20

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 10 * time.Second

// DefaultBrokers is where kuniq looks for Kafka when neither --brokers nor KUNIQ_BROKERS is set.
const DefaultBrokers = "127.0.0.1:9092"

// Config says how to reach the cluster and how kuniq's topics are laid out on it.
type Config struct {
	Brokers []string
	// Version is the protocol version announced to the brokers.
	Version sarama.KafkaVersion
	// Replication is the replication factor of the topics kuniq creates. 0 (the default) picks
	// min(3, brokers in the cluster) when a topic is created: 1 on a development broker, 3 on a
	// cluster of three or more. Existing topics keep theirs.
	Replication int
	// MinInsyncReplicas is the min.insync.replicas of the topics kuniq creates: with acks=all a
	// write succeeds only once this many replicas have it. 0 (the default) sets 2 on topics with
	// 3 or more replicas (one broker may fail without stopping writes or losing an
	// acknowledged record) and leaves the broker's default on smaller ones.
	MinInsyncReplicas int
	// StreamRetention is the retention of stream topics kuniq creates (the input, partials,
	// dead letters). History replay needs the input kept: 0 (the default) keeps it forever.
	StreamRetention time.Duration
	// ClientID names the connection in broker logs and quotas.
	ClientID string
	// Timeout bounds every request kuniq makes of a broker: dialing, each response, metadata
	// and admin calls. A broker that accepts connections but never answers is an error after
	// it, not a hang. (Consumer groups wait longer for a response: see GroupSarama.)
	Timeout time.Duration
	// Security is TLS and SASL; the zero value is PLAINTEXT.
	Security Security
}

// DefaultConfig returns the settings for the single-node development broker.
func DefaultConfig() Config {
	return Config{
		Brokers:         []string{DefaultBrokers},
		Version:         DefaultVersion,
		Replication:     0,
		StreamRetention: 0,
		ClientID:        "kuniq",
		Timeout:         DefaultTimeout,
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	if c.Replication < 0 {
		errs = append(errs, fmt.Errorf("replication %d < 0: use 0 for min(3, brokers)", c.Replication))
	}
	if c.MinInsyncReplicas < 0 {
		errs = append(errs, fmt.Errorf("min.insync.replicas %d < 0: use 0 for the default", c.MinInsyncReplicas))
	}
	if c.Replication > 0 && c.MinInsyncReplicas > c.Replication {
		errs = append(errs, fmt.Errorf("min.insync.replicas %d > replication %d: no write could succeed", c.MinInsyncReplicas, c.Replication))
	}
	if err := c.Security.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %v must be > 0", c.Timeout))
	}
	if c.StreamRetention < 0 {
		errs = append(errs, fmt.Errorf("stream retention %v < 0: use 0 for forever", c.StreamRetention))
	}
	return errors.Join(errs...)
}

// ParseBrokers splits a comma list ("a:9092, b:9092") into addresses.
func ParseBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// String describes the settings, without the password: brokers, replication and security.
func (c Config) String() string {
	rf := "min(3, brokers)"
	if c.Replication > 0 {
		rf = fmt.Sprint(c.Replication)
	}
	return fmt.Sprintf("brokers %s, replication %s, %s", strings.Join(c.Brokers, ","), rf, c.Security)
}

// Sarama returns the client configuration every kuniq component uses. It starts from Goka's
// defaults (copartitioning rebalance strategy, producer flushing) and changes only what kuniq
// needs: an explicit protocol version, new consumer groups start at the oldest offset (a new
// group replays history instead of skipping it), lz4 batches (frames compress ~7.5×), acks from
// every in-sync replica, and the Security settings.
func (c Config) Sarama() *sarama.Config {
	sc := goka.DefaultConfig()
	sc.Version = c.Version
	if sc.Version == (sarama.KafkaVersion{}) {
		sc.Version = DefaultVersion
	}
	if c.ClientID != "" {
		sc.ClientID = c.ClientID
	}
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	sc.Producer.Compression = sarama.CompressionLZ4
	// acks=all: a record counts as written only once every in-sync replica has it, so losing
	// the leader right after an acknowledgement loses nothing (Goka's default waits for the
	// leader alone). Together with min.insync.replicas 2 on a replicated topic this is what
	// makes stage 1's "commit only what is durable downstream" hold across a broker failure.
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.MaxMessageBytes = MaxMessageBytes
	// Stage 1 waits for its partials to be acknowledged before it releases commits, and stage 2
	// commits after its emits are acknowledged: Goka's 100 ms linger would add up on every
	// round trip. Batches still fill to Flush.Bytes under load.
	sc.Producer.Flush.Frequency = 20 * time.Millisecond
	sc.Consumer.Fetch.Default = 4 << 20
	// kuniq creates its topics; a request for a missing one must not create it with defaults.
	sc.Metadata.AllowAutoTopicCreation = false
	sc.Metadata.Retry.Max = 10
	sc.Metadata.Retry.Backoff = 500 * time.Millisecond
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	sc.Net.DialTimeout, sc.Net.ReadTimeout, sc.Net.WriteTimeout = timeout, timeout, timeout
	sc.Admin.Timeout = timeout
	sc.Metadata.Timeout = timeout
	// One request in flight per broker: a batch retried after a failure is then never written
	// behind a later one. For a changelog that matters: an older row state landing after a
	// newer one would be what a recovering table reads.
	sc.Net.MaxOpenRequests = 1
	// Producers ride out a leader election or a short broker restart themselves (~17 s of
	// retries, doubling from 100 ms up to 2 s); longer outages are retried by their callers.
	sc.Producer.Retry.Max = 12
	sc.Producer.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		return min(100*time.Millisecond<<min(retries, 5), 2*time.Second)
	}
	c.Security.apply(sc, c.Brokers)
	return sc
}

// GroupSarama is Sarama() for consumer groups. A JoinGroup request is answered only when the
// rebalance completes, which may take up to the rebalance timeout: the response deadline of a
// group's connections covers it.
func (c Config) GroupSarama() *sarama.Config {
	sc := c.Sarama()
	sc.Net.ReadTimeout = sc.Consumer.Group.Rebalance.Timeout + sc.Net.ReadTimeout
	return sc
}

// TopicManager returns Goka's topic manager settings for this cluster: our replication factor
// for tables and streams, and our stream retention instead of Goka's 1 h. With Replication 0
// the factor here is -1 (the broker's default.replication.factor); TopicManagerBuilder's
// manager decides it per topic instead (see topicManager).
func (c Config) TopicManager() *goka.TopicManagerConfig {
	tm := goka.NewTopicManagerConfig()
	rf := c.Replication
	if rf <= 0 {
		rf = -1
	}
	tm.Table.Replication = rf
	tm.Stream.Replication = rf
	tm.Stream.Retention = c.StreamRetention
	if c.StreamRetention <= 0 {
		// Goka writes retention.ms = Retention.Milliseconds(); Kafka reads -1 as "forever".
		tm.Stream.Retention = -time.Millisecond
	}
	// A table whose partition count disagrees with its input silently breaks copartitioning:
	// refuse to start instead.
	tm.MismatchBehavior = goka.TMConfigMismatchBehaviorFail
	return tm
}

// TopicManagerBuilder plugs TopicManager and a fresh Sarama config into Goka's builders. The
// manager creates missing tables and streams as EnsureTopics does (replication, min.insync)
// and accepts an existing topic's replication factor.
func (c Config) TopicManagerBuilder() goka.TopicManagerBuilder {
	return func(brokers []string) (goka.TopicManager, error) {
		tm, err := goka.TopicManagerBuilderWithConfig(c.Sarama(), c.TopicManager())(brokers)
		if err != nil {
			return nil, err
		}
		kc := c
		kc.Brokers = brokers
		return &topicManager{TopicManager: tm, cfg: kc}, nil
	}
}

// RetentionMS is the retention.ms topic setting for a retention where 0 means forever.
func RetentionMS(d time.Duration) string {
	if d <= 0 {
		return "-1"
	}
	return fmt.Sprint(d.Milliseconds())
}
