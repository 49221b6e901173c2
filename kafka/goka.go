package kafka

import (
	"hash"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// Goka's ...WithConfig builders write ClientID (and the partitioner) into the config they
// were given, so one config shared by several builders is a data race (docs/goka-notes.md
// §1.1). These builders make a fresh sarama.Config on every call.

// ProducerBuilder builds Goka producers from Sarama().
func (c Config) ProducerBuilder() goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		return goka.ProducerBuilderWithConfig(c.Sarama())(brokers, clientID, hasher)
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
