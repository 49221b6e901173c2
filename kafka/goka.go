package kafka

import (
	"hash"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// Goka's ...WithConfig builders write ClientID (and the partitioner) into the config they
// were given, so one config shared by several builders is a data race (docs/goka-notes.md
// §1.1). These builders make a fresh sarama.Config on every call.

// ProducerBuilder builds Goka producers from Sarama().
func (c Config) ProducerBuilder() goka.ProducerBuilder { return producerBuilder(c.Sarama) }

// producerBuilder builds Goka producers from a fresh config of newConfig each.
func producerBuilder(newConfig func() *sarama.Config) goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		return goka.ProducerBuilderWithConfig(newConfig())(brokers, clientID, hasher)
	}
}

// ConsumerGroupBuilder builds Goka's consumer groups from Sarama().
func (c Config) ConsumerGroupBuilder() goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		return goka.ConsumerGroupBuilderWithConfig(c.GroupSarama())(brokers, group, clientID)
	}
}

// ConsumerBuilder builds Goka's plain consumers (table recovery, views) from Sarama().
func (c Config) ConsumerBuilder() goka.SaramaConsumerBuilder {
	return func(brokers []string, clientID string) (sarama.Consumer, error) {
		return goka.SaramaConsumerBuilderWithConfig(c.Sarama())(brokers, clientID)
	}
}

// ProcessorOptions are the options every kuniq processor gets: our client config everywhere.
func (c Config) ProcessorOptions() []goka.ProcessorOption {
	return []goka.ProcessorOption{
		goka.WithConsumerGroupBuilder(c.ConsumerGroupBuilder()),
		goka.WithConsumerSaramaBuilder(c.ConsumerBuilder()),
		goka.WithProducerBuilder(c.ProducerBuilder()),
		goka.WithTopicManagerBuilder(c.TopicManagerBuilder()),
	}
}

// EmitterOptions are the options every kuniq emitter gets.
func (c Config) EmitterOptions() []goka.EmitterOption {
	return []goka.EmitterOption{
		goka.WithEmitterProducerBuilder(c.ProducerBuilder()),
		goka.WithEmitterTopicManagerBuilder(c.TopicManagerBuilder()),
	}
}

// BatchLinger is how long a batch emitter's producer lingers before it sends.
const BatchLinger = time.Millisecond

// BatchEmitterOptions are EmitterOptions for a caller that emits a whole batch at once and
// then waits for its acknowledgements, as stage 1's flusher does twice per flush (partials,
// then marks): nothing more comes while it waits, so the 20 ms linger of Sarama() would only
// delay every flush, and a hot partition's reading waits on its flushes. Measured on one
// partition of protobuf frames: 1 ms took stage 1 from 0.50 to 0.65-0.74 of a bare consumer
// (docs/performance.md §3). It is not 0: Goka's defaults, which Sarama() keeps, also set
// Flush.Bytes (64 KiB), and with no linger Sarama then sends only once that many bytes wait,
// so a flush's few small records would wait for ever (seen once here: the first flush hung).
func (c Config) BatchEmitterOptions() []goka.EmitterOption {
	return []goka.EmitterOption{
		goka.WithEmitterProducerBuilder(producerBuilder(c.batchSarama)),
		goka.WithEmitterTopicManagerBuilder(c.TopicManagerBuilder()),
	}
}

// batchSarama is Sarama() with BatchLinger.
func (c Config) batchSarama() *sarama.Config {
	sc := c.Sarama()
	sc.Producer.Flush.Frequency = BatchLinger
	return sc
}
